"""Scrapy settings of the archiver: one place for every default (see docs/settings.md).

Our own settings are namespaced ``ARCHIVER_*`` (crawl behaviour, output) and ``WARC_*`` (the raw
archive). Defaults are polite for the real site; ``archiver demo`` lifts delays for the local
replica only.
"""

from __future__ import annotations

from archiver.items import EXPORT_FIELDS as _article_fields
from archiver.requisites.policy import DEFAULT_IGNORE as _requisites_ignored
from pipelines.chain import PIPELINE_ORDER as _cleaning_pipelines  # lower case: not a setting

BOT_NAME = "archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
ADDONS = {"archiver.addon.OutputLayout": 0, "archiver.distributed.addon.DistributedCrawl": 10}

# -- what and where ---------------------------------------------------------------------------------
#: site to crawl (scheme + host); the real site by default
ARCHIVER_SITE = "https://www.defense.gov"
#: output folder: warc/, indexes/, articles.jsonl, changes.jsonl, report.json, failures.jsonl (empty: none)
ARCHIVER_OUT_DIR = ""
#: hosts the crawl may fetch from besides the site's own host
ARCHIVER_SITE_HOSTS = ["defense.gov", "war.gov", "archive.defense.gov"]
#: also archive the full-size photos of every article (from media.defense.gov)
ARCHIVER_IMAGES = False
#: build a WACZ (archive.wacz with pages.jsonl) when the crawl ends
ARCHIVER_WACZ = True
#: archive each page's requisites (stylesheets, scripts, fonts, displayed images, favicon) so that
#: the archive replays the page as it looked (`--no-requisites`: off; docs/replay.md)
ARCHIVER_REQUISITES = True
#: ask requisites an earlier run archived with If-None-Match / If-Modified-Since (a 304 becomes a
#: server-not-modified revisit); off: in full, unchanged ones archived as identical-payload revisits
ARCHIVER_REQUISITES_CONDITIONAL = True
#: hosts requisites may come from besides the site's host and ARCHIVER_SITE_HOSTS (a CDN, say)
ARCHIVER_REQUISITES_HOSTS: list[str] = []
#: URL patterns (regular expressions) of requisites never fetched: trackers and analytics
ARCHIVER_REQUISITES_IGNORE = list(_requisites_ignored)
#: seconds between progress lines (0: none); lines go to stderr
ARCHIVER_PROGRESS_INTERVAL = 0.0

# -- incremental crawls ----------------------------------------------------------------------------
#: keep crawl state (SQLite) and emit only new/updated articles on later runs into the same state
ARCHIVER_INCREMENTAL = True
#: state database (empty: <ARCHIVER_OUT_DIR>/state.sqlite); set a path to share state between folders
ARCHIVER_STATE_PATH = ""
#: ask known articles with If-None-Match / If-Modified-Since
ARCHIVER_CONDITIONAL_GET = True
#: stop paging a section after this many listing pages holding only known, unchanged articles
ARCHIVER_INCREMENTAL_STOP_PAGES = 1
#: page through everything even when listing pages hold only unchanged articles (`--full`)
ARCHIVER_FULL = False
#: stop paging a section after this many listing pages in a row without a new item (stale pages)
ARCHIVER_LISTING_MAX_REPEATS = 3
#: once the listings are done, fetch articles of the crawled sections the sitemap lists and no
#: listing showed (full runs only; docs/reliability.md)
ARCHIVER_SITEMAP_CROSSCHECK = True
#: continue the interrupted run recorded in the crawl state's frontier (`--resume`)
ARCHIVER_RESUME = False
#: seconds a batch of crawl-state writes may wait before its commit (0: every write at once)
ARCHIVER_STATE_COMMIT_SECONDS = 1.0

# -- harvests from web archives (archiver harvest, docs/harvest.md) ---------------------------------
#: which captures of an article a harvest fetches: latest, earliest, or all (each distinct version)
ARCHIVER_HARVEST_CAPTURES = "latest"
#: the Wayback Machine (CDX API at /cdx/search/cdx, raw captures at /web/<ts>id_/<url>)
ARCHIVER_HARVEST_WAYBACK_URL = "https://web.archive.org"
#: Common Crawl's index server (collinfo.json, <crawl>-index)
ARCHIVER_HARVEST_CC_INDEX_URL = "https://index.commoncrawl.org"
#: Common Crawl's data host (WARC files, read by Range requests)
ARCHIVER_HARVEST_CC_DATA_URL = "https://data.commoncrawl.org"
#: rows per page asked of the Wayback Machine's CDX server (limit= with showResumeKey)
ARCHIVER_HARVEST_CDX_PAGE_SIZE = 5000
#: archived redirects followed from one capture to its target (in the archive)
ARCHIVER_HARVEST_MAX_REDIRECTS = 5
#: connections to an archive at a time (CONCURRENT_REQUESTS_PER_DOMAIN of a harvest)
ARCHIVER_HARVEST_CONCURRENCY = 2
#: seconds between two requests to an archive (a harvest's DOWNLOAD_DELAY); 0: no delay, no AutoThrottle
ARCHIVER_HARVEST_DELAY = 1.0

