"""Text rules: bylines, dates, player lines, follow lines, chrome lines."""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from archiver.extract.dates import iso_date
from archiver.extract.text import (
    CHROME_LINE_RES,
    FOLLOW_TAIL_RE,
    clock_seconds,
    collapse_space,
    is_chrome_line,
    is_follow_line,
    is_player_text,
    parse_byline,
    strip_follow_tail,
    video_title,
)


@pytest.mark.parametrize(("byline", "authors"), [
    ("By Jim Garamone, DOD News", ["Jim Garamone"]),
    ("By Jane Doe, DOD News", ["Jane Doe"]),
    ("By Cheryl Pellerin\nDoD News, Defense Media Activity", ["Cheryl Pellerin"]),
    ("By Jim Garamone and Amaani Lyle\nDoD News, Defense Media Activity", ["Jim Garamone", "Amaani Lyle"]),
    ("By Jim Garamone and Amaani Lyle, DOD News", ["Jim Garamone", "Amaani Lyle"]),
    ("By C. Todd Lopez", ["C. Todd Lopez"]),
    ("By Army Sgt. Amber I. Smith, DoD News, Defense Media Activity", ["Army Sgt. Amber I. Smith"]),
    ("By Joseph F. Dunford, Jr., Joint Chiefs of Staff", ["Joseph F. Dunford, Jr."]),
    ("By Terri Moon Cronk, Lisa Ferdinando and David Vergun, DOD News",
     ["Terri Moon Cronk", "Lisa Ferdinando", "David Vergun"]),
    ("BY KATIE LANGE, DOD NEWS", ["KATIE LANGE"]),
    ("Jim Garamone", ["Jim Garamone"]),
    ("By DoD News", []),
    ("Defense Media Activity", []),
    ("Presenter: Army Gen. Mark A. Milley, chairman of the Joint Chiefs of Staff", []),
    ("Press Operations", []),
    ("", []),
])
def test_parse_byline(byline: str, authors: list[str]) -> None:
    assert parse_byline(byline) == authors


@pytest.mark.parametrize(("text", "iso"), [
    ("Dec. 15, 2016", "2016-12-15"),
    ("Sept. 30, 2025", "2025-09-30"),
    ("Sep. 30, 2025", "2025-09-30"),
    ("March 3, 2020", "2020-03-03"),
    ("June 1, 2019", "2019-06-01"),
    ("Contracts For Sept. 30, 2025", "2025-09-30"),
    ("Contracts for September 30, 2025", "2025-09-30"),
    ("\n   Dec. 2, 2024\n\n   ", "2024-12-02"),
    ("2016-12-15", "2016-12-15"),
    ("2016-12-15T14:32:00Z", "2016-12-15T14:32:00Z"),
    ("2016-12-15T14:32-0500", "2016-12-15T14:32:00-05:00"),
    ("2016-12-15T14:32:07.123+01:00", "2016-12-15T14:32:07+01:00"),
    ("15 December 2016", "2016-12-15"),
    ("12/15/2016", "2016-12-15"),
])
def test_iso_date(text: str, iso: str) -> None:
    assert iso_date(text) == iso


@pytest.mark.parametrize("text", ["", "Feb. 30, 2020", "Marines 12, 2020", "Immediate Release", "2016-13-45"])
def test_iso_date_rejects(text: str) -> None:
    assert iso_date(text) is None


@pytest.mark.parametrize(("clock", "seconds"),
                         [("00:33", 33), ("02:29", 149), ("1:02:03", 3723), ("3:05", 185)])
def test_clock_seconds(clock: str, seconds: int) -> None:
    assert clock_seconds(clock) == seconds


@pytest.mark.parametrize("text", ["", "Play", "2:75", "about 3 minutes"])
def test_clock_seconds_rejects(text: str) -> None:
    assert clock_seconds(text) is None


def test_video_title_is_after_the_last_bar() -> None:
    assert video_title("VIDEO | 00:33 | Carter Reviews Counter-ISIL Coalition Successes") == \
        "Carter Reviews Counter-ISIL Coalition Successes"
    assert video_title("Plain Title") == "Plain Title"


@pytest.mark.parametrize("text", ["00:33", "Play", "VIDEO | 00:25 | Carter Discusses Future"])
def test_player_text(text: str) -> None:
    assert is_player_text(text)


