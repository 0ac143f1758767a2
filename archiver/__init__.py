"""defense.gov news archiver: a Scrapy project writing a WARC/1.1 archive and cleaned JSON records.

Code map (docs/code-map.md has the same, with the old paths kept for one release):

| package / module | what is there |
|---|---|
| ``settings`` | every Scrapy and ``ARCHIVER_*`` / ``WARC_*`` setting, with its default |
| ``addon`` | the add-on laying out the output folder from ``ARCHIVER_OUT_DIR`` |
| ``cli``, ``__main__`` | the ``archiver`` command |
| ``items`` | ``ArticleItem`` and its parts: plain data |
| ``site`` | what the archiver knows of defense.gov's URLs and sections |
| ``signals``, ``exceptions`` | the archiver's own Scrapy signals and exceptions |
| ``_moved`` | old import paths of moved modules (one release) |
| ``downloadermiddlewares/`` | the Scrapy downloader middlewares, one per module |
| ``extensions/`` | the Scrapy extensions (report, progress, GC, shutdown) and the feed storage |
| ``runtime/`` | one crawl's life: output folder, lock, state, dataset, extraction pool, preflight |
| ``extract/`` | framework-free extraction: url + bytes + headers → article item; listing pages |
| ``warc/`` | the raw archive: writer, middleware, records, revisits, CDXJ/WACZ, Content-Encoding |
| ``requisites/`` | page requisites (stylesheets, scripts, images) archived with each page |
| ``offline/`` | work on a finished crawl: re-extraction, verification, exports, stats |
| ``harvest/`` | harvests of web archives (Wayback Machine, Common Crawl) |
| ``distributed/`` | several workers sharing one crawl through Redis |
| ``replica/`` | the local replica of defense.gov the tests and the demo crawl |

Beside it: ``spiders/`` (one per discovery strategy; ``spiders/base.py`` what they share) and
``pipelines/`` (the cleaning pipelines, ``pipelines/chain.py`` to run them in plain Python).
"""

from archiver import _moved

_moved.install()
