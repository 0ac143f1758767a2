"""``archiver merge``: one archive from the output folders of several workers.

The merged folder looks like a crawl folder, so ``archiver wacz`` and pywb work on it:

| path | what |
|---|---|
| ``warc/`` | every worker's closed WARC files, hard-linked (symlinked across file systems) |
| ``indexes/index.cdxj`` | one sorted CDXJ over all of them (``cdxj-indexer``, as for single files) |
| ``articles.jsonl`` | the dataset: one line per article (``article_id``), in the dataset's order and bytes |
| ``changes.jsonl`` | this run's records of every worker (their ``changes.jsonl``), by folder name |
| ``archive.wacz`` | all WARCs, the index and ``pages.jsonl`` of the merged articles |
| ``state.sqlite`` | the union of the workers' crawl states, for the next run |
|  | (``ARCHIVER_REDIS_STATE_FROM``) |
| ``merge.json`` | what was merged: inputs, counts, duplicates, repaired files, each worker's summary |

An article can appear more than once: a worker killed after writing it but before committing
its request leaves it to be fetched again; several workers' datasets hold versions of one article
(each folder's ``articles.jsonl`` and ``changes.jsonl`` are read; a folder of the older layout's
``runs/*/articles.jsonl`` too). Per ``article_id`` the kept record is the one whose WARC record
exists, then the latest ``fetched_at``, then the one flagged gone, then the smallest WARC
location: the same inputs always give the same bytes, in the dataset's order
(:func:`archiver.runtime.dataset.sort_key`). The candidates wait in a temporary SQLite file: memory does
not grow with the number of articles.

WARC files left ``.open`` by a killed worker are repaired first (complete records kept,
``archiver.warc.writer.repair_open_files``); merge refuses a folder whose crawl is still running
on this machine. Run it once every worker has stopped.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archiver.addon import ARTICLES_FILE, CHANGES_FILE, REPORT_FILE
from archiver.runtime.dataset import dataset_line, is_gone, sort_key
from archiver.runtime.lock import LOCK_FILE
from archiver.runtime.packaging import WACZ_FILE
from archiver.runtime.state import STATE_FILE
from archiver.warc.writer import OPEN_SUFFIX, WARC_SUFFIX, repair_open_files

logger = logging.getLogger(__name__)

MERGE_REPORT = "merge.json"
INDEX_FILE = "index.cdxj"
MERGE_OUTPUTS = ("warc", "indexes", ARTICLES_FILE, CHANGES_FILE, WACZ_FILE, STATE_FILE, MERGE_REPORT)


class MergeError(ValueError):
    """The inputs cannot be merged as asked (bad folders, clashing WARC names)."""


class FolderInUseError(RuntimeError):
    """A crawl is still running in an input folder."""


@dataclass
class MergeReport:
    """What ``merge.json`` says."""

    inputs: list[str]
    out: str
    articles: int = 0
    duplicates: int = 0
    invalid_lines: int = 0
    dangling_warc: int = 0
    warcs: int = 0
    repaired: list[str] = field(default_factory=list)
    cdxj: str = ""
    cdxj_lines: int = 0
    wacz: str | None = None
    wacz_error: str | None = None
    state_rows: int = 0
    workers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Candidate:
    line: str
    record: dict[str, Any]


def merge_crawls(inputs: Sequence[Path], out: Path, *, wacz: bool = True, repair: bool = True) -> MergeReport:
    """Merge the worker folders ``inputs`` into ``out`` (see the module docstring)."""
    folders = _check_folders(inputs, out)
    report = MergeReport([str(f) for f in folders], str(out))
    for folder in folders:
        _check_not_running(folder)
        if repair:
            report.repaired += [str(p) for p in repair_open_files(folder / "warc")]
        report.workers[str(folder)] = _worker_summary(folder)
    warcs = _collect_warcs(folders)
    _clear_outputs(out)
    linked = _link_warcs(warcs, out / "warc")
    report.warcs = len(linked)
    sizes = {path.name: path.stat().st_size for path in linked}
    _write_articles(_article_files(folders), sizes, out / ARTICLES_FILE, report)
    _write_changes(folders, out / CHANGES_FILE)
    report.cdxj, report.cdxj_lines = _write_cdxj(linked, out / "indexes" / INDEX_FILE)
    report.state_rows = _merge_states(folders, out / STATE_FILE)
    if wacz and linked:
        _package(out, report)
    (out / MERGE_REPORT).write_text(json.dumps(asdict(report), indent=2) + "\n", "utf-8")
    return report


# -- inputs ---------------------------------------------------------------------------------------------


def _check_folders(inputs: Sequence[Path], out: Path) -> list[Path]:
    folders: list[Path] = []
    for folder in inputs:
        if not folder.is_dir():
            raise MergeError(f"not a folder: {folder}")
        if folder.resolve() not in {f.resolve() for f in folders}:
            folders.append(folder)
    if not folders:
        raise MergeError("no input folders")
    if out.resolve() in {f.resolve() for f in folders}:
        raise MergeError(f"--out {out} is one of the inputs")
    if any((out / name).exists() for name in (LOCK_FILE, "crawl.log", REPORT_FILE)):
        raise MergeError(f"--out {out} holds a crawl; merge into a folder of its own")
    return folders


def _check_not_running(folder: Path) -> None:
    lock = folder / LOCK_FILE
    try:
        pid_text, _, host = lock.read_text("ascii").partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return
    host = host.strip()
    if host and host != socket.gethostname():
        logger.warning("%s: lock of pid %d on %s; make sure that worker has stopped", folder, pid, host)
        return
    if _alive(pid):
        raise FolderInUseError(f"{folder} is in use by a running crawl (pid {pid}); merge once it stopped")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_summary(folder: Path) -> dict[str, Any]:
    try:
        report = json.loads((folder / REPORT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {"report": None}
    counts = report.get("counts", {})
    return {
        "finish_reason": report.get("finish_reason"),
        "responses": counts.get("responses", 0),
        "articles": counts.get("articles", 0),
        "failures": counts.get("failures", 0),
        "worker": report.get("stats", {}).get("archiver/redis/worker"),
    }


def _collect_warcs(folders: Iterable[Path]) -> list[Path]:
    by_name: dict[str, Path] = {}
    for folder in folders:
        for path in sorted((folder / "warc").glob("*" + WARC_SUFFIX)):
            other = by_name.setdefault(path.name, path)
            if other != path and not other.samefile(path):
                raise MergeError(f"two different WARC files named {path.name}: {other} and {path} "
                                 "(give every worker its own --worker name)")
        for leftover in sorted((folder / "warc").glob("*" + OPEN_SUFFIX)):
            logger.warning("left out (still open, not repaired): %s", leftover)
    return [by_name[name] for name in sorted(by_name)]


def _article_files(folders: Iterable[Path]) -> list[Path]:
    """Each folder's dataset (``articles.jsonl``) and this run's ``changes.jsonl`` (a worker killed
    before it built its dataset has its records there only); in a folder of the older layout, every
    run's own ``runs/*/articles.jsonl``."""
    files: list[Path] = []
    for folder in folders:
        files += sorted((folder / "runs").glob(f"*/{ARTICLES_FILE}"))
        files += [folder / name for name in (ARTICLES_FILE, CHANGES_FILE) if (folder / name).exists()]
    return files


