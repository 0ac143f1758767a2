"""``DATASET.md``: the dataset card written next to an export (what, from where, when, how many,
which fields, under which terms)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.offline.stats import CrawlStats

if TYPE_CHECKING:
    from archiver.offline.export import ExportResult

#: what each field holds (docs/datasets.md has the same table)
FIELD_MEANINGS: dict[str, str] = {
    "url": "URL fetched (after redirects)",
    "canonical_url": "the page's canonical URL (`link[rel=canonical]`, `og:url`), else `url`",
    "article_id": "the item's id in its number space: the DNN / DGOV2 / war.gov number (`605989`), a "
    "DefenseLink / ASP.NET id as `<kind>:<number>` (`release:10242`), a 1990s static page as `static:<path>`",
    "content_type": "news-story, release, transcript, speech, contract, feature, advisory or other",
    "title": "headline, whitespace-normalised",
    "published": "publication date (ISO 8601 date, or datetime when the page gives a time)",
    "authors": 'names from the byline, without "By" or an organisation suffix; empty for releases and '
    "transcripts",
    "body": "the article text only: paragraphs separated by a blank line, subheadings as `## Heading`",
    "images": "each photo once, in page order: src (full-size URL), title, caption, credit, virin, alt",
    "videos": "title, duration (seconds), src",
    "tags": "topic tags",
    "related": '"Related Stories": title, url',
    "historical": 'the page carries the "historical collection" notice',
    "fetched_at": "when the HTTP response was received (UTC; the WARC-Date of its record)",
    "warc": "where the raw response is: WARC filename, offset, length (gzip member), record_id, "
    "payload_digest",
    "extractor_version": "version of the extraction code that produced the record",
    "change": "new or updated since the previous crawl into the same state (incremental crawls)",
    "markup_era": "the page's markup era: defenselink-static, aspnet, dnn, dgov2 or wargov "
    "(docs/extraction.md)",
    "legacy_id": "a legacy id as {kind, number} (`release`, `10242`), null for a DNN / DGOV2 / war.gov id",
}

LICENCE = """\
Articles, transcripts, releases and photos published by the U.S. Department of Defense are, as a
rule, works of the United States Government: prepared by federal officers or employees as part of
their official duties, they are not subject to copyright in the United States (17 U.S.C. § 105)
and are in the public domain there. Protection may exist in other countries. Some items are not
government works (for example photos credited to a non-government photographer or agency, or
third-party material quoted in a page): check the `credit` of each photo. Using this material does
not imply endorsement by the Department of Defense, and its seals and insignia have their own
restrictions. This dataset's structure and cleaning are provided as they are, without warranty."""


def write_card(root: Path, result: ExportResult, stats: CrawlStats) -> Path:
    """Write ``DATASET.md`` next to the export and return its path."""
    result.card.write_text(render_card(root, result, stats), encoding="utf-8")
    return result.card


def render_card(root: Path, result: ExportResult, stats: CrawlStats) -> str:
    crawl = _json(root / "report.json")
    sections = [
        _intro(),
        _source(root, crawl, stats),
        _files(result),
        _counts(stats),
        _fields(result.fields),
        "## Licence\n\n" + LICENCE,
        _loading(result),
        _provenance(),
    ]
    return "\n\n".join(sections) + "\n"


def _intro() -> str:
    return (
        "# defense.gov news articles\n\n"
        "News published by the U.S. Department of Defense on defense.gov (now war.gov): stories, "
        "releases, transcripts, speeches, contracts, features and advisories. One record per "
        "article, with the article text alone (no banner, navigation, share boxes or captions in "
        "the text) and every photo, video and related story once, as structured data."
    )


