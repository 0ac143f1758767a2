"""Every record checked against ``archiver/schema/article.schema.json``; invalid → ``ArticleRejected``."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured

from archiver.items import ArticleItem
from pipelines.base import ArticlePipeline, CrawlerLike, StatsLike
from pipelines.rejections import ArticleRejected

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

MAX_REASONS = 3
Check = Callable[[Any], bool]
#: keywords that say nothing about validity
_ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "$comment", "examples", "default"})
_TYPES: Mapping[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


@cache
def article_schema() -> dict[str, Any]:
    """The published schema (read once per process; the schema file is read-only data)."""
    text = resources.files("archiver").joinpath("schema", "article.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def article_validator() -> Draft202012Validator:
    """The schema's validator (built once per process; jsonschema imported then: ~75 ms of a
    re-extraction's start-up, docs/performance.md)."""
    from jsonschema import Draft202012Validator

    schema = article_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def quick_check() -> Check | None:
    """A compiled test that is True only for records the schema accepts (see :func:`compile_check`)."""
    return compile_check(article_schema())


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """``schema`` as plain Python tests, or ``None`` when it uses a keyword they do not cover.

    Why: jsonschema walks the schema for every record (~0.5 ms an article, a tenth of what the
    crawl's reactor thread spends on one: docs/performance.md). The test is at least as strict as
    the schema (an integer-valued float, which the schema accepts as an integer, fails it), so
    True means valid and False means "ask jsonschema", which then says why. Covered: ``type``,
    ``required``, ``properties``, ``items``, ``enum`` of strings, ``minLength``, ``pattern``,
    ``minimum``; annotations (``title``, ``description``...) are ignored.
    """
    checks: list[Check] = []
    for keyword, value in schema.items():
        if keyword in _ANNOTATIONS:
            continue
        check = _keyword_check(keyword, value)
        if check is None:
            return None
        checks.append(check)
    return checks[0] if len(checks) == 1 else _all_of(checks)


def _all_of(checks: list[Check]) -> Check:
    """Whether every check passes (a loop: all() over a generator costs more, ~100 calls a record)."""
    def check_all(instance: Any) -> bool:
        for check in checks:  # noqa: SIM110
            if not check(instance):
                return False
        return True
    return check_all


def _keyword_check(keyword: str, value: Any) -> Check | None:
    if keyword == "type":
        names = value if isinstance(value, list) else [value]
        if not all(name in _TYPES for name in names):
            return None
        tests = [_TYPES[name] for name in names]
        return lambda v: any(test(v) for test in tests)
    if keyword == "required":
        keys = tuple(value)
        return lambda v: not isinstance(v, dict) or all(key in v for key in keys)
    if keyword == "properties":
        compiled: list[tuple[str, Check]] = []
        for name, subschema in value.items():
            check = compile_check(subschema)
            if check is None:
                return None
            compiled.append((name, check))
        def check_properties(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for n, check in compiled:  # noqa: SIM110 - a loop, as in _all_of
                if n in v and not check(v[n]):
                    return False
            return True
        return check_properties
    if keyword == "items" and isinstance(value, dict):
        item = compile_check(value)
        return None if item is None else (lambda v: not isinstance(v, list) or all(map(item, v)))
    if keyword == "enum" and all(isinstance(option, str) for option in value):
        options = frozenset(value)
        return lambda v: isinstance(v, str) and v in options
    if keyword == "minLength":
        return lambda v: not isinstance(v, str) or len(v) >= value
    if keyword == "pattern":
        regex = re.compile(value)
        return lambda v: not isinstance(v, str) or regex.search(v) is not None
    if keyword == "minimum":
        return lambda v: not _TYPES["number"](v) or v >= value
    return None


def problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, message) for each way ``record`` is not a valid cleaned article."""
    check = quick_check()
    if check is not None and check(record) and str(record.get("body") or "").strip():
        return []
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
        # a broken schema fails at start, not on the first item: a schema the compiled check
        # covers is read by it (unknown keyword or type: no check), else jsonschema checks it now
        if quick_check() is None:
            article_validator()

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
