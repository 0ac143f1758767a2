"""The archiver's own Scrapy signals."""

#: a URL finally failed (after retries): ``url: str``, ``reason: str``, optional ``status: int``
url_failed = object()
