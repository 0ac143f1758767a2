"""``archiver harvest``: defense.gov's history from web archives (docs/harvest.md).

The pieces, one role per module, in the order a harvest uses them:

- :mod:`~archiver.harvest.urlspaces`: the news URL spaces of every era and host to ask for;
- :mod:`~archiver.harvest.sources`: one small CDX client per kind of archive (Wayback Machine,
  Common Crawl, any pywb collection): query URLs, paging, parsing a page of results, the raw-capture
  request;
- :mod:`~archiver.harvest.captures`: a listed capture as plain data, its article key;
- :mod:`~archiver.harvest.state`: the listed captures and the CDX paging cursors in ``state.sqlite``
  (never all in memory; ``--resume`` and the next harvest go on from there);
- :mod:`~archiver.harvest.records`: a fetched capture as WARC records under its original URL and time,
  with its provenance;
- :mod:`~archiver.harvest.middleware`: the WARC middleware of a harvest (writes those records,
  follows archived redirects, checks Range answers).

The spider (``spiders/harvest.py``) only drives them.
"""
