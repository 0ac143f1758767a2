"""``ArticleRejected``: the ``DropItem`` the article pipelines raise, carrying what ``failures.jsonl`` needs.

Scrapy's ``item_dropped`` signal passes the exception to its handlers; a handler writes
``exception.failure_record()`` (url, article id, stage, reason) as one line of ``failures.jsonl``::

    def item_dropped(item, response, exception, spider):
        if isinstance(exception, ArticleRejected):
            failures.write(json.dumps(exception.failure_record()) + "\\n")
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem


class ArticleRejected(DropItem):
    """An article dropped by a pipeline, with the reason as data (never a silent loss)."""

    def __init__(self, url: str, stage: str, reason: str, article_id: str = "",
                 log_level: str | None = None) -> None:
        super().__init__(f"{stage}: {reason} ({url})", log_level=log_level)
        self.url = url
        self.stage = stage
        self.reason = reason
        self.article_id = article_id

    def failure_record(self) -> dict[str, Any]:
        """One ``failures.jsonl`` line."""
        return {"url": self.url, "article_id": self.article_id, "stage": self.stage, "reason": self.reason}