@pytest.mark.parametrize("text", [
    "(Follow Jim Garamone on Twitter: @GaramoneDoDNews)",
    "(Follow Terri Moon Cronk on Twitter @MoonCronkDoD)",
    "Follow Jim Garamone on X: @GaramoneDoDNews",
])
def test_follow_lines(text: str) -> None:
    assert is_follow_line(text)


@pytest.mark.parametrize("text", [
    "Q: A follow-up on Ramstein Air Base, Germany: what happens next?",
    "Follow the money, he said, and you will find the threat on Twitter and elsewhere, which is what the "
    "committee did over the past two years as it examined dozens of accounts linked to the group.",
])
def test_not_follow_lines(text: str) -> None:
    assert not is_follow_line(text)


def test_follow_tail_is_trimmed() -> None:
    line = "He said so. (Follow Jim Garamone on Twitter: @GaramoneDoDNews)"
    assert strip_follow_tail(line) == "He said so."


@pytest.mark.parametrize("text", [
    "An official website of the United States Government", "Here's how you know", "Here’s how you know",
    "Subscribe to War.gov Products", "Related Stories",
])
def test_chrome_lines(text: str) -> None:
    assert is_chrome_line(text)


def test_subscribe_in_prose_is_not_chrome() -> None:
    assert not is_chrome_line("Troops can subscribe to the newsletter at any base library, officials said.")


def test_collapse_space_keeps_typographic_spaces() -> None:
    assert collapse_space(" a\xa0\xa0b\n\tc \u2009d ") == "a b c \u2009d"


def test_collapse_space_drops_control_characters() -> None:
    assert collapse_space("Before\x00after\x01\x02\x1b[31m.\x7f") == "Beforeafter[31m."


@pytest.mark.parametrize("text", [
    "", " ", "plain words only", "  two  spaces  ", "a\tb", "a\xa0b", "a\u2028b\u2029c", "a \x85 b",
    "\x00\x1f z", "a \x01 b", "a\u2009b  c", "\x7f\x84\x86\x9f", "line\r\nbreak\x0b\x0c", "ends ",
])
def test_collapse_space_equals_its_definition(text: str) -> None:
    definition = re.sub(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]", "",
                        re.sub(r"[ \t\n\r\f\v\xa0\u2028\u2029\x85]+", " ", text)).strip()
    assert collapse_space(text) == definition


def test_printable_text_has_no_space_or_control_character_to_collapse() -> None:
    """collapse_space's fast path: every character its two patterns remove or replace is one that
    ``str.isprintable`` refuses (the patterns' highest character is U+2029)."""
    either = re.compile(r"[\t\n\r\f\v\xa0\u2028\u2029\x85\x00-\x08\x0e-\x1f\x7f-\x9f]")
    odd = [c for c in map(chr, range(0x3000)) if either.match(c)]
    assert len(odd) == 68  # C0 controls, DEL and C1 controls, no-break space, U+2028, U+2029
    assert not any(c.isprintable() for c in odd)


@pytest.mark.parametrize("text", [
    "He said so. (Follow Jim Garamone on Twitter: @GaramoneDoDNews) \n", "(Follow us on X)\u2003",
    "He said so. (Follow Jim on Twitter) and more.", "(Follow Jim on Twitter",
])
def test_follow_tail_equals_its_pattern(text: str) -> None:
    assert strip_follow_tail(text) == FOLLOW_TAIL_RE.sub("", text)


def test_chrome_line_is_any_of_its_patterns() -> None:
    """``is_chrome_line`` asks one pattern joined from ``CHROME_LINE_RES``: the same answer as
    asking each, on every line of the fixture pages' text and on near misses."""
    lines = ["Tags", "tags:", "Share: now", "Subscribe\n", "Presenter: " + "x" * 250, "x Related Links",
             "Skip to main content",
             "A lock ( ) or https:// means you’ve safely connected to the .gov website."]
    for body in sorted((Path(__file__).parent / "fixtures").glob("*/*/body.html")):
        if not body.read_bytes().strip():
            continue
        text = "".join(lxml.html.fromstring(body.read_bytes()).itertext())
        lines += [line.strip() for line in text.splitlines() if line.strip()]
    assert len(lines) > 1000
    for line in lines:
        each = len(line) <= 300 and any(p.match(line) for p in CHROME_LINE_RES)
        assert is_chrome_line(line) == each, line
