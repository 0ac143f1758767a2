"""The ``archiver`` command (also ``python -m archiver``): one subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

EXIT_USAGE = 2


class ArgumentParser(argparse.ArgumentParser):
    """argparse with a one-line error message (scripts grep it) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not between {low} and {high}")
        return number

    return parse


def _float_range(low: float, high: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number:g} is not between {low:g} and {high:g}")
        return number

    return parse


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _add_replica(sub: argparse._SubParsersAction[ArgumentParser]) -> None:
    p = sub.add_parser(
        "replica",
        help="serve the local replica of defense.gov",
        description="Serve a deterministic replica of defense.gov on 127.0.0.1. The first line "
        "on stdout is 'serving http://127.0.0.1:PORT/'. Stops on SIGINT/SIGTERM.",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=_int_range(0, 65535), default=8000,
                   help="port to listen on; 0 picks a free one (default: 8000)")
    p.add_argument("--articles", type=_int_range(1, 1_000_000), default=300,
                   help="number of articles in the corpus (default: 300)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default: 1)")
    p.add_argument("--mutate", type=_float_range(0, 100), default=0.0, metavar="PCT",
                   help="serve revision 2 of PCT%% of the articles (edited text, newer "
                   "Last-Modified), to test incremental crawls (default: 0)")
    p.add_argument("--new", type=_int_range(0, 1_000_000), default=0, metavar="N",
                   help="add N articles newer than the corpus (they appear on page 1)")
    p.add_argument("--page-size", type=_int_range(1, 500), default=10,
                   help="items per listing page (default: 10)")
    p.add_argument("--crawl-delay", type=_float_range(0, 3600), default=2.0,
                   help="Crawl-delay announced in robots.txt, seconds (default: 2)")
    p.add_argument("--historical-cutoff", type=_iso_date, default=None, metavar="DATE",
                   help="pages published before DATE carry the historical-collection notice "
                   "(default: 2021-01-20)")
    p.add_argument("--host-alias", action="store_true",
                   help="redirect requests for www.defense.gov to www.war.gov (same path), as "
                   "the real site does since 2025; use the replica as an HTTP proxy to see it")
    p.add_argument("--dump-truth", type=Path, metavar="FILE",
                   help="write every article's expected cleaned record (JSON Lines) to FILE")
    p.add_argument("--no-serve", action="store_true",
                   help="with --dump-truth: write the truth and exit without serving")
    p.add_argument("--base-url", default="https://www.defense.gov",
                   help="site URL used in the truth records with --no-serve")
    p.set_defaults(func=_run_replica)


def _run_replica(args: argparse.Namespace) -> int:
    from archiver.replica.corpus import DEFAULT_HISTORICAL_CUTOFF, Corpus, CorpusOptions
    from archiver.replica.run import PortInUseError, ReplicaConfig, dump_truth, serve
    from archiver.replica.server import ServerOptions

    corpus_options = CorpusOptions(
        seed=args.seed, articles=args.articles, mutate_percent=args.mutate,
        new_articles=args.new, historical_cutoff=args.historical_cutoff or DEFAULT_HISTORICAL_CUTOFF,
    )
    if args.no_serve:
        if args.dump_truth is None:
            return _usage_error(args, "--no-serve needs --dump-truth FILE")
        count = dump_truth(Corpus(corpus_options), args.base_url, args.dump_truth)
        print(f"wrote {count} truth records to {args.dump_truth}")
        return 0
    config = ReplicaConfig(
        corpus=corpus_options,
        server=ServerOptions(page_size=args.page_size, crawl_delay=args.crawl_delay,
                             host_alias=args.host_alias),
        host=args.host,
        port=args.port,
    )
    try:
        serve(config, truth_path=args.dump_truth)
    except PortInUseError as exc:
        return _usage_error(args, str(exc))
    return 0


def _usage_error(args: argparse.Namespace, message: str) -> int:
    print(f"archiver {args.command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="archiver",
        description="Archive defense.gov news: a faithful WARC/1.1 web archive plus cleaned JSON.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    _add_replica(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
