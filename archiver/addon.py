"""Scrapy add-on laying out the output folder from one setting, ``ARCHIVER_OUT_DIR``.

``scrapy crawl sections -s ARCHIVER_OUT_DIR=out`` and ``archiver crawl --out out`` give the same
folder: ``warc/``, ``indexes/``, ``changes.jsonl`` (this run's records: Scrapy FEEDS),
``articles.jsonl`` (the whole current dataset, built from the previous one and ``changes.jsonl``
when the run ends: archiver/runtime/dataset.py), ``report.json``, ``failures.jsonl``. Settings given
explicitly (``WARC_DIR``, ``FEEDS``...) win.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.items import EXPORT_FIELDS

if TYPE_CHECKING:  # `archiver wacz` imports this module: not all of Scrapy for an annotation
    from scrapy.settings import BaseSettings

#: the current dataset: every article once, its latest version (archiver/runtime/dataset.py)
ARTICLES_FILE = "articles.jsonl"
#: this run's new, updated and gone records, each with ``change`` (the crawl's feed)
CHANGES_FILE = "changes.jsonl"
REPORT_FILE = "report.json"
FAILURES_FILE = "failures.jsonl"


class OutputLayout:
    """Fill WARC_DIR, WARC_INDEX_DIR and FEEDS from ARCHIVER_OUT_DIR when they are not set."""

    def update_settings(self, settings: BaseSettings) -> None:
        out = settings.get("ARCHIVER_OUT_DIR")
        if not out:
            return
        root = Path(out)
        self._default(settings, "WARC_DIR", str(root / "warc"))
        self._default(settings, "WARC_INDEX_DIR", str(root / "indexes"))
        feed: dict[str, Any] = {
            "format": "jsonlines",
            "encoding": "utf-8",
            "fields": list(EXPORT_FIELDS),
            "overwrite": False,
        }
        # added to any feed already configured (Scrapyd adds its own items feed, for one)
        feeds = dict(settings.getdict("FEEDS"))
        feeds.setdefault(str(root / CHANGES_FILE), feed)
        settings.set("FEEDS", feeds, priority=max(settings.getpriority("FEEDS") or 0, 15))

    @staticmethod
    def _default(settings: BaseSettings, name: str, value: str) -> None:
        if not settings.get(name):
            settings.set(name, value, priority=settings.getpriority(name) or "addon")
