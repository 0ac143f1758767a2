"""Checks ``archiver crawl`` runs before it touches the output folder (docs/reliability.md).

Everything that would otherwise fail only once the crawl has started — a setting Scrapy cannot
read as the number or flag it expects, an output folder that cannot be written, a damaged crawl
state — is found here, while the previous run's outputs are still where they were: the command
prints one line and exits (2 for options, ``EXIT_STATE_DAMAGED`` for the state) with nothing
moved.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings, default_settings

from archiver import settings as archiver_settings

#: a damaged ``state.sqlite``: not an option error, the operator has to act (``--reset-state``)
EXIT_STATE_DAMAGED = 2

#: settings with an integer default that Scrapy reads with getfloat (so 2.5 is fine)
_READ_AS_FLOAT = frozenset({"DNS_TIMEOUT", "DOWNLOAD_TIMEOUT", "DOWNLOAD_DELAY", "CLOSESPIDER_TIMEOUT"})
#: the values a numeric setting can take and still mean something: (least, exclusive, most). A
#: concurrency of 0 or less, a negative delay, a timeout of 0 would start a crawl that never asks
#: anything, or fails every request, or that Scrapy refuses only once the folder has moved.
_AT_LEAST_ONE = (1, False, None)
_MORE_THAN_ZERO = (0, True, None)
_ZERO_OR_MORE = (0, False, None)
_GZIP_LEVEL = (0, False, 9)
_RANGES: dict[str, tuple[float, bool, float | None]] = {
    **dict.fromkeys(("CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "CONCURRENT_ITEMS",
                     "REACTOR_THREADPOOL_MAXSIZE", "ARCHIVER_HARVEST_CONCURRENCY",
                     "ARCHIVER_HARVEST_CDX_PAGE_SIZE", "ARCHIVER_INCREMENTAL_STOP_PAGES",
                     "ARCHIVER_LISTING_MAX_REPEATS", "WARC_DEDUPE_MEMORY", "WARC_MAX_SIZE"), _AT_LEAST_ONE),
    **dict.fromkeys(("DOWNLOAD_TIMEOUT", "DNS_TIMEOUT", "AUTOTHROTTLE_TARGET_CONCURRENCY",
                     "ARCHIVER_REDIS_HEARTBEAT_TTL"), _MORE_THAN_ZERO),
    **dict.fromkeys(("DOWNLOAD_DELAY", "AUTOTHROTTLE_START_DELAY", "AUTOTHROTTLE_MAX_DELAY", "RETRY_TIMES",
                     "REDIRECT_MAX_TIMES", "DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE", "DEPTH_LIMIT",
                     "CLOSESPIDER_TIMEOUT", "CLOSESPIDER_ITEMCOUNT", "CLOSESPIDER_PAGECOUNT",
                     "CLOSESPIDER_ERRORCOUNT", "ARCHIVER_CRAWL_DELAY_MAX", "ARCHIVER_RETRY_AFTER_MAX",
                     "ARCHIVER_REFUSALS_MAX", "ARCHIVER_PROGRESS_INTERVAL", "ARCHIVER_STATE_COMMIT_SECONDS",
                     "ARCHIVER_REDIS_COMMIT_INTERVAL", "ARCHIVER_EXTRACT_WORKERS",
                     "ARCHIVER_HARVEST_MAX_REDIRECTS", "ARCHIVER_HARVEST_DELAY"), _ZERO_OR_MORE),
    **dict.fromkeys(("WARC_GZIP_LEVEL", "WARC_GZIP_LEVEL_COMPRESSED"), _GZIP_LEVEL),
}
#: room kept below PATH_MAX for the longest name a crawl writes under ``--out``
#: (``runs/<time>-N/failures.jsonl``, ``warc/<prefix>-<time>-<serial>-<worker>.warc.gz.open``)
_NAME_ROOM = 255


class PreflightError(ValueError):
    """An option, setting or folder the crawl cannot run with; the message is one line."""


class StateDamagedError(RuntimeError):
    """The crawl state cannot be read as a crawl state."""


def setting_type(name: str) -> type | None:
    """The type of a known setting's default (ours, then Scrapy's), None when unknown or untyped."""
    for module in (archiver_settings, default_settings):
        if name.isupper() and hasattr(module, name):
            return type(getattr(module, name))
    return None


def checked_settings(build: Callable[[], BaseSettings], overrides: Mapping[str, Any]) -> BaseSettings:
    """``build()``, then :func:`check_settings`; a value Scrapy refuses already when it is set
    (``-s FEEDS=x``: not JSON) is named too."""
    try:
        settings = build()
    except (ValueError, TypeError) as exc:
        from scrapy.settings import Settings

        for name, value in overrides.items():
            try:
                Settings().set(name, value)
            except (ValueError, TypeError):
                raise PreflightError(f"setting {name}: {value!r}: {exc}") from None
        raise PreflightError(f"settings: {exc}") from None
    check_settings(settings, overrides)
    return settings


def check_settings(settings: BaseSettings, overrides: Mapping[str, Any]) -> None:
    """Read every overridden setting of a known bool, number or dict type with Scrapy's typed
    getter, as the components will; raise :class:`PreflightError` for the first that fails."""
    getters: dict[type, tuple[Callable[[str], object], str]] = {
        bool: (settings.getbool, "True or False"), int: (settings.getint, "an integer"),
        float: (settings.getfloat, "a number"), dict: (settings.getdict, "a JSON object")}
    for name in overrides:
        kind = setting_type(name)
        if kind not in getters:
            continue
        getter, what = getters[kind]
        if name in _READ_AS_FLOAT:
            getter, what = getters[float]
        try:
            value = getter(name)
        except (ValueError, TypeError):
            raise PreflightError(f"setting {name}: {settings.get(name)!r} is not {what}") from None
        if name in _RANGES and isinstance(value, int | float):
            _check_range(name, value, *_RANGES[name])


def _check_range(name: str, value: float, least: float, exclusive: bool, most: float | None) -> None:
    """Raise :class:`PreflightError` for a number out of its setting's range (:data:`_RANGES`)."""
    if exclusive and value <= least:
        raise PreflightError(f"setting {name}: {value:g} must be more than {least:g}")
    if value < least or (most is not None and value > most):
        bounds = f"from {least:g} to {most:g}" if most is not None else f"{least:g} or more"
        raise PreflightError(f"setting {name}: {value:g} must be {bounds}")


