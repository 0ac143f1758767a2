"""Shared by the offline tests: one real crawl of the replica per session, CLI wiring, file surgery.

(No tests here; the crawl is kept in ``config.stash`` so every offline test module reuses it.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archiver.cli import ArgumentParser, build_parser
from archiver.offline import commands
from archiver.replica.process import replica

ARTICLES = 150
#: small WARC files, so the crawl spans several and re-extraction crosses file boundaries
CRAWL_SETTINGS = [
    "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "-s", "WARC_MAX_SIZE=2000000", "--progress", "0",
]


@dataclass(frozen=True)
class Crawl:
    """A finished crawl of a replica, and the replica's ground truth."""

    out: Path
    truth: list[dict[str, Any]]


CRAWL_KEY = pytest.StashKey[Crawl]()


def crawl_once(config: pytest.Config, factory: pytest.TempPathFactory) -> Crawl:
    """One crawl of a 150-article replica, run on first use and shared by every offline test."""
    if CRAWL_KEY in config.stash:
        return config.stash[CRAWL_KEY]
    out, truth_dir = factory.mktemp("offline-crawl"), factory.mktemp("offline-truth")
    with replica("--articles", str(ARTICLES), "--seed", "11", "--crawl-delay", "0",
                 truth_dir=truth_dir) as site:
        result = subprocess.run(
            [sys.executable, "-m", "archiver", "crawl", "--site", site.base, "--out", str(out),
             *CRAWL_SETTINGS],
            capture_output=True, text=True, timeout=300, check=False,
        )
        truth = site.truth()
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    config.stash[CRAWL_KEY] = Crawl(out, truth)
    return config.stash[CRAWL_KEY]


def copy_crawl(source: Path, target: Path) -> Path:
    """A copy of a crawl folder to damage on purpose."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("export", "state.sqlite", "crawl.log"))
    return target


def articles(folder: Path, name: str = "articles.jsonl") -> list[dict[str, Any]]:
    """The records of ``folder/name``: the dataset, or ``changes.jsonl`` (a crawl's own records, in
    archive order), ``captures.jsonl`` (a re-extraction's)."""
    with (folder / name).open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def flip_bytes(path: Path, offset: int, count: int = 16) -> None:
    """Invert ``count`` bytes at ``offset`` (inside a record's compressed data)."""
    with path.open("r+b") as stream:
        stream.seek(offset)
        data = stream.read(count)
        stream.seek(offset)
        stream.write(bytes(b ^ 0xFF for b in data))


def offline_parser() -> ArgumentParser:
    """``archiver``'s parser with the offline commands registered (as cli.py does)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "verify" not in sub.choices:
        for add in (commands.add_reextract_command, commands.add_verify_command,
                    commands.add_export_command, commands.add_stats_command):
            add(sub)
    return parser


def run_cli(*argv: str) -> int:
    args = offline_parser().parse_args(list(argv))
    code: int = args.func(args)
    return code


def run_cli_process(*argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The command in a fresh interpreter (``python -c``), parsed by ``offline_parser``."""
    code = ("import sys; from tests.test_offline_helpers import run_cli; "
            f"sys.exit(run_cli(*{list(argv)!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          check=False, cwd=Path(__file__).resolve().parent.parent)