# -- outputs --------------------------------------------------------------------------------------------


def _clear_outputs(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in MERGE_OUTPUTS:
        path = out / name
        if path.is_dir() and not path.is_symlink():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        elif path.exists() or path.is_symlink():
            path.unlink()
    for leftover in out.glob(f"{STATE_FILE}-*"):
        leftover.unlink()


def _link_warcs(warcs: Sequence[Path], target: Path) -> list[Path]:
    """Hard links (no copy) to the WARCs; symbolic links where a hard link is impossible."""
    target.mkdir(parents=True, exist_ok=True)
    linked = []
    for path in warcs:
        link = target / path.name
        try:
            link.hardlink_to(path)
        except OSError:
            link.symlink_to(path.resolve())
        linked.append(link)
    return linked


def _read_candidates(files: Iterable[Path], report: MergeReport) -> Iterator[_Candidate]:
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                text = line.rstrip("\n")
                try:
                    record = json.loads(text)
                except ValueError:
                    record = None
                if not isinstance(record, dict) or not (record.get("article_id") or record.get("url")):
                    if text.strip():
                        report.invalid_lines += 1
                        logger.warning("%s:%d: not an article record (cut short by a killed worker?)",
                                       path, number)
                    continue
                yield _Candidate(dataset_line(record), record)


def _warc_ok(record: dict[str, Any], sizes: dict[str, int]) -> bool:
    location = record.get("warc")
    if not isinstance(location, dict):
        return False
    offset, length = location.get("offset"), location.get("length")
    size = sizes.get(str(location.get("filename")))
    return size is not None and isinstance(offset, int) and isinstance(length, int) \
        and offset >= 0 and offset + length <= size


def _location(candidate: _Candidate) -> tuple[str, int, str]:
    location = candidate.record.get("warc")
    if not isinstance(location, dict):
        return ("", 0, candidate.line)
    offset = location.get("offset")
    return (str(location.get("filename") or ""), offset if isinstance(offset, int) else 0, candidate.line)


def _better(new: _Candidate, kept: _Candidate, sizes: dict[str, int]) -> bool:
    """Whether ``new`` replaces ``kept``: its WARC record exists, it is newer, or it comes first."""
    new_ok, kept_ok = _warc_ok(new.record, sizes), _warc_ok(kept.record, sizes)
    if new_ok != kept_ok:
        return new_ok
    new_at, kept_at = str(new.record.get("fetched_at") or ""), str(kept.record.get("fetched_at") or "")
    if new_at != kept_at:
        return new_at > kept_at
    new_gone, kept_gone = is_gone(new.record), is_gone(kept.record)
    if new_gone != kept_gone:  # the same capture, flagged gone by the worker that found it gone
        return new_gone
    return _location(new) < _location(kept)


def _write_articles(files: Sequence[Path], sizes: dict[str, int], out_path: Path,
                    report: MergeReport) -> None:
    """One line per article, the best candidate (:func:`_better`), in the dataset's order and bytes
    (archiver/runtime/dataset.py). The candidates wait in a temporary SQLite file, not in memory."""
    db_path = out_path.with_name(f".{out_path.name}.merge.sqlite")
    db_path.unlink(missing_ok=True)
    db = sqlite3.connect(str(db_path), isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("CREATE TABLE best (key TEXT PRIMARY KEY, line TEXT NOT NULL) WITHOUT ROWID")
        db.execute("BEGIN")
        for candidate in _read_candidates(files, report):
            key = sort_key(candidate.record)
            row = db.execute("SELECT line FROM best WHERE key = ?", (key,)).fetchone()
            if row is not None:
                report.duplicates += 1
                if not _better(candidate, _Candidate(row[0], json.loads(row[0])), sizes):
                    continue
            db.execute("INSERT OR REPLACE INTO best (key, line) VALUES (?, ?)",
                       (key, dataset_line(candidate.record)))
        db.execute("COMMIT")
        tmp = out_path.with_name(f".part-{out_path.name}")
        with tmp.open("w", encoding="utf-8") as lines:
            cursor = db.execute("SELECT line FROM best ORDER BY key")
            while page := cursor.fetchmany(500):
                for (line,) in page:
                    report.articles += 1
                    report.dangling_warc += not _warc_ok(json.loads(line), sizes)
                    lines.write(line + "\n")
        tmp.replace(out_path)
    finally:
        db.close()
        db_path.unlink(missing_ok=True)


def _write_changes(folders: Sequence[Path], out_path: Path) -> None:
    """The workers' ``changes.jsonl`` (this run's records), one after the other, by folder name."""
    tmp = out_path.with_name(f".part-{out_path.name}")
    with tmp.open("wb") as merged:
        for folder in sorted(folders, key=lambda f: str(f)):
            path = folder / CHANGES_FILE
            if path.exists():
                data = path.read_bytes()
                merged.write(data[: data.rfind(b"\n") + 1])  # a line cut by a killed worker left out
    tmp.replace(out_path)


def _write_cdxj(warcs: Sequence[Path], out_path: Path) -> tuple[str, int]:
    from cdxj_indexer.main import CDXJIndexer

    from archiver.warc.index import CDXJ_RECORD_TYPES

    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    if warcs:
        CDXJIndexer(str(tmp), [str(p) for p in warcs], sort=True, records=CDXJ_RECORD_TYPES).process_all()
    else:
        tmp.write_text("", "utf-8")
    tmp.replace(out_path)
    with out_path.open(encoding="utf-8") as lines:
        count = sum(1 for line in lines if line.strip())
    return str(out_path.relative_to(out_path.parent.parent)), count


def _merge_states(folders: Sequence[Path], target: Path) -> int:
    from archiver.distributed.statemerge import merge_state_files

    sources = [folder / STATE_FILE for folder in folders if (folder / STATE_FILE).is_file()]
    return merge_state_files(target, sources) if sources else 0


def _package(out: Path, report: MergeReport) -> None:
    from archiver.runtime.packaging import package_wacz

    try:
        report.wacz = package_wacz(out).name
    except (OSError, RuntimeError) as exc:
        report.wacz_error = str(exc)
        logger.error("could not build the WACZ: %s", exc, exc_info=True)
