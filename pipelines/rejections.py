"""Why an article left the pipelines, as data: ``ArticleRejected`` (a failure) and ``ArticleSkipped``
(on purpose, e.g. a duplicate; ``archiver.items.SkippedItem``, not counted as a failure).

Scrapy's ``item_dropped`` signal passes the exception to its handlers; ``failure_record()`` is
the ``failures.jsonl`` line (url, article id, stage, reason)::

    def item_dropped(item, response, exception, spider):
        if isinstance(exception, ArticleRejected):
            failures.write(json.dumps(exception.failure_record()) + "\\n")
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from archiver.exceptions import SkippedItem


class ArticleDropped(DropItem):
    """An article a pipeline dropped, with the stage and reason as data."""

    def __init__(self, url: str, stage: str, reason: str, article_id: str = "",
                 log_level: str | None = None) -> None:
        super().__init__(f"{stage}: {reason} ({url})", log_level=log_level)
        self.url = url
        self.stage = stage
        self.reason = reason
        self.article_id = article_id

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles with its data (an extraction worker hands it to the crawl process)."""
        return type(self), (self.url, self.stage, self.reason, self.article_id, self.log_level)

    def failure_record(self) -> dict[str, Any]:
        """One ``failures.jsonl`` line."""
        return {"url": self.url, "article_id": self.article_id, "stage": self.stage, "reason": self.reason}


class ArticleRejected(ArticleDropped):
    """An article dropped because it is not a valid cleaned record: a failure, never silent."""


class ArticleSkipped(ArticleDropped, SkippedItem):
    """An article left out on purpose (the same article already kept): counted, not a failure."""
