"""``archiver extract FILE.html`` and ``archiver clean-text FILE|-`` (registered by ``archiver.cli``).

``cli.py`` calls :func:`add_extract_command` and :func:`add_clean_text_command` with its
subparsers action; each sets ``func=`` to a function taking the parsed ``args`` and returning the
exit code (0 ok, 1 page rejected by the pipelines, 2 usage error / missing file / not an article).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2


def add_extract_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "extract",
        help="print the cleaned record of one saved article page as JSON",
        description="Extract one saved defense.gov article page (FILE.html) with the same extraction "
        "and pipelines as a crawl and print its cleaned record as JSON (without the crawl's "
        "'warc' field). Exit 2 if the file is missing or not an article page, 1 if the "
        "pipelines reject it.",
    )
    p.add_argument("file", type=Path, metavar="FILE.html", help="saved HTML page")
    p.add_argument("--url", default=None,
                   help="URL the page was fetched from (default: its canonical URL, else the file URI)")
    p.add_argument("--charset", default=None,
                   help="charset the server declared, if known (default: read the page's own declaration)")
    p.set_defaults(func=run_extract)


def add_clean_text_command(subparsers: argparse._SubParsersAction[Any]) -> None:
    p = subparsers.add_parser(
        "clean-text",
        help="clean a naive text dump of an article into JSON",
        description="Clean a naive text dump of a defense.gov article (banner, notice, captions repeated, "
        "player text, as legacy datasets hold them) into title, body, images, videos and "
        "historical, printed as JSON. FILE '-' reads standard input.",
    )
    p.add_argument("file", metavar="FILE|-", help="text file, or - for standard input")
    p.set_defaults(func=run_clean_text)


def run_extract(args: argparse.Namespace) -> int:
    from archiver.extract import extract_article, refusal_reason
    from pipelines.chain import PipelineChain
    from pipelines.rejections import ArticleDropped

    path: Path = args.file
    body, problem = _read_bytes(path)
    if body is None:
        return _error("extract", f"{path}: {problem}")
    headers = {"Content-Type": f"text/html; charset={args.charset}"} if args.charset else None
    url = args.url or path.resolve().as_uri()
    item = extract_article(url, body, headers)
    if item is not None and not args.url and item.url == url and item.canonical_url != url:
        url = item.canonical_url  # a saved page: its own canonical URL is where it came from
        item = extract_article(url, body, headers)
    # (a saved web-archive playback page names its original URL itself: item.url is that already)
    if item is None:
        return _error("extract", f"{path}: {refusal_reason(url, body, headers) or 'not an article page'}")
    try:
        record = PipelineChain.build().process(item).record()
    except ArticleDropped as exc:
        _error("extract", f"{path}: rejected by the {exc.stage} pipeline: {exc.reason}")
        return EXIT_REJECTED
    record.pop("warc", None)
    _emit(json.dumps(record, ensure_ascii=False, indent=2))
    return EXIT_OK


def run_clean_text(args: argparse.Namespace) -> int:
    from archiver.extract.textdump import clean_text_dump

    if args.file == "-":
        text = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    else:
        raw, problem = _read_bytes(Path(args.file))
        if raw is None:
            return _error("clean-text", f"{args.file}: {problem}")
        text = raw.decode("utf-8-sig", errors="replace")
    _emit(json.dumps(clean_text_dump(text), ensure_ascii=False, indent=2))
    return EXIT_OK


def _emit(text: str) -> None:
    """Print ``text``; a reader that went away (``| head``) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # https://docs.python.org/3/library/signal.html#note-on-sigpipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _read_bytes(path: Path) -> tuple[bytes | None, str]:
    try:
        return path.read_bytes(), ""
    except OSError as exc:
        return None, (exc.strerror or str(exc)).lower()


def _error(command: str, message: str) -> int:
    print(f"archiver {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
