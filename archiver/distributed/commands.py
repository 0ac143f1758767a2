"""CLI of distributed crawls: ``crawl --redis/--worker/--redis-key``, ``merge``, ``redis status|reset``.

``archiver.cli`` calls :func:`add_redis_options` on the crawl parser, merges
:func:`redis_settings` into the crawl's settings, and registers :func:`add_merge_command` and
:func:`add_redis_command`. The same commands run as ``python -m archiver.distributed``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archiver.distributed.connection import check_url, dependency_problem
from archiver.distributed.keys import DEFAULT_KEY, CrawlKeys, check_worker_name, crawl_prefix

ADDON = "archiver.distributed.addon.DistributedCrawl"
ADDON_ORDER = 10
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_IN_USE = 0, 1, 2, 3
_DEFAULT_KEY_HELP = DEFAULT_KEY.replace("%", "%%")  # argparse %-formats help strings


class RedisOptionError(ValueError):
    """``--redis`` options that cannot work (bad URL, missing libraries, no server)."""


def _worker(value: str) -> str:
    try:
        return check_worker_name(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _redis_url(value: str) -> str:
    try:
        return check_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_redis_options(parser: argparse.ArgumentParser) -> None:
    """``--redis URL``, ``--worker NAME``, ``--redis-key KEY`` on the crawl command."""
    group = parser.add_argument_group("distributed crawl (docs/distributed.md)")
    group.add_argument("--redis", type=_redis_url, metavar="URL",
                       help="join a crawl shared through Redis (redis://host:port/db): any number of "
                       "workers run the same command, each with its own --out")
    group.add_argument("--worker", type=_worker, metavar="NAME",
                       help="with --redis: this worker's name, unique in the crawl; in WARC file names "
                       "(default: <host>-<pid>)")
    group.add_argument("--redis-key", metavar="KEY",
                       help=f"with --redis: prefix of the crawl's Redis keys, one per crawl "
                       f"(default: {_DEFAULT_KEY_HELP}, %%(spider)s being the spider)")


def redis_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Settings for the crawl's ``--redis`` options ({} without ``--redis``).

    Checks before the crawl starts that the libraries are installed and the server answers;
    raises :class:`RedisOptionError` (a ValueError) with a one-line message otherwise.
    """
    url = getattr(args, "redis", None)
    if not url:
        if getattr(args, "worker", None) or getattr(args, "redis_key", None):
            raise RedisOptionError("--worker and --redis-key need --redis URL")
        return {}
    server = _check_server(url)
    spider = getattr(args, "discovery", None) or "sections"
    key = args.redis_key or dict(getattr(args, "set", ())).get("ARCHIVER_REDIS_KEY") or DEFAULT_KEY
    _check_not_finished(server, CrawlKeys(crawl_prefix(key, spider)))
    settings: dict[str, Any] = {"ARCHIVER_REDIS_URL": url, "ADDONS": _addons()}
    if args.worker:
        settings["ARCHIVER_REDIS_WORKER"] = args.worker
    if args.redis_key:
        settings["ARCHIVER_REDIS_KEY"] = args.redis_key
    return settings


def _addons() -> dict[str, int]:
    """The project's add-ons plus this one (``archiver crawl --redis`` works before settings.py lists it)."""
    from archiver import settings as project

    return {**project.ADDONS, ADDON: ADDON_ORDER}


def _check_server(url: str) -> Any:
    """A client of the server at ``url`` once it answered PING."""
    problem = dependency_problem()
    if problem:
        raise RedisOptionError(problem)
    from redis.exceptions import RedisError

    from archiver.distributed.connection import connect

    server = connect(url, {"socket_connect_timeout": 5, "socket_timeout": 5, "retry_on_timeout": False})
    try:
        server.ping()
    except (RedisError, OSError) as exc:
        raise RedisOptionError(f"cannot reach Redis at {url}: {exc}") from None
    return server


def _check_not_finished(server: Any, keys: CrawlKeys) -> None:
    finished = server.get(keys.finished)
    if finished:
        when = finished.decode() if isinstance(finished, bytes) else finished
        raise RedisOptionError(f"crawl {keys.prefix} finished at {when}; to crawl again give another "
                               f"--redis-key, or clear it: archiver redis reset --redis-key {keys.prefix}")


# -- archiver merge ---------------------------------------------------------------------------------------


