"""Package an output folder's WARC files into one WACZ (``archive.wacz``) with its pages."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

from archiver.addon import ARTICLES_FILE, CHANGES_FILE
from archiver.warc.index import INDEX_DIR_NAME, WaczPage
from archiver.warc.wacz import build_wacz

logger = logging.getLogger(__name__)

WACZ_FILE = "archive.wacz"


def article_files(out_dir: Path) -> list[Path]:
    """The files whose articles are the WACZ's pages: the folder's current dataset
    (``articles.jsonl``, every article of every run once, archiver/runtime/dataset.py).

    A folder of the older layout (no ``changes.jsonl`` yet: each run's own records in its
    ``articles.jsonl``, earlier runs' in ``runs/*/articles.jsonl``) gives every run's, oldest first,
    until its next run builds its dataset."""
    files = [out_dir / ARTICLES_FILE] if (out_dir / ARTICLES_FILE).exists() else []
    if not is_dataset_folder(out_dir):
        files = sorted((out_dir / "runs").glob(f"*/{ARTICLES_FILE}")) + files
    return files


def is_dataset_folder(out_dir: Path) -> bool:
    """Whether ``out_dir/articles.jsonl`` is a dataset (a crawl, harvest or merge folder with its
    ``changes.jsonl``, a re-extraction with its ``captures.jsonl``), not an older run's records."""
    return (out_dir / CHANGES_FILE).exists() or (out_dir / "captures.jsonl").exists()


def folder_pages(out_dir: Path) -> Iterator[WaczPage]:
    """The WACZ pages of every article of the folder's dataset (its latest version's capture),
    read one line at a time."""
    for path in article_files(out_dir):
        yield from article_pages(path)


def article_pages(articles_path: Path) -> Iterator[WaczPage]:
    """One WACZ page per article of ``articles.jsonl`` (url, WARC-Date, title)."""
    if not articles_path.exists():
        return
    with articles_path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
                yield WaczPage(url=record["url"], ts=record["fetched_at"], title=record.get("title", ""))
            except (ValueError, KeyError, TypeError):
                logger.warning("%s:%d: not an article record; left out of pages.jsonl", articles_path, number)


def closed_warcs(out_dir: Path) -> list[Path]:
    return sorted((out_dir / "warc").glob("*.warc.gz"))


def package_wacz(out_dir: Path, out_path: Path | None = None) -> Path:
    """Build ``out_dir/archive.wacz`` from ``out_dir/warc/*.warc.gz``, with the pages of the
    folder's dataset (:func:`article_files`)."""
    warcs = closed_warcs(out_dir)
    if not warcs:
        raise RuntimeError(f"no closed WARC files in {out_dir / 'warc'}")
    target = out_path or out_dir / WACZ_FILE
    tmp = target.with_name(f".part-{target.name}")
    try:
        build_wacz(warcs, tmp, folder_pages(out_dir), out_dir / INDEX_DIR_NAME)
        tmp.replace(target)
    finally:  # failed, cut short (disk full) or interrupted (extensions/shutdown.py): no half-written file
        tmp.unlink(missing_ok=True)
    return target
