"""The crawl commands' shared part (``archiver crawl``, ``demo``, ``harvest``): their options, and one
crawl run from them with its checks, locks and summary.

``archiver.cli`` and the command modules of the packages (``archiver.harvest.command``,
``archiver.distributed.commands``) build on this; it imports none of them.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from archiver.runtime.crawl import CrawlJob

EXIT_USAGE = 2
N = TypeVar("N", int, float)


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error message (scripts grep it) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def number_range(kind: Callable[[str], N], low: N, high: N, name: str) -> Callable[[str], N]:
    """An argparse type: ``kind(value)`` between ``low`` and ``high``, or a one-line error."""

    def parse(value: str) -> N:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {name}: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number:g} is not between {low:g} and {high:g}")
        return number

    return parse


def int_range(low: int, high: int) -> Callable[[str], int]:
    return number_range(int, low, high, "an integer")


def float_range(low: float, high: float) -> Callable[[str], float]:
    return number_range(float, low, high, "a number")


def key_value(value: str) -> tuple[str, str]:
    name, sep, setting = value.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE: {value!r}")
    return name.strip(), setting


def sections_arg(value: str) -> list[str]:
    from archiver.site import parse_sections

    try:
        return parse_sections(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_crawl_options(p: ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="output folder: warc/, indexes/, articles.jsonl (the dataset), changes.jsonl, "
                   "report.json, failures.jsonl, archive.wacz, crawl.log")
    p.add_argument("--overwrite", action="store_true",
                   help="start from scratch: remove every output of earlier crawls in DIR, crawl state "
                   "included (default: an incremental run that fetches only what is new or changed)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted crawl in DIR (killed, crashed, disk full) where it "
                   "stopped; without an interrupted crawl, start normally")
    p.add_argument("--full", action="store_true",
                   help="incremental run that pages through every listing page (still conditional GETs)")
    p.add_argument("--progress", type=float_range(0, 3600), default=2.0, metavar="SECONDS",
                   help="seconds between progress lines on stderr, 0 for none (default: 2)")
    p.add_argument("--no-wacz", action="store_true", help="do not build archive.wacz at the end")
    p.add_argument("--reset-state", action="store_true",
                   help="the crawl state is damaged: move it aside (state.sqlite.damaged-TIME) and run "
                   "with an empty one (every article is fetched again and counted new)")
    p.add_argument("--no-requisites", action="store_true",
                   help="do not archive the pages' requisites (stylesheets, scripts, fonts, displayed "
                   "images); the archive then replays pages unstyled (docs/replay.md)")
    p.add_argument("-s", "--set", type=key_value, action="append", default=[], metavar="NAME=VALUE",
                   help="override a Scrapy/archiver setting (see docs/settings.md); repeatable")


def option_settings(args: argparse.Namespace) -> dict[str, object]:
    settings: dict[str, object] = {
        "ARCHIVER_PROGRESS_INTERVAL": args.progress,
        "ARCHIVER_WACZ": not args.no_wacz,
        "ARCHIVER_FULL": args.full,
        "ARCHIVER_RESUME": args.resume,
    }
    if getattr(args, "no_requisites", False):
        settings["ARCHIVER_REQUISITES"] = False
    settings.update(dict(args.set))
    return settings


def crawl_and_report(args: argparse.Namespace, spider: str, spider_args: dict[str, object],
                      settings: dict[str, object]) -> int:
    from archiver.runtime.crawl import CrawlJob, CrawlNotStarted, crawl_settings, exit_code, print_summary
    from archiver.runtime.lock import EXIT_LOCKED, LockedError
    from archiver.runtime.preflight import (
        EXIT_STATE_DAMAGED,
        PreflightError,
        StateDamagedError,
        check_output_folder,
        checked_settings,
    )

    job = CrawlJob(spider, args.out, spider_args, settings)
    try:  # before anything in the folder moves (docs/reliability.md)
        checked_settings(lambda: crawl_settings(job), settings)
        check_output_folder(args.out)
    except PreflightError as exc:
        return usage_error(args, str(exc))
    warn_without_contact(args)
    try:
        report = _locked_crawl(args, job)
    except LockedError as exc:
        print(f"archiver {args.command}: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except (OSError, sqlite3.Error) as exc:  # repairing, reconciling, opening the state: no crawl yet
        from archiver.runtime.diskfull import is_disk_full

        if not is_disk_full(exc):
            raise
        print(f"archiver {args.command}: STOPPED before crawling: the disk is full ({exc}): free some "
              "space, then run the same command with --resume", file=sys.stderr)
        return 1
    except CrawlNotStarted as exc:
        print(f"archiver {args.command}: STOPPED before crawling: {exc}: run the same command with "
              "--resume to go on", file=sys.stderr)
        return 1
    except StateDamagedError as exc:
        print(f"archiver {args.command}: error: {exc}; run the same command with --reset-state to move "
              "it aside and start with an empty state (every article is then fetched again)",
              file=sys.stderr)
        return EXIT_STATE_DAMAGED
    print_summary(report, args.out)
    return exit_code(report)


def _locked_crawl(args: argparse.Namespace, job: CrawlJob) -> dict[str, Any]:
    """The crawl under the folder's lock (and the shared state's, if its state is elsewhere)."""
    from contextlib import ExitStack
    from datetime import UTC, datetime

    from archiver.runtime.crawl import crawl_settings, prepare_output, run
    from archiver.runtime.lock import CrawlLock, StateLock
    from archiver.runtime.preflight import check_state, move_state_aside
    from archiver.runtime.state import STATE_FILE, state_path

    with ExitStack() as locks:
        locks.enter_context(CrawlLock(args.out))
        state = state_path(crawl_settings(job))
        own_state = state is not None and state.resolve() == (args.out / STATE_FILE).resolve()
        if state is not None and not own_state:
            locks.enter_context(StateLock(state))
        if state is not None and args.reset_state:
            aside = move_state_aside(state, datetime.now(UTC).strftime("%Y%m%dT%H%M%S"))
            if aside is not None:
                print(f"crawl state moved aside to {aside}; this run starts with an empty state",
                      flush=True)
        elif state is not None and not (args.overwrite and own_state):
            check_state(state)
        previous = prepare_output(args.out, args.overwrite, resume=args.resume, state=state)
        if previous is not None:
            print(f"incremental run: the previous run's outputs are in {previous}", flush=True)
        return run(job)


def warn_without_contact(args: argparse.Namespace) -> None:
    """Once, on stderr, when the real site is crawled, or a public web archive (the Wayback Machine,
    Common Crawl) harvested, without a contact (the crawl's log says so too); after every option
    check, so that a bad option stays a one-line error."""
    from archiver.downloadermiddlewares.useragent import NO_CONTACT_WARNING, is_real_site

    site = getattr(args, "site", None)
    archive = str(getattr(args, "archive", None) or "")
    named = {"ARCHIVER_CONTACT", "ARCHIVER_CONTACT_URL", "USER_AGENT"} & {k for k, v in args.set if v}
    if getattr(args, "contact", None) or named:
        return
    if site and is_real_site(site):
        from urllib.parse import urlsplit

        print(f"archiver {args.command}: warning: "
              f"{NO_CONTACT_WARNING.format(host=urlsplit(site).hostname)}", file=sys.stderr, flush=True)
    elif _public_archive(archive, dict(args.set)):
        print(f"archiver {args.command}: warning: {NO_CONTACT_HARVEST_WARNING.format(archive=archive)}",
              file=sys.stderr, flush=True)


#: the settings that point a harvest at an archive's servers, and those servers' public hosts
_ARCHIVE_URL_SETTINGS = {"wayback": ("ARCHIVER_HARVEST_WAYBACK_URL", "web.archive.org"),
                         "commoncrawl": ("ARCHIVER_HARVEST_CC_INDEX_URL", "index.commoncrawl.org")}


def _public_archive(archive: str, overrides: dict[str, str]) -> bool:
    """A harvest of the Wayback Machine or Common Crawl itself, not of a stand-in the user set
    with ``-s ARCHIVER_HARVEST_WAYBACK_URL=...`` (a local copy, a test server)."""
    from urllib.parse import urlsplit

    kind = "commoncrawl" if archive.startswith("commoncrawl") else archive
    if kind not in _ARCHIVE_URL_SETTINGS:
        return False
    name, host = _ARCHIVE_URL_SETTINGS[kind]
    url = overrides.get(name)
    return not url or (urlsplit(url).hostname or "").lower().rstrip(".") == host


#: what ``warn_without_contact`` says to a harvest of a public web archive without a contact
NO_CONTACT_HARVEST_WARNING = (
    "harvesting {archive} without a contact: the archive's operators cannot reach you, and the "
    "Internet Archive blocks clients it cannot tell apart; name yourself with --contact EMAIL_OR_URL "
    "(setting ARCHIVER_CONTACT), which goes into the User-Agent")


def usage_error(args: argparse.Namespace, message: str) -> int:
    print(f"archiver {args.command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
