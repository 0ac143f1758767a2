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
    from archiver.offline.columns import ExportResult

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
    "change": "new, updated or gone: what the article's last change was (in the dataset), or what this "
    "run changed (in changes.jsonl)",
    "gone_since": "when the live site was found to have removed the article (the WARC-Date of the 404, "
    "410 or redirect to one); null while it is online. A removed article keeps its last archived version",
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
        _intro(result),
        _source(root, crawl, stats),
        _files(result),
        _counts(stats),
        _fields(result.fields),
        "## Licence\n\n" + LICENCE,
        _loading(result),
        _provenance(),
    ]
    return "\n\n".join(sections) + "\n"


def _intro(result: ExportResult) -> str:
    what = (
        "This file is the whole current dataset (`articles.jsonl`): every article once, its latest "
        "version, articles the site removed included (`gone_since`)."
        if result.source != "changes.jsonl" else
        "This file holds one run's changes only (`changes.jsonl`): the articles that run found new, "
        "updated or gone. The whole dataset is `articles.jsonl` (`archiver export` without `--changes`)."
    )
    return (
        "# defense.gov news articles\n\n"
        "News published by the U.S. Department of Defense on defense.gov (now war.gov): stories, "
        "releases, transcripts, speeches, contracts, features and advisories. One record per "
        "article, with the article text alone (no banner, navigation, share boxes or captions in "
        "the text) and every photo, video and related story once, as structured data.\n\n" + what
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _files(result: ExportResult) -> str:
    lines = ["## Files", ""]
    if result.path.is_dir():
        parts = sorted(result.path.rglob("*.parquet"))
        lines += [
            f"`{result.path.name}/`: {result.rows} rows, Parquet partitioned by {result.partition_by} "
            f"of publication (Hive style: `{result.partition_by}=2016/`).",
            "",
            "| file | bytes | sha256 |",
            "|---|---|---|",
        ]
        lines += [f"| `{p.relative_to(result.path.parent)}` | {p.stat().st_size:,} | `{_sha256(p)}` |"
                  for p in parts]
    else:
        lines += [
            "| file | format | rows | bytes | sha256 |",
            "|---|---|---|---|---|",
            f"| `{result.path.name}` | {result.format} | {result.rows} | {result.path.stat().st_size:,} "
            f"| `{_sha256(result.path)}` |",
        ]
    if result.skipped_lines:
        lines += [
            "",
            f"{len(result.skipped_lines)} line(s) of {result.source} were not JSON and are left out.",
        ]
    return "\n".join(lines)


def _counts(stats: CrawlStats) -> str:
    lines = [
        "## Counts",
        "",
        f"{stats.articles} articles"
        + (f", published {stats.published_first} to {stats.published_last}" if stats.articles else "")
        + f"; {stats.images} photos in {stats.articles_with_images} articles; {stats.videos} videos; "
        f"{stats.historical} in the historical collection; {stats.gone} removed from the live site "
        "(`gone_since`).",
        "",
    ]
    lines += _table("content type", stats.by_content_type.most_common())
    lines += ["", *_table("year published", sorted(stats.by_year.items()))]
    lines += ["", *_table("markup era", stats.by_era.most_common())]
    return "\n".join(lines)


def _table(title: str, rows: Iterable[tuple[str, int]]) -> list[str]:
    return [f"| {title} | articles |", "|---|---:|"] + [f"| {name} | {count} |" for name, count in rows]


def _fields(fields: list[str]) -> str:
    from archiver.offline.columns import arrow_type, type_text

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


def loading_code(result: ExportResult) -> dict[str, str]:
    """Python that loads the export, by library (pyarrow, pandas, Hugging Face ``datasets``);
    run as it is by the tests (from the folder of the export)."""
    name = result.path.name
    if result.format == "parquet":
        if result.path.is_dir():
            return {
                "pyarrow": "import pyarrow as pa\nimport pyarrow.dataset as ds\n\n"
                "years = ds.partitioning(pa.schema([(\"year\", pa.string())]), flavor=\"hive\")\n"
                f'dataset = ds.dataset("{name}", format="parquet", partitioning=years)\n'
                "table = dataset.to_table()\n"
                'recent = dataset.to_table(filter=ds.field("year") >= "2020")',
                "pandas": f'import pandas as pd\n\nframe = pd.read_parquet("{name}")',
                "datasets": 'from datasets import load_dataset\n\n'
                f'data = load_dataset("parquet", data_files="{name}/**/*.parquet", split="train")',
            }
        return {
            "pyarrow": f'import pyarrow.parquet as pq\n\ntable = pq.read_table("{name}")',
            "pandas": f'import pandas as pd\n\nframe = pd.read_parquet("{name}")',
            "datasets": "from datasets import load_dataset\n\n"
            f'data = load_dataset("parquet", data_files="{name}", split="train")',
        }
    if result.format == "csv":
        return {
            "csv": f'import csv\n\nwith open("{name}", newline="", encoding="utf-8") as f:\n'
            "    rows = list(csv.DictReader(f))",
            "pyarrow": f'import pyarrow.csv as pcsv\n\ntable = pcsv.read_csv("{name}")',
            "pandas": f'import pandas as pd\n\nframe = pd.read_csv("{name}", keep_default_na=False)',
            "datasets": "from datasets import load_dataset\n\n"
            f'data = load_dataset("csv", data_files="{name}", split="train")',
        }
    return {
        "json": f'import json\n\nwith open("{name}", encoding="utf-8") as f:\n'
        "    rows = [json.loads(line) for line in f]",
        "pyarrow": f'import pyarrow.json as pjson\n\ntable = pjson.read_json("{name}")',
        "pandas": f'import pandas as pd\n\nframe = pd.read_json("{name}", lines=True)',
        "datasets": f'from datasets import load_dataset\n\ndata = load_dataset("json", data_files="{name}", '
        'split="train")',
    }


def _loading(result: ExportResult) -> str:
    blocks = [f"With {library}:\n\n```python\n{code}\n```"
              for library, code in loading_code(result).items()]
    return "## Loading\n\n" + "\n\n".join(blocks)


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
