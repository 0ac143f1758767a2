"""``archiver harvest``: the command line of a harvest (the crawl runtime does the rest)."""

from __future__ import annotations

import argparse
from typing import Any

from archiver.harvest.state import MODES


def _capture_time(value: str) -> str:
    from spiders.harvest import _timestamp_arg

    try:
        result = _timestamp_arg("time", value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a capture time (YYYY, YYYYMM or YYYYMMDD): {value!r}") from None
    assert result is not None
    return result


def _archive(value: str) -> str:
    from scrapy.settings import Settings

    from archiver.harvest.sources import source_for

    try:
        source_for(value, Settings())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def add_harvest_command(sub: argparse._SubParsersAction[Any]) -> None:
    from archiver.runtime.crawlcommand import add_crawl_options, sections_arg

    p = sub.add_parser(
        "harvest", help="harvest defense.gov's history from a web archive (Wayback, Common Crawl, pywb)",
        description="Ask a web archive for every news capture of defense.gov's eras and hosts, fetch "
        "the raw captures and archive them under their original URL and capture time, clean them "
        "like a crawl. Same output folder as 'archiver crawl' (docs/harvest.md). Polite by default: "
        "about one request a second, two connections. Exit code 0 when nothing failed, 1 otherwise.")
    p.add_argument("--archive", type=_archive, default="wayback",
                   help="wayback (default: the Internet Archive), commoncrawl[:CC-MAIN-YYYY-WW], or the "
                   "URL of a pywb collection (http://host/coll)")
    p.add_argument("--from", dest="capture_from", type=_capture_time, metavar="YYYY[MM[DD]]",
                   help="only captures made on/after this time")
    p.add_argument("--to", dest="capture_to", type=_capture_time, metavar="YYYY[MM[DD]]",
                   help="only captures made on/before this time")
    p.add_argument("--sections", type=sections_arg, default=None, metavar="NAMES",
                   help="comma list of sections (default: all): news-stories, releases, transcripts, "
                   "speeches, contracts, feature-stories, advisories, archive")
    p.add_argument("--captures", choices=MODES, default="latest",
                   help="which captures of an article: the latest (default), the earliest, or all "
                   "(each distinct version, with its capture time)")
    p.add_argument("--contact", metavar="EMAIL_OR_URL", default="",
                   help="who runs the harvest, sent in the User-Agent so that the archive's operators can "
                   "reach you (setting ARCHIVER_CONTACT; a harvest of the Wayback Machine or Common "
                   "Crawl without one warns)")
    add_crawl_options(p)
    p.set_defaults(func=run_harvest)


def run_harvest(args: argparse.Namespace) -> int:
    from archiver.downloadermiddlewares.useragent import contact_problem
    from archiver.runtime.crawlcommand import crawl_and_report, option_settings, usage_error

    if args.capture_from and args.capture_to and args.capture_from > args.capture_to:
        return usage_error(args, "--from is after --to")
    contact: dict[str, object] = {}
    if args.contact:
        problem = contact_problem(args.contact)
        if problem:
            return usage_error(args, f"--contact: {problem}")
        contact["ARCHIVER_CONTACT"] = args.contact
    spider_args: dict[str, object] = {"archive": args.archive}
    if args.capture_from:
        spider_args["capture_from"] = args.capture_from
    if args.capture_to:
        spider_args["capture_to"] = args.capture_to
    if args.sections:
        spider_args["sections"] = ",".join(args.sections)
    settings = {"ARCHIVER_HARVEST_CAPTURES": args.captures, **contact, **option_settings(args)}
    return crawl_and_report(args, "harvest", spider_args, settings)
