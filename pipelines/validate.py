"""Every record checked against ``archiver/schema/article.schema.json``; invalid → ``ArticleRejected``."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Self

from jsonschema import Draft202012Validator
from scrapy.exceptions import NotConfigured

from archiver.extract.pipeline_support import ArticlePipeline, CrawlerLike, StatsLike
from archiver.items import ArticleItem
from pipelines.rejections import ArticleRejected

MAX_REASONS = 3


@cache
def article_validator() -> Draft202012Validator:
    """The schema's validator (loaded once per process; the schema file is read-only data)."""
    text = resources.files("archiver").joinpath("schema", "article.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each way ``record`` is not a valid cleaned article."""
    found = []
    for error in sorted(article_validator().iter_errors(record), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(p) for p in error.path) or "record"
        found.append((where, error.message[:200]))
    if not str(record.get("body") or "").strip():
        found.append(("body", "empty (no paragraph left after cleaning)"))
    return found


class ValidateSchemaPipeline(ArticlePipeline):
    """Drops an invalid record with the reasons (``ArticleRejected``, stage ``validate``); a crawl
    logs it to ``failures.jsonl`` from Scrapy's ``item_dropped`` signal.

    Setting: ``ARCHIVER_VALIDATE`` (default ``True``). Stats: ``archiver/validate/valid``,
    ``archiver/validate/invalid``, ``archiver/validate/invalid/<field>``.
    """

    stat_group = "validate"

    @classmethod
    def from_crawler(cls, crawler: CrawlerLike) -> Self:
        if not crawler.settings.getbool("ARCHIVER_VALIDATE", True):
            raise NotConfigured("ARCHIVER_VALIDATE is off")
        return cls(crawler.stats)

    def __init__(self, stats: StatsLike) -> None:
        super().__init__(stats)
        article_validator()  # a broken schema fails at start, not on the first item

    def process_article(self, item: ArticleItem) -> None:
        found = problems(item.record())
        if not found:
            self.count("valid")
            return
        self.count("invalid")
        for where in dict.fromkeys(w.split(".")[0] for w, _ in found):
            self.count(f"invalid/{where}")
        reason = "; ".join(f"{w}: {m}" for w, m in found[:MAX_REASONS])
        raise ArticleRejected(item.url, "validate", reason, item.article_id)