def add_merge_command(sub: Any) -> None:
    """``archiver merge DIR... --out DIR [--no-wacz] [--no-repair]``."""
    p = sub.add_parser(
        "merge", help="merge the output folders of a distributed crawl's workers",
        description="Merge worker folders (archiver crawl --redis ... --out DIR) into one: WARCs "
        "(linked), one CDXJ, one articles.jsonl (the dataset: one line per article_id, in "
        "article_id order), the workers' changes.jsonl, one WACZ, the union of the crawl states. "
        "Run it once every worker has stopped. Exit code 0 when merged, 1 when the WACZ failed, "
        "2 for bad options, 3 when a crawl still runs in an input folder.")
    p.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="worker output folders")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder of the merged archive")
    p.add_argument("--no-wacz", action="store_true", help="do not build archive.wacz")
    p.add_argument("--no-repair", action="store_true",
                   help="leave WARC files still .open (killed workers) out instead of repairing them")
    p.set_defaults(func=run_merge)


def run_merge(args: argparse.Namespace) -> int:
    from archiver.distributed.merge import FolderInUseError, MergeError, merge_crawls

    try:
        report = merge_crawls(args.dirs, args.out, wacz=not args.no_wacz, repair=not args.no_repair)
    except MergeError as exc:
        return _fail(args, exc, EXIT_USAGE)
    except FolderInUseError as exc:
        return _fail(args, exc, EXIT_IN_USE)
    except OSError as exc:
        return _fail(args, exc, EXIT_FAILED)
    print(f"merged {len(report.inputs)} folder(s) into {report.out}")
    print(f"  articles   {report.articles} ({report.duplicates} duplicate(s) dropped, "
          f"{report.invalid_lines} unreadable line(s))")
    print(f"  WARC       {report.warcs} file(s), {len(report.repaired)} repaired; index {report.cdxj} "
          f"({report.cdxj_lines} lines)")
    print(f"  WACZ       {report.wacz or report.wacz_error or 'not built'}")
    print(f"  state      {report.state_rows} row(s) merged")
    return EXIT_FAILED if report.wacz_error else EXIT_OK


# -- archiver redis status|reset ---------------------------------------------------------------------------


def add_redis_command(sub: Any) -> None:
    """``archiver redis status|reset --redis URL [--redis-key KEY] [--spider NAME]``."""
    p = sub.add_parser("redis", help="progress of a distributed crawl, or clear it from Redis",
                       description="Show a distributed crawl's progress as Redis sees it, or delete its "
                       "keys so that the same --redis-key can crawl again.")
    actions = p.add_subparsers(dest="action", metavar="ACTION", parser_class=type(p))
    actions.required = True
    status = actions.add_parser("status", help="queue, seen requests, workers (alive, in flight, done)")
    _add_crawl_target(status)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.add_argument("--watch", type=float, metavar="SECONDS", help="repeat until the crawl is finished")
    status.set_defaults(func=run_status)
    reset = actions.add_parser("reset", help="delete every key of the crawl (refused while a worker runs)")
    _add_crawl_target(reset)
    reset.add_argument("--force", action="store_true", help="even while workers run")
    reset.set_defaults(func=run_reset)


def _add_crawl_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--redis", type=_redis_url, required=True, metavar="URL", help="the crawl's Redis")
    p.add_argument("--redis-key", default=DEFAULT_KEY, metavar="KEY",
                   help=f"the crawl's key prefix, as given to crawl (default: {_DEFAULT_KEY_HELP})")
    p.add_argument("--spider", default="sections", help="spider filling %%(spider)s (default: sections)")


def _target(args: argparse.Namespace) -> tuple[Any, CrawlKeys]:
    return _check_server(args.redis), CrawlKeys(crawl_prefix(args.redis_key, args.spider))


def run_status(args: argparse.Namespace) -> int:
    from archiver.distributed.status import crawl_status, format_status, watch

    try:
        server, keys = _target(args)
    except RedisOptionError as exc:
        return _fail(args, exc, EXIT_USAGE)
    if args.json:
        print(json.dumps(crawl_status(server, keys), indent=2))
    elif args.watch:
        watch(server, keys, max(args.watch, 0.2), sys.stdout.write)
    else:
        print(format_status(crawl_status(server, keys)))
    return EXIT_OK


def run_reset(args: argparse.Namespace) -> int:
    from archiver.distributed.status import reset_crawl

    try:
        server, keys = _target(args)
        deleted = reset_crawl(server, keys, force=args.force)
    except RedisOptionError as exc:
        return _fail(args, exc, EXIT_USAGE)
    except RuntimeError as exc:
        return _fail(args, exc, EXIT_IN_USE)
    print(f"deleted {deleted} key(s) of crawl {keys.prefix}")
    return EXIT_OK


def _fail(args: argparse.Namespace, error: Exception, code: int) -> int:
    print(f"archiver {args.command}: error: {error}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m archiver.distributed merge|redis ...``."""
    from archiver.runtime.crawlcommand import ArgumentParser

    parser = ArgumentParser(prog="python -m archiver.distributed",
                            description="Distributed crawls: merge worker folders, watch or reset a crawl.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True
    add_merge_command(sub)
    add_redis_command(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
