"""The cron line and systemd units of docs/scheduling.md work as written."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

from archiver.cli import build_parser

DOC = Path(__file__).resolve().parent.parent / "docs" / "scheduling.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text("utf-8"), re.S)


def archiver_argv(command: str) -> list[str]:
    words = shlex.split(command)
    start = next(i for i, w in enumerate(words) if w.endswith("bin/archiver"))
    ends = {">>", ">", "2>&1", "&&", ";"}
    end = next((i for i, w in enumerate(words) if w in ends and i > start), len(words))
    return words[start + 1:end]


def test_cron_line_is_a_valid_crawl_command() -> None:
    [cron] = blocks("cron")
    fields = cron.strip().split(None, 5)
    assert len(fields) == 6
    minute, hour = int(fields[0]), int(fields[1])
    assert 0 <= minute < 60
    assert 0 <= hour < 24
    args = build_parser().parse_args(archiver_argv(fields[5]))
    assert args.command == "crawl"
    assert str(args.out) == "/srv/defense-news"


def test_systemd_units_parse_and_run_a_valid_crawl() -> None:
    service, timer = blocks("ini")
    units = []
    for text in (service, timer):
        unit = configparser.ConfigParser(strict=True, interpolation=None)
        unit.optionxform = str  # type: ignore[assignment,method-assign]
        unit.read_string(text)
        units.append(unit)
    args = build_parser().parse_args(archiver_argv(units[0]["Service"]["ExecStart"]))
    assert args.command == "crawl"
    assert units[0]["Service"]["Type"] == "oneshot"
    assert units[0]["Service"]["ExecStart"].startswith("/")  # systemd wants an absolute path
    assert "3" in units[0]["Service"]["SuccessExitStatus"].split()
    assert units[1]["Timer"]["OnCalendar"]
    assert units[1]["Install"]["WantedBy"] == "timers.target"
