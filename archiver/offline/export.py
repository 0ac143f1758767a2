"""Dataset exports of ``articles.jsonl``: Parquet (fixed Arrow schema), CSV and JSON Lines.

``articles.jsonl`` is the folder's whole current dataset (archiver/runtime/dataset.py); ``--changes``
exports one run's ``changes.jsonl`` instead. Parquet can be partitioned by year of publication
(a Hive-style folder ``year=YYYY/``, written with ``pyarrow.dataset``), which pyarrow, pandas and
Hugging Face ``datasets`` read as one table.

The Parquet schema is explicit and stable: the same columns and types whatever the data (an empty
list never turns a column into ``null``); nested ``images``/``videos``/``related`` are
``list<struct>``, ``warc`` a struct, ``fetched_at`` a UTC timestamp. CSV flattens lists and
objects to JSON text. Rows are written in batches: memory does not grow with the number of
articles. ``DATASET.md`` (:mod:`archiver.offline.card`) is written next to the output.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from archiver.items import EXPORT_FIELDS
from archiver.offline.card import write_card
from archiver.offline.columns import (  # noqa: F401  (arrow_type, type_text: re-exported)
    ARTICLES_FILE,
    IMAGE_KEYS,
    LEGACY_ID_KEYS,
    RELATED_KEYS,
    WARC_KEYS,
    ExportResult,
    arrow_schema,
    arrow_type,
    type_text,
)
from archiver.offline.stats import CrawlStats

logger = logging.getLogger(__name__)

FORMATS = ("parquet", "csv", "jsonl")
CHANGES_FILE = "changes.jsonl"
EXPORT_DIR = "export"
#: ``--partition-by`` choices: the Hive partition column and how a record gives its value
PARTITIONS = ("year",)
#: the partition value of a record without a publication year
UNKNOWN_YEAR = "unknown"
BATCH_ROWS = 2048


class ExportError(ValueError):
    """Bad export options (unknown field, missing input)."""


def parse_fields(text: str | None) -> list[str]:
    """``"url,title"`` → the fields, in that order; every field of the record (and ``gone_since``,
    null unless the site removed the article) by default."""
    if not text:
        return list(EXPORT_FIELDS)
    fields = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in fields if name not in EXPORT_FIELDS]
    if unknown:
        raise ExportError(f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(EXPORT_FIELDS)}")
    if len(set(fields)) != len(fields):
        raise ExportError("a field is listed twice")
    if not fields:
        raise ExportError("no fields")
    return fields


def _only(value: Any, keys: Sequence[str]) -> dict[str, Any] | None:
    return {key: value.get(key) for key in keys} if isinstance(value, dict) else None


def _timestamp(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def arrow_row(record: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """One record shaped to the schema (unknown keys dropped, missing ones null)."""
    shaped = {
        "images": lambda v: [_only(i, IMAGE_KEYS) for i in v or []],
        "videos": lambda v: [_video(i) for i in v or []],
        "related": lambda v: [_only(i, RELATED_KEYS) for i in v or []],
        "warc": lambda v: _only(v, WARC_KEYS),
        "legacy_id": lambda v: _only(v, LEGACY_ID_KEYS),
        "fetched_at": _timestamp,
        "gone_since": lambda v: _timestamp(v) if v else None,
    }
    return {name: shaped[name](record.get(name)) if name in shaped else record.get(name) for name in fields}


def _video(value: Any) -> dict[str, Any] | None:
    video = _only(value, ("title", "duration", "src"))
    if video is not None and not isinstance(video["duration"], int):
        video["duration"] = None
    return video


def csv_cell(value: Any) -> str:
    """A CSV cell: strings as they are, booleans ``true``/``false``, lists and objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def read_articles(path: Path, skipped: list[int]) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except ValueError:
                skipped.append(number)
                logger.warning("%s:%d: not JSON; left out of the export", path, number)
                continue
            if isinstance(record, dict):
                yield record
            else:
                skipped.append(number)


def default_output(root: Path, fmt: str, changes: str | None = None, partition_by: str | None = None) -> Path:
    name = "articles" if changes is None else "changes" if not changes else f"changes-{changes}"
    return root / EXPORT_DIR / (name if partition_by else f"{name}.{fmt}")