def check_output_folder(out: Path) -> None:
    """``out`` is (or can be made) a folder this process can write files into."""
    try:
        _check_output_folder(out)
    except OSError as exc:  # a name too long for the file system, a component that is a file...
        raise PreflightError(f"--out {out}: {exc.strerror or exc}") from None


def _check_output_folder(out: Path) -> None:
    room = _path_max() - len(os.fsencode(out.absolute()))
    if room < _NAME_ROOM:
        raise PreflightError(f"--out {out}: path too long ({max(room, 0)} bytes left of PATH_MAX for "
                             "the files of a crawl)")
    if out.exists() and not out.is_dir():
        raise PreflightError(f"--out {out}: not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PreflightError(f"--out {out}: cannot create the folder: {exc.strerror}") from None
    probe = out / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PreflightError(f"--out {out}: cannot write into the folder: {exc.strerror}") from None


def _path_max() -> int:
    try:
        return os.pathconf("/", "PC_PATH_MAX")
    except (OSError, ValueError):
        return 4096


def check_state(path: Path) -> None:
    """``path`` (when it exists) is an SQLite database SQLite finds sound; otherwise raise
    :class:`StateDamagedError` naming what is wrong. Read-only: nothing is created or changed."""
    if not path.exists():
        return
    if not path.is_file():
        raise StateDamagedError(f"crawl state {path} is not a file")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in db.execute("PRAGMA quick_check")]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "captures" in tables:  # none yet: a state never written to (CrawlState creates them)
                db.execute("SELECT url FROM captures LIMIT 1").fetchall()
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StateDamagedError(f"crawl state {path} is damaged ({exc})") from None
    if verdict != ["ok"]:
        raise StateDamagedError(f"crawl state {path} is damaged ({'; '.join(verdict[:3])})")


def move_state_aside(path: Path, stamp: str) -> Path | None:
    """``--reset-state``: rename the state (and SQLite's -wal/-shm files) to ``<name>.damaged-<stamp>``
    so that the run starts with an empty state; return the new name (None without a state)."""
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.replace(aside.with_name(aside.name + suffix))
    path.replace(aside)
    return aside
