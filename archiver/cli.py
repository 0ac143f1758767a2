"""The ``archiver`` command (also ``python -m archiver``): one subcommand per job."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from archiver.runtime.crawlcommand import (
    ArgumentParser,
    add_crawl_options,
    crawl_and_report,
    float_range,
    int_range,
    option_settings,
    sections_arg,
    usage_error,
)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _era(value: str) -> str:
    from archiver.replica.eras import parse_era

    return parse_era(value)


def _add_replica(sub: argparse._SubParsersAction[ArgumentParser]) -> None:
    p = sub.add_parser(
        "replica",
        help="serve the local replica of defense.gov",
        description="Serve a deterministic replica of defense.gov on 127.0.0.1. The first line "
        "on stdout is 'serving http://127.0.0.1:PORT/'. Stops on SIGINT/SIGTERM.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int_range(0, 65535), default=8000,
                   help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--parent", type=int, metavar="PID",
                   help="stop when the process PID ends, however it ends (Linux; what archiver demo "
                   "and the tests use, so that a killed demo leaves no replica behind)")
    p.add_argument("--articles", type=int_range(1, 1_000_000), default=300,
                   help="number of articles in the corpus (default: 300)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default: 1)")
    p.add_argument("--mutate", type=float_range(0, 100), default=0.0, metavar="PCT",
                   help="serve revision 2 of PCT%% of the articles (edited text, newer "
                   "Last-Modified), to test incremental crawls (default: 0)")
    p.add_argument("--new", type=int_range(0, 1_000_000), default=0, metavar="N",
                   help="add N articles newer than the corpus (they appear on page 1)")
    p.add_argument("--gone", type=int_range(0, 1_000_000), default=0, metavar="N",
                   help="remove N articles of the corpus (they answer 404), to test incremental crawls")
    p.add_argument("--gone-mode", choices=["404", "410", "redirect"], default="404",
                   help="how --gone articles answer: 404 (default), 410, or redirect (301 to the URL "
                   "with 'dei' in its slug, which answers 404, as the 2025 removals did)")
    p.add_argument("--page-size", type=int_range(1, 500), default=10,
                   help="items per listing page (default: 10)")
    p.add_argument("--crawl-delay", type=float_range(0, 3600), default=2.0,
                   help="Crawl-delay announced in robots.txt, seconds (default: 2)")
    p.add_argument("--historical-cutoff", type=_iso_date, default=None, metavar="DATE",
                   help="pages published before DATE carry the historical-collection notice "
                   "(default: 2021-01-20)")
    p.add_argument("--host-alias", action="store_true",
                   help="redirect requests for www.defense.gov to www.war.gov (same path), as "
                   "the real site does since 2025; use the replica as an HTTP proxy to see it")
    p.add_argument("--era", type=_era, default=None, metavar="ERA",
                   help="serve the site in the markup of another time: defenselink-static (the 1990s static "
                   "news pages, /news/Jun1998/...html), aspnet (DefenseLink / the ASP.NET "
                   "site, legacy .aspx URLs), dnn (2015-2019 skin), dgov2 (2019-2025), wargov (2025-), "
                   "mixed (each article in the markup of its publication date), or a year 1995-2025 (that "
                   "year's era); default: the replica as it always was (see docs/replica.md)")
    p.add_argument("--dump-truth", type=Path, metavar="FILE",
                   help="write every article's expected cleaned record (JSON Lines) to FILE")
    p.add_argument("--no-serve", action="store_true",
                   help="with --dump-truth: write the truth and exit without serving")
    p.add_argument("--base-url", default="https://www.defense.gov",
                   help="site URL used in the truth records with --no-serve")
    p.add_argument("--faults", metavar="SPEC",
                   help="inject failures, e.g. 5xx=4,429=2,slow=1,reset=1,truncate=1,badgzip=1,charset=1,"
                   "loop=1,offsite=1,empty=1,huge=1,listing-repeat=1,listing-skip=1 (percent of URLs per "
                   "kind; KIND=PCT:N fails the first N requests, KIND=PCT:always every one; see "
                   "docs/replica.md)")
    p.add_argument("--fault-seed", type=int, default=None, metavar="N",
                   help="seed of the fault draw (default: --seed)")
    p.add_argument("--fault-delay", type=float_range(0, 3600), default=None, metavar="SECONDS",
                   help="how long 'slow' faults send nothing (default: 65, past the crawler's timeout)")
    p.add_argument("--fault-retry-after", type=float_range(0, 86400), default=None, metavar="SECONDS",
                   help="Retry-After of the '429' faults (default: 1, or an HTTP date 2 s ahead)")
    p.add_argument("--hostile", type=Path, metavar="DIR",
                   help="also serve the hostile-input cases of DIR (e.g. tests/fixtures/hostile)")
    p.add_argument("--botwall", choices=["akamai", "cloudflare", "cloudflare-challenge"], default="",
                   help="answer every request 403 with that CDN's block (or challenge) page and headers, "
                   "as a site refusing crawlers does (see docs/replica.md)")
    p.add_argument("--botwall-after", type=int_range(0, 10_000_000), default=0, metavar="N",
                   help="with --botwall: let the first N requests through (default: 0)")
    p.set_defaults(func=_run_replica)


def _run_replica(args: argparse.Namespace) -> int:
    from archiver.replica.corpus import DEFAULT_HISTORICAL_CUTOFF, Corpus, CorpusOptions
    from archiver.replica.faults import DEFAULT_DELAY, parse_fault_spec
    from archiver.replica.run import PortInUseError, ReplicaConfig, dump_truth, serve
    from archiver.replica.server import ReplicaSite, ServerOptions

    if args.faults is None and (args.fault_seed is not None or args.fault_delay is not None
                                or args.fault_retry_after is not None):
        return usage_error(args, "--fault-seed, --fault-delay and --fault-retry-after need --faults SPEC")
    corpus_options = CorpusOptions(
        seed=args.seed, articles=args.articles, mutate_percent=args.mutate,
        new_articles=args.new, gone=args.gone,
        historical_cutoff=args.historical_cutoff or DEFAULT_HISTORICAL_CUTOFF, era=args.era or "",
    )
    try:
        corpus = Corpus(corpus_options)
        faults = None if args.faults is None else parse_fault_spec(
            args.faults, seed=args.seed if args.fault_seed is None else args.fault_seed,
            delay=DEFAULT_DELAY if args.fault_delay is None else args.fault_delay,
            retry_after=args.fault_retry_after)
        server_options = ServerOptions(page_size=args.page_size, crawl_delay=args.crawl_delay,
                                       host_alias=args.host_alias, faults=faults, hostile=args.hostile,
                                       botwall=args.botwall, botwall_after=args.botwall_after,
                                       gone_mode=args.gone_mode)
        site = ReplicaSite(corpus, server_options)  # loads the hostile cases: bad ones fail here
    except (ValueError, OSError) as exc:  # options that cannot be honoured (together)
        return usage_error(args, str(exc))
    if args.no_serve:
        if args.dump_truth is None:
            return usage_error(args, "--no-serve needs --dump-truth FILE")
        count = dump_truth(corpus, args.base_url, args.dump_truth, site.truth_faults())
        print(f"wrote {count} truth records to {args.dump_truth}")
        return 0
    config = ReplicaConfig(corpus=corpus_options, server=server_options, host=args.host, port=args.port)
    if args.parent:
        import signal

        from archiver.runtime.lifetime import end_with_parent

        end_with_parent(args.parent, signal.SIGTERM)
    try:
        serve(config, truth_path=args.dump_truth)
    except PortInUseError as exc:
        return usage_error(args, str(exc))
    return 0


def _site(value: str) -> str:
    from archiver.site import normalise_site

    try:
        return normalise_site(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_crawl(sub: argparse._SubParsersAction[ArgumentParser]) -> None:
    from archiver.site import DEFAULT_SITE

    p = sub.add_parser(
        "crawl", help="crawl defense.gov (or --site) into a web archive plus cleaned JSON",
        description="Crawl the site's news into DIR: WARC files, CDXJ indexes, a WACZ, the cleaned "
        "articles.jsonl (the whole dataset, every run), changes.jsonl (this run's records), report.json and "
        "failures.jsonl. Polite by default (robots.txt, Crawl-delay, "
        "AutoThrottle). Exit code 0 when nothing failed, 1 otherwise (also a crawl that stopped early: "
        "run it again with --resume), 2 for bad options or a damaged crawl state, 3 when another crawl "
        "holds DIR or its state, 4 when the site refused the crawl (a CDN bot wall, or a Retry-After "
        "longer than the crawl waits), 130 for a Ctrl-C while it was starting up (run it again with "
        "--resume).")
    p.add_argument("--site", type=_site, default=DEFAULT_SITE,
                   help=f"site to crawl (default: {DEFAULT_SITE})")
    p.add_argument("--discovery", choices=["sections", "rss", "sitemap", "ids"], default="sections",
                   help="how to find articles: section listings (default), RSS feeds, XML sitemaps, "
                   "or --ids")
    p.add_argument("--sections", type=sections_arg, default=None, metavar="NAMES",
                   help="comma list of sections (default: all): news-stories, releases, transcripts, "
                   "speeches, contracts, feature-stories, advisories, archive")
    p.add_argument("--since", type=_iso_date, metavar="DATE", help="only articles published on/after DATE")
    p.add_argument("--until", type=_iso_date, metavar="DATE", help="only articles published on/before DATE")
    p.add_argument("--max-pages", type=int_range(1, 10_000_000), metavar="N",
                   help="at most N listing pages per section")
    p.add_argument("--ids", metavar="RANGES", help="with --discovery ids: e.g. 1000000-1000500,1000777")
    p.add_argument("--legacy-ids", action="store_true",
                   help="with --ids: ask the legacy NewsArticle.aspx?ID= URLs")
    p.add_argument("--images", action="store_true", help="also archive the full-size photos")
    p.add_argument("--contact", metavar="EMAIL_OR_URL", default="",
                   help="who runs the crawl, sent in the User-Agent so that the site's operators can "
                   "reach you (setting ARCHIVER_CONTACT; a crawl of the real site without one warns)")
    add_crawl_options(p)
    from archiver.distributed.commands import add_redis_options

    add_redis_options(p)
    p.set_defaults(func=_run_crawl)


def _add_demo(sub: argparse._SubParsersAction[ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo", help="start the local replica and crawl it (no network needed)",
        description="Start the local defense.gov replica on a free port, crawl every section of it "
        "(delays lifted: it is local), and leave the archive and cleaned JSON in DIR.")
    p.add_argument("--articles", type=int_range(10, 100_000), default=200,
                   help="articles in the replica (default: 200)")
    p.add_argument("--seed", type=int, default=1, help="replica seed (default: 1)")
    p.add_argument("--history", action="store_true",
                   help="instead: build a local web archive of older-era pages, serve it with pywb and "
                   "harvest it (archiver harvest, docs/harvest.md)")
    p.add_argument("--images", action="store_true", help="also archive the full-size photos")
    add_crawl_options(p)
    p.set_defaults(func=_run_demo)
    p.epilog = ("Each demo starts from scratch in DIR (as --overwrite), except with --resume or --full: "
                "those go on with the crawl already in DIR, the replica serving at the port of that "
                "crawl (from its report.json, or its WARC if it was killed), so that its URLs stay the same.")


def _add_wacz(sub: argparse._SubParsersAction[ArgumentParser]) -> None:
    p = sub.add_parser("wacz", help="package a crawl folder's WARC files into a WACZ",
                       description="Build DIR/archive.wacz (or --output) from DIR/warc/*.warc.gz, "
                       "with pages.jsonl listing the articles of the dataset (DIR/articles.jsonl). "
                       "Exit codes: 0 written; 1 failed; 2 bad options; 5 the disk is full (nothing "
                       "is left half-written: free space and run it again).")
    p.add_argument("dir", type=Path, metavar="DIR", help="a crawl output folder")
    p.add_argument("--output", type=Path, metavar="FILE", help="where to write the WACZ")
    p.set_defaults(func=_run_wacz)


def _run_crawl(args: argparse.Namespace) -> int:
    spider_args: dict[str, object] = {"site": args.site}
    if args.since:
        spider_args["since"] = args.since.isoformat()
    if args.until:
        spider_args["until"] = args.until.isoformat()
    if args.since and args.until and args.since > args.until:
        return usage_error(args, "--since is after --until")
    if args.discovery == "ids":
        if not args.ids:
            return usage_error(args, "--discovery ids needs --ids RANGES")
        from archiver.site import parse_id_ranges

        try:
            parse_id_ranges(args.ids)
        except ValueError as exc:
            return usage_error(args, f"--ids: {exc}")
        spider_args.update(ids=args.ids, legacy="1" if args.legacy_ids else "0")
    elif args.ids:
        return usage_error(args, "--ids needs --discovery ids")
    if args.sections and args.discovery in {"sections", "rss"}:
        spider_args["sections"] = ",".join(args.sections)
    if args.max_pages and args.discovery == "sections":
        spider_args["max_pages"] = args.max_pages
    if args.images:
        spider_args["images"] = "1"
    contact = _contact_settings(args)
    if isinstance(contact, str):
        return usage_error(args, contact)
    from archiver.distributed.commands import RedisOptionError, redis_settings

    try:
        distributed = redis_settings(args)  # {} without --redis
    except RedisOptionError as exc:
        return usage_error(args, str(exc))
    return crawl_and_report(args, args.discovery, spider_args,
                             {**contact, **option_settings(args), **distributed})


def _contact_settings(args: argparse.Namespace) -> dict[str, object] | str:
    """``ARCHIVER_CONTACT`` from ``--contact``, or the problem with it."""
    from archiver.downloadermiddlewares.useragent import contact_problem

    if args.contact:
        problem = contact_problem(args.contact)
        return f"--contact: {problem}" if problem else {"ARCHIVER_CONTACT": args.contact}
    return {}


#: the demo crawls a local server: politeness delays are lifted for it (and only for it)
DEMO_SETTINGS: dict[str, object] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "ARCHIVER_SITE_HOSTS": [],
}


def _run_demo(args: argparse.Namespace) -> int:
    from contextlib import ExitStack

    from archiver.replica.process import replica

    if not (args.resume or args.full):
        args.overwrite = True  # a demo starts from scratch
    if args.history:
        from archiver.harvest.demo import run_history_demo

        return run_history_demo(args)
    # --resume, --full: go on with the crawl in DIR, at the same replica URLs
    port = _earlier_demo_port(args.out) if args.resume or args.full else 0
    with ExitStack() as stack:
        try:
            site = stack.enter_context(replica("--articles", str(args.articles), "--seed", str(args.seed),
                                               "--crawl-delay", "0", "--port", str(port)))
        except RuntimeError as exc:
            if not port:
                raise
            print(f"archiver demo: error: the replica could not start on port {port}, where the demo in "
                  f"{args.out} ran (another program uses it?): {exc}", file=sys.stderr)
            return 1
        print(f"replica of defense.gov with {args.articles} articles at {site.base}/", flush=True)
        settings = {**DEMO_SETTINGS, **option_settings(args)}
        spider_args: dict[str, object] = {"site": site.base, **({"images": "1"} if args.images else {})}
        return crawl_and_report(args, "sections", spider_args, settings)


def _earlier_demo_port(out: Path) -> int:
    """The replica port of the last demo in ``out``: its report.json, else (a demo killed before
    writing one) the first record of its newest WARC file; 0 (a free port) when there is none."""
    import json
    from urllib.parse import urlsplit

    try:
        site = json.loads((out / "report.json").read_text("utf-8")).get("site") or ""
        return urlsplit(site).port or 0
    except (OSError, ValueError, AttributeError):
        pass
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    for path in sorted((out / "warc").glob("*.warc.gz*"), reverse=True):
        try:
            with path.open("rb") as stream:
                for record in ArchiveIterator(stream):
                    target = record.rec_headers.get_header("WARC-Target-URI")
                    if target:
                        return urlsplit(target).port or 0
        except (OSError, ArchiveLoadFailed, ValueError):
            continue
    return 0


def _run_wacz(args: argparse.Namespace) -> int:
    from archiver.runtime.diskfull import EXIT_DISK_FULL, is_disk_full
    from archiver.runtime.packaging import package_wacz

    try:
        path = package_wacz(args.dir, args.output)
    except (RuntimeError, OSError) as exc:
        full = is_disk_full(exc)
        print(f"archiver wacz: error: {'disk full: ' if full else ''}{exc}", file=sys.stderr)
        return EXIT_DISK_FULL if full else 1
    print(f"wrote {path}")
    return 0


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="archiver",
        description="Archive defense.gov news: a faithful WARC/1.1 web archive plus cleaned JSON.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    _add_replica(sub)
    _add_crawl(sub)
    _add_demo(sub)
    _add_wacz(sub)
    from archiver.offline.extractcommands import add_clean_text_command, add_extract_command

    add_extract_command(sub)
    add_clean_text_command(sub)
    from archiver.offline.commands import (
        add_export_command,
        add_reextract_command,
        add_stats_command,
        add_verify_command,
        add_versions_command,
    )

    add_reextract_command(sub)
    add_verify_command(sub)
    add_export_command(sub)
    add_stats_command(sub)
    add_versions_command(sub)
    from archiver.distributed.commands import add_merge_command, add_redis_command

    add_merge_command(sub)
    add_redis_command(sub)
    from archiver.harvest.command import add_harvest_command

    add_harvest_command(sub)
    return parser


#: commands whose process needs no more of Scrapy than its exception classes (the cleaning
#: pipelines raise them): run as the program, they skip the ``scrapy`` package's ``__init__``
#: (Twisted and the HTTP stack, ~0.3 CPU-s of each run's start-up; docs/performance.md)
SCRAPY_EXCEPTIONS_ONLY = frozenset({"reextract"})


#: the commands with a --resume option
RESUMABLE = frozenset({"crawl", "demo", "harvest"})
#: a command interrupted by Ctrl-C before its own signal handling began (128 + SIGINT, as shells say)
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv is None and words[:1] and words[0] in SCRAPY_EXCEPTIONS_ONLY:
            # only for the program's own command line: in a process that goes on to other work
            # (tests calling main([...])) ``from scrapy import X`` must keep working
            from archiver.runtime.extractworker import import_scrapy_exceptions_alone

            import_scrapy_exceptions_alone()
        args = build_parser().parse_args(words)
        result: int = args.func(args)
    except KeyboardInterrupt:  # Ctrl-C before a crawl's own signal handling began (imports, start-up)
        command = next((word for word in words if not word.startswith("-")), "")
        again = ": run the same command with --resume to go on" if command in RESUMABLE else ""
        print(f"\narchiver {command or '(no command)'}: interrupted (Ctrl-C){again}", file=sys.stderr)
        if argv is None:  # the program's own run ends here, as Ctrl-C's default action would end it:
            # no exit handlers or finalizers on what the interrupt left half-done (a thread pool or a
            # lock it cut short can hang the exit; an asyncio loop cut short in its __init__ prints
            # "Exception ignored in ..."); nothing was crawled yet, and files are renamed atomically
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    return result


if __name__ == "__main__":
    sys.exit(main())
