"""The columns of an exported dataset: the Arrow (Parquet) type of each record field, and what one
export wrote (:class:`ExportResult`). Shared by the export (archiver/offline/export.py) and the
dataset card it writes beside it (archiver/offline/card.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ARTICLES_FILE = "articles.jsonl"
IMAGE_KEYS = ("src", "title", "caption", "credit", "virin", "alt")
RELATED_KEYS = ("title", "url")
WARC_KEYS = ("filename", "offset", "length", "record_id", "payload_digest")
LEGACY_ID_KEYS = ("kind", "number", "path")


#: the text fields of a record's ``source`` (archiver/schema/article.schema.json)
SOURCE_TEXT_KEYS = ("archive", "timestamp", "captured_at", "capture_url", "original_url", "crawl", "filename")


def arrow_type(name: str) -> Any:
    """The Arrow type of one field of the cleaned record (the Parquet column type)."""
    import pyarrow as pa

    def strings(keys: Sequence[str]) -> Any:
        return pa.struct([pa.field(key, pa.string()) for key in keys])

    types = {
        "authors": pa.list_(pa.string()),
        "tags": pa.list_(pa.string()),
        "images": pa.list_(strings(IMAGE_KEYS)),
        "videos": pa.list_(
            pa.struct(
                [
                    pa.field("title", pa.string()),
                    pa.field("duration", pa.int32()),
                    pa.field("src", pa.string()),
                ]
            )
        ),
        "related": pa.list_(strings(RELATED_KEYS)),
        "historical": pa.bool_(),
        "legacy_id": strings(LEGACY_ID_KEYS),
        "fetched_at": pa.timestamp("us", tz="UTC"),
        "gone_since": pa.timestamp("us", tz="UTC"),
        "warc": pa.struct(
            [
                pa.field("filename", pa.string()),
                pa.field("offset", pa.int64()),
                pa.field("length", pa.int64()),
                pa.field("record_id", pa.string()),
                pa.field("payload_digest", pa.string()),
            ]
        ),
        # where the version came from (archiver harvest): "live", or an archive's capture
        "source": pa.struct(
            [pa.field(key, pa.string()) for key in SOURCE_TEXT_KEYS]
            + [pa.field("offset", pa.int64()), pa.field("length", pa.int64())]
        ),
    }
    return types.get(name, pa.string())


def type_text(arrow: Any) -> str:
    """A short readable form of an Arrow type: ``list<struct<title: string, url: string>>``."""
    import pyarrow as pa

    if pa.types.is_list(arrow):
        return f"list<{type_text(arrow.value_type)}>"
    if pa.types.is_struct(arrow):
        inner = ", ".join(
            f"{arrow.field(i).name}: {type_text(arrow.field(i).type)}" for i in range(arrow.num_fields)
        )
        return f"struct<{inner}>"
    return str(arrow)


def arrow_schema(fields: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.schema([pa.field(name, arrow_type(name)) for name in fields])


@dataclass
class ExportResult:
    path: Path
    card: Path
    format: str
    fields: list[str]
    rows: int = 0
    skipped_lines: list[int] = field(default_factory=list)
    #: the file exported: ``articles.jsonl`` (the dataset) or ``changes.jsonl`` (one run's)
    source: str = ARTICLES_FILE
    #: ``year`` when the Parquet output is a folder partitioned by year
    partition_by: str | None = None
