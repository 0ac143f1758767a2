"""The offline subcommands of ``archiver``: ``reextract``, ``verify``, ``export``, ``stats``.

``archiver.cli`` registers them with ``add_*_command(sub)``; each sets ``func`` to a function
``(args) -> exit code``. Exit codes: 0 success, 1 the job ran and found or met problems, 2 bad
options or inputs (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _key_value(value: str) -> tuple[str, str]:
    name, sep, setting = value.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE: {value!r}")
    return name.strip(), setting


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is not 1 or more")
    return number


def _usage_error(command: str, message: str) -> int:
    print(f"archiver {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# -- reextract -------------------------------------------------------------------------------------


def add_reextract_command(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "reextract",
        help="rebuild articles.jsonl from WARC files (no network)",
        description="Run the crawl's extraction and item pipelines over archived responses and write "
        "DIR/articles.jsonl (byte-identical to the crawl's with the same code version), "
        "DIR/failures.jsonl, DIR/reextract.json and a new WARC of conversion records in DIR/warc/. "
        "The input WARCs are never modified. Exit code 0 when every record was read and every "
        "article kept, 1 otherwise, 2 for bad options.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        help="a .warc.gz or .warc file, a .wacz file, or a crawl folder (its warc/*.warc.gz)",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the outputs of an earlier re-extraction in DIR (default: refuse)",
    )
    p.add_argument(
        "--jobs",
        type=_positive,
        default=default_jobs(),
        metavar="N",
        help="worker processes (default: the CPUs this process may use)",
    )
    p.add_argument(
        "--since",
        type=_iso_date,
        metavar="DATE",
        help="only articles published on/after DATE (as the crawl's --since)",
    )
    p.add_argument(
        "--until",
        type=_iso_date,
        metavar="DATE",
        help="only articles published on/before DATE (as the crawl's --until)",
    )
    p.add_argument(
        "--chunk-mb",
        type=_positive,
        default=16,
        metavar="MB",
        help="size of the WARC byte ranges handed to the workers (default: 16)",
    )
    p.add_argument(
        "-s",
        "--set",
        type=_key_value,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline setting, e.g. ARCHIVER_DROP_DUPLICATES=False; repeatable",
    )
    p.set_defaults(func=run_reextract)


def run_reextract(args: argparse.Namespace) -> int:
    from archiver.offline.reextract import OUTPUTS, ReextractOptions, reextract
    from archiver.offline.sources import InputError, resolve_inputs

    if args.since and args.until and args.since > args.until:
        return _usage_error("reextract", "--since is after --until")
    try:
        sources = resolve_inputs(args.inputs)
    except InputError as exc:
        return _usage_error("reextract", str(exc))
    out: Path = args.out
    inside = [s.path for s in sources if Path(s.path).resolve().is_relative_to(out.resolve())]
    if inside:
        return _usage_error("reextract", f"--out {out} holds an input ({inside[0]}); use another folder")
    existing = [name for name in OUTPUTS if (out / name).exists()]
    if existing and not args.overwrite:
        return _usage_error("reextract", f"{out} already holds {', '.join(existing)}; use --overwrite")
    for name in existing:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
        else:
            (out / name).unlink()
    out.mkdir(parents=True, exist_ok=True)
    options = ReextractOptions(tuple(args.set), args.since, args.until, tuple(sources))
    chunk = args.chunk_mb * 1024 * 1024 if args.chunk_mb else None
    summary = reextract(sources, out, options, jobs=args.jobs, chunk_bytes=chunk)
    _print_reextract(summary.as_dict(), out)
    return EXIT_OK if summary.ok else EXIT_PROBLEMS


def _print_reextract(report: dict[str, Any], out: Path) -> None:
    counts, peak = report["counts"], report["peak_rss_mb"]
    warcs = ", ".join(str(out / name) for name in report["outputs"]["warc"])
    lines = [
        f"re-extracted {report['articles']} articles from {len(report['sources'])} WARC file(s) "
        f"in {report['duration_seconds']:.1f} s ({report['jobs']} worker(s))",
        f"  pages      {counts.get('pages', 0)} HTML responses, {counts.get('not_articles', 0)} not "
        f"articles, {counts.get('out_of_range', 0)} out of range, "
        f"{counts.get('revisits/resolved', 0)} from revisits",
        f"  speed      {report['pages_per_second']} pages/s, "
        f"{report['pages_per_second_per_core']} per worker; peak memory {peak['parent']} MB "
        f"(parent), {peak['worker_max']} MB (largest worker)",
        f"  dropped    {counts.get('rejected', 0)} rejected, {counts.get('skipped', 0)} duplicates, "
        f"{counts.get('errors', 0)} extraction errors (see {out / 'failures.jsonl'})",
        f"  outputs    {out / 'articles.jsonl'}, {warcs}",
    ]
    if report["problems"]:
        lines.append(f"problems ({len(report['problems'])}):")
        lines += [f"  {problem}" for problem in report["problems"]]
    print("\n".join(lines))


# -- verify ----------------------------------------------------------------------------------------


def add_verify_command(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "verify",
        help="check a crawl folder: WARC digests, articles, pointers, CDXJ, WACZ",
        description="Check that every WARC parses and its digests hold, every line of articles.jsonl "
        "is valid against the schema and its warc pointer resolves to the response record it names, "
        "the CDXJ indexes and the WACZ agree with the WARCs. Prints a report; exit code 1 with the "
        "list of problems (file and offset or line), 0 when there is none, 2 for bad options.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a crawl (or re-extraction) output folder")
    p.add_argument(
        "--max-problems",
        type=_positive,
        default=1000,
        metavar="N",
        help="list at most N problems (all are counted; default: 1000)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--with", dest="others", type=Path, action="append", default=[], metavar="OTHER_DIR",
                   help="a folder whose WARCs may hold the originals of DIR's revisits (crawls sharing "
                   "ARCHIVER_STATE_PATH); repeatable")
    p.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    from archiver.offline.verify import verify

    if not args.dir.is_dir():
        return _usage_error("verify", f"{args.dir} is not a folder")
    for other in args.others:
        if not other.is_dir():
            return _usage_error("verify", f"--with {other} is not a folder")
    report = verify(args.dir, args.max_problems, args.others)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(f"verify {args.dir}")
        print("\n".join(f"  {line}" for line in report.summary))
        if report.ok:
            print("ok: no problems")
        else:
            print(f"problems ({report.problem_count}):")
            print("\n".join(f"  {problem}" for problem in report.problems))
            if report.problem_count > len(report.problems):
                print(f"  ... and {report.problem_count - len(report.problems)} more")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


# -- export ----------------------------------------------------------------------------------------


def add_export_command(sub: argparse._SubParsersAction[Any]) -> None:
    from archiver.items import EXPORT_FIELDS

    p = sub.add_parser(
        "export",
        help="export articles.jsonl as Parquet, CSV or JSON Lines, with a DATASET.md card",
        description="Write DIR/articles.jsonl (the whole current dataset: every article once, its latest "
        "version, removed ones flagged gone_since) as a dataset file (default DIR/export/articles.FORMAT) "
        "and a DATASET.md card next to it (source, crawl dates, counts by content type, year and era, "
        "fields, licence, how to load it). --changes exports one run's changes.jsonl instead. Exit code "
        "0, 1 when lines of the input were not JSON, 2 for bad options.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a crawl (or re-extraction) output folder")
    p.add_argument("--format", choices=["parquet", "csv", "jsonl"], required=True, help="output format")
    p.add_argument(
        "--fields",
        metavar="NAMES",
        help=f"comma list of columns, in order (default: all): {','.join(EXPORT_FIELDS)}",
    )
    p.add_argument(
        "--output", type=Path, metavar="FILE", help="where to write (default: DIR/export/articles.FORMAT)"
    )
    p.add_argument(
        "--changes", nargs="?", const="", default=None, metavar="RUN",
        help="export one run's changes (new, updated, gone) instead of the dataset: the last run's "
        "DIR/changes.jsonl, or DIR/runs/RUN/changes.jsonl (default output DIR/export/changes.FORMAT)",
    )
    p.add_argument(
        "--partition-by", choices=["year"], default=None,
        help="Parquet only: write a folder partitioned by year of publication (year=YYYY/, Hive style; "
        "default output DIR/export/articles/)",
    )
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from archiver.offline.export import ExportError, export, parse_fields

    try:
        fields = parse_fields(args.fields)
        if args.format == "parquet":
            _require_pyarrow()
        result = export(args.dir, args.format, fields, args.output, changes=args.changes,
                        partition_by=args.partition_by)
    except ExportError as exc:
        return _usage_error("export", str(exc))
    print(f"wrote {result.rows} rows ({len(result.fields)} columns) to {result.path}")
    print(f"wrote {result.card}")
    if result.skipped_lines:
        shown = ", ".join(map(str, result.skipped_lines[:10]))
        print(
            f"archiver export: {len(result.skipped_lines)} line(s) of {result.source} are not JSON "
            f"(lines {shown}{', ...' if len(result.skipped_lines) > 10 else ''})",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    return EXIT_OK


def _require_pyarrow() -> None:
    from archiver.offline.export import ExportError

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ExportError("Parquet needs pyarrow (pip install pyarrow)") from None


# -- stats -----------------------------------------------------------------------------------------


def add_stats_command(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "stats",
        help="counts of a crawl folder: sections, content types, years, bytes, images, failures",
        description="Read DIR's articles.jsonl, failures.jsonl, report.json and file sizes and print "
        "articles by section, content type and year, photos, videos, bytes and failures by kind. "
        "Exit code 0, 2 when DIR has no articles.jsonl.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a crawl (or re-extraction) output folder")
    p.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.set_defaults(func=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    from archiver.offline.stats import ARTICLES_FILE, crawl_stats, render

    if not (args.dir / ARTICLES_FILE).is_file():
        return _usage_error("stats", f"{args.dir} has no {ARTICLES_FILE}")
    stats = crawl_stats(args.dir)
    if args.json:
        print(json.dumps(stats.as_dict(), indent=2, ensure_ascii=False))
    else:
        print(render(stats), end="")
    return EXIT_OK


# -- versions --------------------------------------------------------------------------------------


def add_versions_command(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser(
        "versions",
        help="list every archived version of one article, with its capture time (from the WARCs)",
        description="Read the conversion records of DIR/warc/*.warc.gz (one per new or updated version "
        "of an article, next to the raw response it was extracted from) and list those of ARTICLE_ID, "
        "oldest capture first. articles.jsonl holds the latest version only. Exit code 0, 1 when the "
        "article has no archived version, 2 when DIR has no warc/ folder.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="a crawl, harvest or re-extraction folder")
    p.add_argument("article_id", metavar="ARTICLE_ID", help="the article's id (1030001, release:10242)")
    p.add_argument("--jsonl", action="store_true",
                   help="print each version's whole record as a JSON line (with its conversion record's "
                   "place) instead of a table")
    p.set_defaults(func=run_versions)


def run_versions(args: argparse.Namespace) -> int:
    from archiver.offline.versions import article_versions, render_versions

    if not (args.dir / "warc").is_dir():
        return _usage_error("versions", f"{args.dir} has no warc/ folder")
    versions = article_versions(args.dir, args.article_id)
    if args.jsonl:
        for version in versions:
            print(json.dumps(version.as_dict(), ensure_ascii=False))
    else:
        print(render_versions(args.article_id, versions), end="")
    return EXIT_OK if versions else EXIT_PROBLEMS
