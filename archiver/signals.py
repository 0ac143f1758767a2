"""The archiver's own Scrapy signals."""

#: a URL finally failed (after retries): ``url: str``, ``reason: str``, optional ``status: int``
url_failed = object()

#: the crawl is stopping (SIGTERM/SIGINT, extensions/shutdown.py): cancel what is in progress; no arguments
shutdown_requested = object()
