"""Extraction fixtures: one folder per case, ``tests/fixtures/<page-type>/<case>/``.

Each case holds ``body.html`` (the page bytes), ``info.json`` (``url``, ``headers``,
``fetched_at``) and ``output.json`` (the expected record without ``warc``, ``change`` and
``extractor_version``; ``null`` for a page that is not an article; ``{"rejected": {...}}`` for
one the pipelines reject). Updating an expectation is deliberate::

    python -m archiver.offline.fixtures list
    python -m archiver.offline.fixtures diff news-story/replica-legacy-1089225   # show, change nothing
    python -m archiver.offline.fixtures update news-story/replica-legacy-1089225 # show, then write
    python -m archiver.offline.fixtures capture --site http://127.0.0.1:8000 --host www.defense.gov \\
        --truth truth.jsonl --id 1089225 --name replica-legacy-1089225
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.items import ARTICLE_FIELDS

#: fields a crawl or the code sets, not the page: the WARC provenance, the incremental-crawl state, the
#: code's version, where the page came from (live site or archive)
NOT_FROM_THE_PAGE = frozenset({"warc", "change", "extractor_version", "source"})
#: the fields a fixture pins
FIXTURE_FIELDS: tuple[str, ...] = tuple(f for f in ARTICLE_FIELDS if f not in NOT_FROM_THE_PAGE)
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "tests" / "fixtures"


@dataclass(frozen=True)
class FixtureCase:
    path: Path

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}"

    def body(self) -> bytes:
        return (self.path / "body.html").read_bytes()

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads((self.path / "info.json").read_text("utf-8"))
        return info

    def expected(self) -> dict[str, Any] | None:
        expected: dict[str, Any] | None = json.loads((self.path / "output.json").read_text("utf-8"))
        return expected

    def actual(self) -> dict[str, Any] | None:
        """What the code makes of the case now (same shape as ``output.json``)."""
        from pipelines.chain import extract_record
        from pipelines.rejections import ArticleDropped

        info = self.info()
        try:
            record = extract_record(info["url"], self.body(), info.get("headers") or {},
                                    info.get("fetched_at", ""))
        except ArticleDropped as exc:
            return {"rejected": {"stage": exc.stage, "reason": exc.reason}}
        if record is None:
            return None
        return {f: record[f] for f in FIXTURE_FIELDS}


def cases(root: Path = DEFAULT_ROOT) -> list[FixtureCase]:
    """The extraction cases: folders with ``body.html`` and ``output.json`` (other suites keep
    folders of their own shape under ``tests/fixtures/`` too)."""
    return [FixtureCase(p.parent) for p in sorted(root.glob("*/*/body.html"))
            if (p.parent / "output.json").exists()]


def find_case(name: str, root: Path = DEFAULT_ROOT) -> FixtureCase:
    """A case by ``page-type/case`` or folder name (a new case may lack ``output.json`` yet)."""
    every = [FixtureCase(p.parent) for p in sorted(root.glob("*/*/body.html"))]
    matches = [c for c in every if c.name == name or c.path.name == name]
    if len(matches) != 1:
        raise LookupError(f"{name}: {len(matches)} fixture cases match under {root}")
    return matches[0]


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def diff(case: FixtureCase) -> str:
    """Unified diff expected → actual of the case's ``output.json`` ("" when equal)."""
    try:
        expected = dumps(case.expected()).splitlines(keepends=True)
    except FileNotFoundError:  # a new case: everything is a change
        expected = []
    actual = dumps(case.actual()).splitlines(keepends=True)
    return "".join(difflib.unified_diff(expected, actual, f"{case.name}/output.json", "actual"))


def capture(site: str, host: str, truth: Path, article_id: str, root: Path, name: str) -> FixtureCase:
    """Save one replica article as a case: its bytes and headers, and its truth record as output."""
    record = _truth_record(truth, article_id)
    path = record["url"].split("://", 1)[1].split("/", 1)[1]
    request = urllib.request.Request(f"{site.rstrip('/')}/{path}", headers={"Host": host} if host else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
        headers = {"Content-Type": response.headers.get("Content-Type", "")}
    case = FixtureCase(root / record["content_type"] / name)
    case.path.mkdir(parents=True, exist_ok=True)
    (case.path / "body.html").write_bytes(body)
    info = {"url": record["url"], "headers": headers, "fetched_at": "2025-11-01T12:00:00Z"}
    (case.path / "info.json").write_text(dumps(info), "utf-8")
    expected = {f: record.get(f, info["fetched_at"] if f == "fetched_at" else None) for f in FIXTURE_FIELDS}
    (case.path / "output.json").write_text(dumps(expected), "utf-8")
    return case


def _truth_record(truth: Path, article_id: str) -> dict[str, Any]:
    with truth.open(encoding="utf-8") as lines:
        for line in lines:
            record: dict[str, Any] = json.loads(line)
            if record["article_id"] == article_id:
                return record
    raise LookupError(f"article {article_id} not in {truth}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archiver.offline.fixtures", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="fixtures folder")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the cases")
    for command in ("diff", "update"):
        p = sub.add_parser(command, help=f"{command} the expected output of cases")
        p.add_argument("cases", nargs="+", metavar="CASE")
    p = sub.add_parser("capture", help="save a page of a running replica as a case")
    p.add_argument("--site", required=True, help="replica base URL (http://127.0.0.1:PORT)")
    p.add_argument("--host", default="www.defense.gov", help="Host header to ask for (default: %(default)s)")
    p.add_argument("--truth", type=Path, required=True, help="truth JSONL for the same --host base URL")
    p.add_argument("--id", required=True, help="article id")
    p.add_argument("--name", required=True, help="case folder name")
    args = parser.parse_args(argv)
    if args.command == "list":
        for case in cases(args.root):
            print(case.name)
        return 0
    if args.command == "capture":
        case = capture(args.site, args.host, args.truth, args.id, args.root, args.name)
        print(f"saved {case.path}")
        return 0
    return _diff_or_update(args.cases, args.root, write=args.command == "update")


def _diff_or_update(names: list[str], root: Path, *, write: bool) -> int:
    changed = 0
    for name in names:
        case = find_case(name, root)
        text = diff(case)
        if not text:
            print(f"{case.name}: unchanged")
            continue
        changed += 1
        sys.stdout.write(text)
        if write:
            (case.path / "output.json").write_text(dumps(case.actual()), "utf-8")
            print(f"{case.name}: output.json updated")
    return 1 if changed and not write else 0


if __name__ == "__main__":
    sys.exit(main())