# -- distributed crawls (docs/distributed.md; archiver/distributed/) --------------------------------
#: Redis URL shared by the workers of one crawl (redis://host:port/db); empty: a one-process crawl
ARCHIVER_REDIS_URL = ""
#: this worker's name, unique per crawl: WARC file names and Redis keys (empty: <host>-<pid>)
ARCHIVER_REDIS_WORKER = ""
#: prefix of the crawl's Redis keys, one per crawl (%(spider)s: the spider's name)
ARCHIVER_REDIS_KEY = "archiver:%(spider)s"
#: seconds a worker's heartbeat lives; a worker silent that long is dead and its requests are requeued
ARCHIVER_REDIS_HEARTBEAT_TTL = 30.0
#: seconds between commits: finished requests leave Redis once the feed and WARC are flushed
ARCHIVER_REDIS_COMMIT_INTERVAL = 1.0
#: a crawl state (e.g. the merged state.sqlite of the last run) merged into this worker's state at start
ARCHIVER_REDIS_STATE_FROM = ""

# -- politeness -------------------------------------------------------------------------------------
#: product part of the User-Agent
ARCHIVER_USER_AGENT = "defense-news-archiver/0.1"
#: who runs the crawl, an e-mail address or URL put in the User-Agent so that the site's operators
#: can reach them (`archiver crawl --contact`); no default: a crawl of the real site without one warns
ARCHIVER_CONTACT = ""
#: older name of ARCHIVER_CONTACT (used when ARCHIVER_CONTACT is empty)
ARCHIVER_CONTACT_URL = ""
#: set to replace the whole User-Agent string (empty: ARCHIVER_USER_AGENT (+ARCHIVER_CONTACT))
USER_AGENT = ""
#: every request asks the way a browser asks for a page (Accept-Encoding: the decompression
#: middleware advertises what it decodes)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
}
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "defense-news-archiver"
#: honour robots.txt Crawl-delay (Scrapy alone ignores it)
ARCHIVER_OBEY_CRAWL_DELAY = True
#: never wait longer than this between requests, whatever robots.txt says
ARCHIVER_CRAWL_DELAY_MAX = 60.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
COOKIES_ENABLED = False
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10
#: a body cut short reaches the WARC middleware (archived, marked WARC-Truncated) and is then
#: retried by archiver.downloadermiddlewares.incomplete.IncompleteResponseMiddleware instead of vanishing
#: (docs/reliability.md)
DOWNLOAD_FAIL_ON_DATALOSS = False
#: longest wait a Retry-After (429, 503) gets before the retry, seconds (a longer one stops the crawl)
ARCHIVER_RETRY_AFTER_MAX = 60.0
#: stop the crawl after this many refusals in a row (403/401, CDN block pages; 0: never stop)
ARCHIVER_REFUSALS_MAX = 10

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "archiver.downloadermiddlewares.useragent.ContactUserAgentMiddleware": 500,
    "archiver.downloadermiddlewares.crawldelay.CrawlDelayMiddleware": 120,
    # 950: sees every response before redirect (600), decompression (590) and retry (550) handle it,
    # so the WARC gets the bytes as sent (see docs/warc.md)
    # 940: adds conditional-GET headers before the WARC request record is written, and reads the
    # WARC location of each response after the WARC middleware has written it
    "archiver.downloadermiddlewares.conditional.ConditionalRequestMiddleware": 940,
    # 946: a 304 no If-None-Match / If-Modified-Since asked for, after the WARC has it: retried, then failed
    "archiver.downloadermiddlewares.conditional.UnsolicitedNotModifiedMiddleware": 946,
    # 948: a body past DOWNLOAD_MAXSIZE is stopped there (signals), archived as received, then failed
    "archiver.downloadermiddlewares.maxsize.DownloadMaxSizeMiddleware": 948,
    "archiver.warc.middleware.WarcMiddleware": 950,
    # Scrapy's retry, redirect and decompression with the gaps found by fault injection closed
    # (archiver/downloadermiddlewares/, docs/reliability.md); 945: after the WARC has the response as received
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "archiver.downloadermiddlewares.retry.RetryAfterMiddleware": 550,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "archiver.downloadermiddlewares.httpcompression.StrictHttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "archiver.downloadermiddlewares.redirect.GuardedMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "archiver.downloadermiddlewares.redirect.GuardedRedirectMiddleware": 600,
    "archiver.downloadermiddlewares.incomplete.IncompleteResponseMiddleware": 945,
    # 560: sees bodies decoded (590) and refusals before the retry middleware (550) retries a 429
    "archiver.downloadermiddlewares.refusals.RefusalMiddleware": 560,
}

