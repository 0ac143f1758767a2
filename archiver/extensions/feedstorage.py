"""Scrapy's file feed storage, stopping the crawl when ``articles.jsonl`` meets a full disk.

Scrapy's ``FeedExporter`` writes each item from an ``item_scraped`` signal handler: an ``OSError``
there is logged and the crawl goes on, each later item failing the same way. This storage (set
for the ``file`` scheme in ``FEED_STORAGES``) hands out the same file, whose writes recognise a
full disk and stop the crawl with ``disk_full`` (``archiver.runtime.diskfull``): the articles whose line
was not written are asked again by ``--resume`` (``archiver.runtime.crawl.reconcile``).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from scrapy.extensions.feedexport import FileFeedStorage

from archiver.runtime.diskfull import is_disk_full, stop_for_full_disk

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


class DiskFullAwareFile:
    """A binary file whose ``write``/``flush`` stop the crawl on a full disk (then re-raise)."""

    def __init__(self, file: IO[bytes], crawler: Crawler | None, path: str) -> None:
        self._file = file
        self._crawler = crawler
        self._path = path

    def write(self, data: bytes) -> int:
        return int(self._guard(self._file.write, data))

    def flush(self) -> None:
        self._guard(self._file.flush)

    def close(self) -> None:
        self._guard(self._file.close)

    def _guard(self, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except OSError as exc:
            if self._crawler is not None and is_disk_full(exc):
                stop_for_full_disk(self._crawler, exc, self._path)
            raise

    def __getattr__(self, name: str) -> Any:  # closed, fileno, tell... as the file has them
        return getattr(self._file, name)


class DiskFullAwareFileFeedStorage(FileFeedStorage):
    """``FileFeedStorage`` whose file stops the crawl on a full disk."""

    crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler, uri: str, *, feed_options: dict[str, Any] | None = None
                     ) -> DiskFullAwareFileFeedStorage:
        storage = cls(uri, feed_options=feed_options)
        storage.crawler = crawler
        return storage

    def open(self, spider: Spider) -> IO[bytes]:
        file: Any = DiskFullAwareFile(super().open(spider), self.crawler, self.path)
        return file  # a file as far as the exporters go (write, flush, close)
