"""Numbers about a crawl folder, read from its files: articles by section, content type and year,
photos and videos, bytes on disk, failures by kind."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.site import SECTIONS

logger = logging.getLogger(__name__)

ARTICLES_FILE = "articles.jsonl"
FAILURES_FILE = "failures.jsonl"
REPORT_FILE = "report.json"
WACZ_FILE = "archive.wacz"
#: reasons whose second part says more than the first (``dropped: validate: ...``)
_TWO_PART_REASONS = frozenset({"dropped", "spider error", "pipeline error"})


def section_of(url: str) -> str:
    """The site section of an article URL (``news-stories``, ...); ``legacy`` for ``?ID=`` URLs."""
    path = urlsplit(url).path.lower()
    for name, prefix in SECTIONS.items():
        if path.startswith(prefix.lower()):
            return name
    if "newsarticle.aspx" in path or "transcript.aspx" in path:
        return "legacy"
    return "other"


def year_of(published: object) -> str:
    text = str(published or "")
    return text[:4] if len(text) >= 4 and text[:4].isdigit() else "unknown"


def failure_kind(failure: dict[str, Any]) -> str:
    """``HTTP 404``, ``dropped: validate``, ``TimeoutError``, ``rejected: validate`` (re-extraction)..."""
    if "stage" in failure and "reason" in failure and "time" not in failure:
        return f"rejected: {failure['stage']}"
    parts = str(failure.get("reason", "unknown")).split(": ")
    return ": ".join(parts[:2]) if parts[0] in _TWO_PART_REASONS and len(parts) > 1 else parts[0]


@dataclass
class CrawlStats:
    articles: int = 0
    by_section: Counter[str] = field(default_factory=Counter)
    by_content_type: Counter[str] = field(default_factory=Counter)
    by_year: Counter[str] = field(default_factory=Counter)
    #: by ``markup_era`` (aspnet, dnn, dgov2, ...)
    by_era: Counter[str] = field(default_factory=Counter)
    #: articles the live site removed (``gone_since``), still in the dataset with their last version
    gone: int = 0
    images: int = 0
    articles_with_images: int = 0
    videos: int = 0
    historical: int = 0
    body_characters: int = 0
    invalid_lines: int = 0
    published_first: str = ""
    published_last: str = ""
    fetched_first: str = ""
    fetched_last: str = ""
    extractor_versions: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    failures_by_kind: Counter[str] = field(default_factory=Counter)
    bytes: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)

    def add_article(self, record: dict[str, Any]) -> None:
        self.articles += 1
        self.by_section[section_of(str(record.get("url", "")))] += 1
        self.by_content_type[str(record.get("content_type", "other"))] += 1
        self.by_year[year_of(record.get("published"))] += 1
        self.by_era[str(record.get("markup_era") or "unknown")] += 1
        self.gone += bool(record.get("gone_since"))
        images = record.get("images") or []
        self.images += len(images)
        self.articles_with_images += bool(images)
        self.videos += len(record.get("videos") or [])
        self.historical += bool(record.get("historical"))
        self.body_characters += len(str(record.get("body") or ""))
        published = str(record.get("published") or "")[:10]
        if published:
            self.published_first = min(self.published_first or published, published)
            self.published_last = max(self.published_last, published)
        fetched = str(record.get("fetched_at") or "")
        if fetched:
            self.fetched_first = min(self.fetched_first or fetched, fetched)
            self.fetched_last = max(self.fetched_last, fetched)
        self.extractor_versions[str(record.get("extractor_version") or "unknown")] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "by_section": dict(self.by_section.most_common()),
            "by_content_type": dict(self.by_content_type.most_common()),
            "by_year": dict(sorted(self.by_year.items())),
            "by_era": dict(self.by_era.most_common()),
            "gone": self.gone,
            "published": {"first": self.published_first, "last": self.published_last},
            "fetched": {"first": self.fetched_first, "last": self.fetched_last},
            "extractor_versions": dict(self.extractor_versions.most_common()),
            "images": self.images,
            "articles_with_images": self.articles_with_images,
            "videos": self.videos,
            "historical": self.historical,
            "body_characters": self.body_characters,
            "invalid_lines": self.invalid_lines,
            "failures": self.failures,
            "failures_by_kind": dict(self.failures_by_kind.most_common()),
            "bytes": self.bytes,
            "files": self.files,
        }


def crawl_stats(root: Path) -> CrawlStats:
    """Read ``articles.jsonl``, ``failures.jsonl``, ``report.json`` and the file sizes of ``root``."""
    stats = CrawlStats()
    for record in _json_lines(root / ARTICLES_FILE, stats):
        stats.add_article(record)
    for failure in _json_lines(root / FAILURES_FILE, None):
        stats.failures += 1
        stats.failures_by_kind[failure_kind(failure)] += 1
    _add_sizes(root, stats)
    return stats


def _json_lines(path: Path, stats: CrawlStats | None) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                logger.warning("%s:%d: not JSON; not counted", path, number)
                if stats is not None:
                    stats.invalid_lines += 1
                continue
            if isinstance(record, dict):
                yield record


def _add_sizes(root: Path, stats: CrawlStats) -> None:
    warcs = sorted((root / "warc").glob("*.warc.gz"))
    stats.files["warc"] = len(warcs)
    stats.bytes["warc"] = sum(path.stat().st_size for path in warcs)
    indexes = sorted((root / "indexes").glob("*.cdxj"))
    stats.files["cdxj"] = len(indexes)
    stats.bytes["cdxj"] = sum(path.stat().st_size for path in indexes)
    for name, key in ((ARTICLES_FILE, "articles_jsonl"), (WACZ_FILE, "wacz")):
        path = root / name
        stats.bytes[key] = path.stat().st_size if path.exists() else 0
    report = root / REPORT_FILE
    if report.exists():
        try:
            received = json.loads(report.read_text("utf-8")).get("bytes", {}).get("received")
        except ValueError:
            received = None
        if isinstance(received, int):
            stats.bytes["received"] = received


def render(stats: CrawlStats) -> str:
    """A one-screen text summary."""
    lines = [
        f"articles   {stats.articles}"
        + (f" (published {stats.published_first} to {stats.published_last})" if stats.articles else "")
    ]
    lines += _table("by section", stats.by_section.most_common())
    lines += _table("by type", stats.by_content_type.most_common())
    lines += _table("by year", sorted(stats.by_year.items()))
    lines += _table("by era", stats.by_era.most_common())
    lines.append(f"gone       {stats.gone} removed from the site (flagged gone_since, last version kept)")
    lines.append(
        f"images     {stats.images} in {stats.articles_with_images} articles; videos {stats.videos}; "
        f"historical {stats.historical}"
    )
    lines.append(f"text       {stats.body_characters:,} characters of body text")
    sizes = stats.bytes
    lines.append(
        f"bytes      WARC {sizes.get('warc', 0):,} in {stats.files.get('warc', 0)} file(s); "
        f"articles.jsonl {sizes.get('articles_jsonl', 0):,}; WACZ {sizes.get('wacz', 0):,}; "
        f"CDXJ {sizes.get('cdxj', 0):,}"
        + (f"; received {sizes['received']:,}" if "received" in sizes else "")
    )
    lines.append(f"failures   {stats.failures}")
    lines += [f"  {kind:<28} {count}" for kind, count in stats.failures_by_kind.most_common()]
    if stats.invalid_lines:
        lines.append(f"warning    {stats.invalid_lines} line(s) of articles.jsonl are not JSON")
    return "\n".join(lines) + "\n"


def _table(title: str, rows: list[tuple[str, int]]) -> list[str]:
    return [f"{title}"] + [f"  {name:<28} {count}" for name, count in rows]