#: the cleaning pipelines (pipelines/chain.py, shared with `archiver extract` and re-extraction),
#: then change detection against the crawl state, then the WARC conversion record of each article
ITEM_PIPELINES = {
    **_cleaning_pipelines,
    "pipelines.resume.ResumeDedupePipeline": 860,
    "pipelines.changes.ChangeDetectionPipeline": 870,
    "pipelines.conversion.WarcConversionPipeline": 900,
}
#: validate every record against the JSON Schema (invalid: dropped, reason in failures.jsonl)
ARCHIVER_VALIDATE = True
#: keep one record per article_id when an article is reached through several URLs
ARCHIVER_DROP_DUPLICATES = True

SPIDER_MIDDLEWARES = {
    # 800: before Scrapy's referer (700) and offsite (500) middlewares see the requests it adds
    "archiver.requisites.middleware.RequisitesMiddleware": 800,
}

EXTENSIONS = {
    "archiver.extensions.report.CrawlReport": 0,
    "archiver.extensions.progress.ProgressLine": 0,
    "archiver.extensions.gcpolicy.GcPolicy": 0,
    # SIGTERM/SIGINT: downloads in progress cancelled, a second signal stops at once (docs/reliability.md)
    "archiver.extensions.shutdown.GracefulShutdown": 0,
}
#: Scrapy's HTTP/1.1 handler, whose downloads in progress a shutdown cancels (archiver/extensions/shutdown.py)
DOWNLOAD_HANDLERS = {
    "http": "archiver.extensions.shutdown.StoppableDownloadHandler",
    "https": "archiver.extensions.shutdown.StoppableDownloadHandler",
}

# -- the raw archive --------------------------------------------------------------------------------
#: folder of the WARC files (set by ARCHIVER_OUT_DIR to <out>/warc; empty: no WARC)
WARC_DIR = ""
#: file name prefix: <prefix>-<timestamp>-<serial>-<worker>.warc.gz
WARC_PREFIX = "defense-news"
#: roll over to a new file past this many bytes
WARC_MAX_SIZE = 1_000_000_000
#: deflate level of each record's gzip member: 0 stores, 1-3 ISA-L (2: 6x faster than zlib 6, +15 %), 4-9 zlib
WARC_GZIP_LEVEL = 2
#: zlib level of a response record whose body is compressed already (gzip body, JPEG, video, PDF)
WARC_GZIP_LEVEL_COMPRESSED = 0
#: folder of the CDXJ indexes (set by ARCHIVER_OUT_DIR to <out>/indexes)
WARC_INDEX_DIR = ""
#: index each WARC file when it closes (<name>.cdxj)
WARC_CDXJ = True
#: an identical payload fetched again in the same crawl becomes a revisit record
WARC_DEDUPE = True
#: distinct payloads remembered for those revisits (the least recently seen forgotten first)
WARC_DEDUPE_MEMORY = 10000
#: digest and gzip records on a worker thread (measured no faster: docs/performance.md)
WARC_ENCODE_IN_THREAD = False

# -- the cleaned feed -------------------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
#: file feeds (changes.jsonl) stop the crawl with `disk_full` when the disk is full
#: (archiver/extensions/feedstorage.py)
FEED_STORAGES = {"file": "archiver.extensions.feedstorage.DiskFullAwareFileFeedStorage"}
#: every feed (changes.jsonl, Scrapyd's items file, -o FILE) exports the record's fields only
FEED_EXPORT_FIELDS = list(_article_fields)

# -- engine -----------------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
#: items of one response processed at a time; Scrapy's 100 starts 100 asyncio tasks per callback
#: (~1.5 ms each time on the asyncio reactor) for the one article a page yields (docs/performance.md)
CONCURRENT_ITEMS = 1
#: Scrapy's duplicate filter with each fingerprint in ~8 bytes, not ~90 (archiver/runtime/dupefilter.py);
#: a distributed crawl uses its shared one (archiver/distributed/addon.py)
DUPEFILTER_CLASS = "archiver.runtime.dupefilter.CompactDupeFilter"
#: freeze the objects alive at engine start and collect less often (archiver/extensions/gcpolicy.py)
ARCHIVER_GC_FREEZE = True
#: gc.set_threshold() while crawling (empty: Python's own 700, 10, 10)
ARCHIVER_GC_THRESHOLDS = [10000, 20, 20]
#: processes extracting articles beside the reactor thread (runtime/extractpool.py; 0: none, one core)
ARCHIVER_EXTRACT_WORKERS = 2
#: interpreter the extraction workers run (empty: the crawl's own; workers that cannot start: in process)
ARCHIVER_EXTRACT_PYTHON = ""
#: the workers also run the cleaning pipelines (whitespace ... validation) of each article
ARCHIVER_EXTRACT_PIPELINES = True
LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
