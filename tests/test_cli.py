"""The ``archiver`` command line as users' scripts see it."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from archiver.cli import build_parser
from tests.harness import archiver


def subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return archiver(*args, timeout=120)


def test_top_level_help_lists_every_subcommand() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in subcommands():
        assert command in result.stdout


@pytest.mark.parametrize("command", subcommands())
def test_each_subcommand_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: archiver {command}")


def test_crawl_help_names_every_exit_code() -> None:
    """A script reading the exit code learns each one from ``--help`` (bot walls: 4)."""
    from archiver.downloadermiddlewares.refusals import EXIT_REFUSED
    from archiver.runtime.lock import EXIT_LOCKED
    from archiver.runtime.preflight import EXIT_STATE_DAMAGED

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    description = " ".join((action.choices["crawl"].description or "").split())
    assert f"{EXIT_STATE_DAMAGED} for bad options or a damaged crawl state" in description
    assert f"{EXIT_LOCKED} when another crawl holds DIR" in description
    assert f"{EXIT_REFUSED} when the site refused the crawl" in description


def test_unknown_subcommand_is_a_usage_error() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def test_console_script_and_module_agree() -> None:
    script = subprocess.run([sys.executable, "-c", "from archiver.cli import main; main(['--help'])"],
                            capture_output=True, text=True, timeout=60)
    assert script.stdout == run("--help").stdout