def _source(root: Path, crawl: dict[str, Any], stats: CrawlStats) -> str:
    lines = ["## Source", ""]
    if crawl:
        counts = crawl.get("counts", {})
        lines.append(f"- Site crawled: {crawl.get('site', 'unknown')} ({crawl.get('spider', '?')} spider)")
        lines.append(
            f"- Crawl: {crawl.get('started', '?')} to {crawl.get('finished', '?')}, "
            f"{counts.get('responses', '?')} pages fetched, {counts.get('failures', '?')} failures"
        )
    else:
        lines.append(f"- Crawl folder: `{root.name}` (no report.json)")
    if stats.fetched_first:
        lines.append(f"- Articles fetched between {stats.fetched_first} and {stats.fetched_last} (UTC)")
    warcs = sorted((root / "warc").glob("*.warc.gz"))
    if warcs:
        size = sum(path.stat().st_size for path in warcs)
        lines.append(
            f"- Raw archive: {len(warcs)} WARC file(s), {size:,} bytes in `warc/`"
            + (", packaged as `archive.wacz`" if (root / "archive.wacz").exists() else "")
        )
    versions = ", ".join(f"{v} ({n})" for v, n in stats.extractor_versions.most_common()) or "none"
    lines.append(f"- Extractor version: {versions}")
    return "\n".join(lines)


def _files(result: ExportResult) -> str:
    digest = hashlib.sha256()
    with result.path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    lines = [
        "## Files",
        "",
        "| file | format | rows | bytes | sha256 |",
        "|---|---|---|---|---|",
        f"| `{result.path.name}` | {result.format} | {result.rows} | {result.path.stat().st_size:,} "
        f"| `{digest.hexdigest()}` |",
    ]
    if result.skipped_lines:
        lines += [
            "",
            f"{len(result.skipped_lines)} line(s) of articles.jsonl were not JSON and are left out.",
        ]
    return "\n".join(lines)


def _counts(stats: CrawlStats) -> str:
    lines = [
        "## Counts",
        "",
        f"{stats.articles} articles"
        + (f", published {stats.published_first} to {stats.published_last}" if stats.articles else "")
        + f"; {stats.images} photos in {stats.articles_with_images} articles; {stats.videos} videos; "
        f"{stats.historical} in the historical collection.",
        "",
    ]
    lines += _table("content type", stats.by_content_type.most_common())
    lines += ["", *_table("year published", sorted(stats.by_year.items()))]
    return "\n".join(lines)


def _table(title: str, rows: Iterable[tuple[str, int]]) -> list[str]:
    return [f"| {title} | articles |", "|---|---:|"] + [f"| {name} | {count} |" for name, count in rows]


def _fields(fields: list[str]) -> str:
    from archiver.offline.export import arrow_type, type_text

    lines = ["## Fields", "", "| field | Parquet type | meaning |", "|---|---|---|"]
    lines += [
        f"| `{name}` | `{type_text(arrow_type(name))}` | {FIELD_MEANINGS.get(name, '')} |" for name in fields
    ]
    lines += [
        "",
        "In CSV, lists and objects are JSON text and booleans `true`/`false`. The JSON Schema of "
        "the full record is `archiver/schema/article.schema.json`.",
    ]
    return "\n".join(lines)


def _loading(result: ExportResult) -> str:
    name = result.path.name
    code = {
        "parquet": f'import pyarrow.parquet as pq\n\ntable = pq.read_table("{name}")',
        "csv": f'import csv\n\nwith open("{name}", newline="", encoding="utf-8") as f:\n'
        "    rows = list(csv.DictReader(f))",
        "jsonl": f'import json\n\nwith open("{name}", encoding="utf-8") as f:\n'
        "    rows = [json.loads(line) for line in f]",
    }[result.format]
    return f"## Loading\n\n```python\n{code}\n```"


def _provenance() -> str:
    try:
        version = importlib.metadata.version("defense-news-archiver")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "## Provenance\n\n"
        f"Made by defense-news-archiver {version} (`archiver export`) on {made}. Every record's `warc` "
        "field points at the archived HTTP response it was extracted from; `archiver verify` checks "
        "those pointers and the archive's digests, and `archiver reextract` rebuilds the records "
        "from the WARC files alone."
    )


def _json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