def export_source(root: Path, changes: str | None = None) -> Path:
    """What is exported: the dataset (``articles.jsonl``); with ``changes``, one run's
    ``changes.jsonl``: the last run's (``""``) or ``runs/<changes>/changes.jsonl``."""
    if changes is None:
        return root / ARTICLES_FILE
    if not changes:
        return root / CHANGES_FILE
    if "/" in changes or changes.startswith("."):
        raise ExportError(f"not a run name: {changes!r} (a folder name under {root / 'runs'})")
    return root / "runs" / changes / CHANGES_FILE


def export(root: Path, fmt: str, fields: Sequence[str], output: Path | None = None, *,
           changes: str | None = None, partition_by: str | None = None) -> ExportResult:
    """Export ``root/articles.jsonl`` (or one run's changes) to ``output`` and write ``DATASET.md``
    next to it. ``partition_by="year"``: Parquet only, ``output`` is a folder of ``year=YYYY/``."""
    source = export_source(root, changes)
    if not source.exists():
        raise ExportError(f"{source} does not exist")
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if partition_by is not None and (fmt != "parquet" or partition_by not in PARTITIONS):
        raise ExportError(f"--partition-by {partition_by}: Parquet only, by one of {', '.join(PARTITIONS)}")
    target = output or default_output(root, fmt, changes, partition_by)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = ExportResult(target, target.parent / "DATASET.md", fmt, list(fields), source=source.name,
                          partition_by=partition_by)
    stats = CrawlStats()
    partial = target.with_name(f".part-{target.name}")
    records = _counted(read_articles(source, result.skipped_lines), stats)
    if partition_by:
        result.rows = write_parquet_partitioned(records, result.fields, partial)
        _remove_tree(target)
    else:
        result.rows = WRITERS[fmt](records, result.fields, partial)
    partial.replace(target)
    write_card(root, result, stats)
    return result


def _remove_tree(path: Path) -> None:
    import shutil

    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def partition_year(record: dict[str, Any]) -> str:
    text = str(record.get("published") or "")
    return text[:4] if len(text) >= 4 and text[:4].isdigit() else UNKNOWN_YEAR


def write_parquet_partitioned(records: Iterator[dict[str, Any]], fields: list[str], folder: Path) -> int:
    """Hive-partitioned Parquet by year of publication (``folder/year=2016/part-0.parquet``), in
    batches: memory does not grow with the number of articles."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    _remove_tree(folder)
    schema = arrow_schema(fields).append(pa.field("year", pa.string()))
    counted = [0]

    def batches() -> Iterator[Any]:
        for batch in _batches(records, fields, with_year=True):
            counted[0] += len(batch)
            yield pa.RecordBatch.from_pylist(batch, schema=schema)

    ds.write_dataset(
        batches(), folder, schema=schema, format="parquet",
        partitioning=ds.partitioning(pa.schema([pa.field("year", pa.string())]), flavor="hive"),
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
        basename_template="part-{i}.parquet", existing_data_behavior="overwrite_or_ignore",
    )
    return counted[0]


def _counted(records: Iterator[dict[str, Any]], stats: CrawlStats) -> Iterator[dict[str, Any]]:
    for record in records:
        stats.add_article(record)
        yield record


def write_parquet(records: Iterator[dict[str, Any]], fields: list[str], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(fields)
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in _batches(records, fields):
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
            rows += len(batch)
    return rows


def _batches(records: Iterator[dict[str, Any]], fields: list[str],
             with_year: bool = False) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        row = arrow_row(record, fields)
        if with_year:
            row["year"] = partition_year(record)
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def write_csv(records: Iterator[dict[str, Any]], fields: list[str], path: Path) -> int:
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(fields)
        for record in records:
            writer.writerow([csv_cell(record.get(name)) for name in fields])
            rows += 1
    return rows


def write_jsonl(records: Iterator[dict[str, Any]], fields: list[str], path: Path) -> int:
    rows = 0
    with path.open("w", encoding="utf-8") as stream:
        for record in records:
            _write_line(stream, {name: record.get(name) for name in fields})
            rows += 1
    return rows


def _write_line(stream: IO[str], record: dict[str, Any]) -> None:
    stream.write(json.dumps(record, ensure_ascii=False) + "\n")


WRITERS = {"parquet": write_parquet, "csv": write_csv, "jsonl": write_jsonl}
