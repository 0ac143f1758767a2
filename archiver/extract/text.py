"""Text rules shared by the extractor, the pipelines and ``clean-text``: pure functions over strings.

These are the *meaning* of the page's text, independent of markup: what a photo credit line, a VIRIN
line, the video player's title line, the "(Follow ... on Twitter ...)" line or the historical notice
look like, and how a byline names its authors.
"""

from __future__ import annotations

import re

#: whitespace collapsed by the cleaned record: ASCII whitespace, no-break space and line separators;
#: typographic spaces (thin, narrow no-break) are kept as printed
_SPACE_RE = re.compile(r"[ \t\n\r\f\v\xa0\u2028\u2029\x85]+")
#: what _SPACE_RE matches besides a single space
_ODD_SPACE_RE = re.compile(r"[\t\n\r\f\v\xa0\u2028\u2029\x85]")
_LINE_SPACE_RE = re.compile(r"[ \t\f\v\xa0\x85]+")
#: control characters are not text (a NUL, an ANSI colour escape); they are dropped
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")

PHOTO_BY_RE = re.compile(r"^\s*Photo\s+by\s*:\s*", re.I)
VIRIN_LABEL_RE = re.compile(r"^\s*VIRIN\s*:\s*", re.I)
#: a VIRIN (visual information record identification number): yymmdd-S-XXnnn-nnnn
VIRIN_RE = re.compile(r"\b(\d{6}-[A-Z]-[A-Z0-9]{2,6}-\d{3,5})\b")
CREDIT_LINE_RE = re.compile(r"^Photo\s+by\s*:.{0,150}$", re.I)
VIRIN_LINE_RE = re.compile(r"^VIRIN\s*:\s*\S{1,40}$", re.I)

CLOCK_RE = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(\d{2})$")
#: the player's title line: ``VIDEO | 00:33 | Carter Reviews Counter-ISIL Coalition Successes``
VIDEO_LINE_RE = re.compile(r"^VIDEO\s*\|\s*((?:\d{1,2}:)?\d{1,2}:\d{2})?\s*\|\s*(.*)$", re.I)
PLAYER_WORDS = frozenset({"play", "pause", "mute", "unmute", "fullscreen"})

#: a whole "(Follow Jim Garamone on Twitter: @GaramoneDoDNews)" line (also X, Facebook...)
FOLLOW_RE = re.compile(
    r"^\(?\s*Follow\s+.{1,120}?\s+on\s+(?:Twitter|X|Facebook|Instagram|LinkedIn|Threads)\b[^()]{0,120}\)?\.?$",
    re.I)
#: the same parenthetical at the end of a paragraph
FOLLOW_TAIL_RE = re.compile(
    r"\s*\(\s*Follow\s+[^()]{1,120}?\s+on\s+(?:Twitter|X|Facebook|Instagram|LinkedIn|Threads)\b[^()]{0,120}\)\s*$",
    re.I)

#: the historical notice: DGOV2's "historical collection" (``.disclaimer``, ``.alert-warning``) and
#: the DNN skin's "This information is provided for historical purposes only" (``.alert-warning``)
NOTICE_RE = re.compile(r"historical\s+(?:collection|purposes\s+only)", re.I)
NOTICE_SENTENCE_RE = re.compile(
    r"accessed\s+part\s+of\s+a\s+historical\s+collection|provided\s+for\s+historical\s+purposes\s+only",
    re.I)

#: whole lines/blocks that are site chrome wherever they appear (gov banner, subscribe box, labels)
CHROME_LINE_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p, re.I) for p in (
    r"^An official website of the United States Government\.?$",
    r"^Here['’]s how you know\.?$",
    r"^Official websites use \.gov$",
    r"^(?:A )?\.gov website belongs to an official government organization in the United States\.?$",
    r"^Secure \.gov websites use HTTPS$",
    r"^A lock \(.*\) or https:// means you.{1,3}ve safely connected to the \.gov website\..*$",
    r"^Subscribe to .{1,40} Products$",
    r"^Choose which .{1,40} products you want delivered to your inbox\.?$",
    r"^Subscribe$",
    r"^Related Stories$",
    r"^Related Links$",
    r"^Tags:?$",
    r"^Share:?$",
    r"^Skip to main content.*$",
    r"^Immediate Release$",
    r"^Presenter:.{0,200}$",
))

#: the lines above as one pattern (it matches where one of them does): one search a block, not 16
_CHROME_LINE_RE = re.compile("|".join(f"(?:{p.pattern})" for p in CHROME_LINE_RES), re.I)

#: furniture of the DefenseLink / ASP.NET pages (about 1997-2016) and of the DNN skin, line by line:
#: the letterhead, "On the Web:", the media / public contact lines, "IMMEDIATE RELEASE", the
#: release number, the print / e-mail links, the AFPS byline's service line
LEGACY_FURNITURE_RES: tuple[re.Pattern[str], ...] = tuple(re.compile(p, re.I) for p in (
    r"^U\.\s?S\. Department of (?:Defense|War)$",
    r"^(?:The )?Office of (?:the )?Assistant Secretary of Defense \(Public Affairs\)$",
    r"^(?:News Release|News Transcript|News Article|News Advisory|Press Advisory|Advisory|Speech|"
    r"Contracts?|Transcript|Release|Memorandum for Correspondents|Press Operations)$",
    r"^On the Web:.{0,300}$",
    r"^https?://\S+$",
    r"^(?:Media|Public|Press) contacts?:.{0,300}$",
    r"^or \+?[\d ()/.+-]{7,}.{0,20}$",
    r"^(?:\+?1 )?\(?\d{3}\)? ?\d{3}-\d{4}.{0,40}$",
    r"^(?:FOR )?IMMEDIATE RELEASE$",
    r"^(?:Release )?No\.?:? ?[A-Z]{0,3}-?\d{1,5}-\d{2}$",
    r"^Release No:?.{0,30}$",
    r"^PRINT(?: \| E-?MAIL)?$",
    r"^E-?MAIL$",
    r"^Printer[- ]friendly Version$",
    r"^E-?mail A Copy$",
    r"^American Forces (?:Press|Information) Service$",
    r"^(?:Click photo for screen-resolution image|high-resolution image available)\.?$",
    r"^-+ ?END ?-+$",
))

#: phrases that must never survive into a body (used by tests and the benchmark)
CHROME_PHRASES: tuple[str, ...] = (
    "An official website", "Here's how you know", "Subscribe to", "historical collection",
    "Photo By:", "VIRIN:", "VIDEO |", "Follow ", "Related Stories",
)

_BY_RE = re.compile(r"^\s*(?:by|written by)\s*:?\s+", re.I)
_AND_RE = re.compile(r"\s*(?:,\s*and\s+|\s+and\s+|\s*&\s*)\s*", re.I)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d."})
_ORG_WORDS = re.compile(
    r"\b(?:news|dod|dow|defense|department|media|activity|agency|command|office|service|services|"
    r"public affairs|army|navy|air force|marine corps|marines|space force|coast guard|national guard|"
    r"pentagon|staff|university|center|headquarters|bureau|press|dvids|affairs|\.gov|\.mil)\b",
    re.I)
_RANK_WORDS = re.compile(
    r"\b(?:sgt|capt|lt|col|gen|maj|adm|cmdr|cpl|spc|pfc|pvt|ens|cwo|airman|seaman|petty officer|"
    r"sergeant|captain|lieutenant|colonel|general|major|admiral|commander|corporal|specialist|"
    r"private|ensign|chief|master|senior|staff sgt|tech\. sgt)\b\.?", re.I)


def collapse_space(text: str) -> str:
    """Whitespace collapsed to single spaces, no-break space counted as space, control characters
    dropped, ends stripped.

    Most strings hold single spaces only: a search that finds nothing is cheaper than a ``sub``
    that replaces every space by itself (the crawl's reactor thread runs this on every block).
    Most are printable too, which rules out both the odd spaces and the control characters
    (``isprintable`` is False for categories Cc, Zs but the space, Zl and Zp): one scan in C
    instead of two regex searches."""
    if text.isprintable():
        return (_SPACE_RE.sub(" ", text) if "  " in text else text).strip()
    if "  " in text or _ODD_SPACE_RE.search(text):
        text = _SPACE_RE.sub(" ", text)
    if _CONTROL_RE.search(text):
        text = _CONTROL_RE.sub("", text)
    return text.strip()


def collapse_lines(text: str) -> str:
    """Like :func:`collapse_space` per line, keeping line breaks (a ``<br>`` in a byline)."""
    lines = (_CONTROL_RE.sub("", _LINE_SPACE_RE.sub(" ", line)).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def strip_label(text: str, label: re.Pattern[str]) -> str:
    """``Photo By: Jane Doe`` → ``Jane Doe`` (the text after the label, as printed)."""
    return label.sub("", text, count=1).strip()


def virin_in(text: str) -> str:
    """The first VIRIN-shaped token of ``text`` (e.g. an image file name), else ``""``."""
    match = VIRIN_RE.search(text)
    return match.group(1) if match else ""


def clock_seconds(text: str) -> int | None:
    """``02:29`` → 149, ``1:02:03`` → 3723; ``None`` when ``text`` is not a clock."""
    match = CLOCK_RE.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if seconds >= 60:
        return None
    return hours * 3600 + minutes * 60 + seconds


def video_title(player_line: str) -> str:
    """The title of ``VIDEO | 00:33 | Title`` (the text after the last ``|``); plain titles unchanged."""
    if "|" not in player_line:
        return player_line.strip()
    return player_line.rsplit("|", 1)[1].strip()


def video_clock(player_line: str) -> str:
    """The ``mm:ss`` of a ``VIDEO | mm:ss | title`` line, else ``""``."""
    match = VIDEO_LINE_RE.match(player_line.strip())
    return (match.group(1) or "") if match else ""


def is_player_text(text: str) -> bool:
    """Text the video player prints: its title line, a bare clock, ``Play``."""
    stripped = text.strip()
    return bool(VIDEO_LINE_RE.match(stripped) or CLOCK_RE.match(stripped)
                or stripped.lower() in PLAYER_WORDS)


def is_follow_line(text: str) -> bool:
    return len(text) <= 300 and FOLLOW_RE.match(text.strip()) is not None


def strip_follow_tail(text: str) -> str:
    """A paragraph without a trailing "(Follow ... on Twitter ...)" parenthetical (only a text whose
    last non-space character is ``)`` can end with one: no regex run over the others)."""
    return FOLLOW_TAIL_RE.sub("", text) if text.rstrip().endswith(")") else text


def is_chrome_line(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) <= 300 and _CHROME_LINE_RE.match(stripped) is not None


def is_legacy_furniture(text: str) -> bool:
    """Every line of ``text`` is DefenseLink / ASP.NET / DNN page furniture (:data:`LEGACY_FURNITURE_RES`)."""
    lines = [collapse_space(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    return bool(lines) and all(len(line) <= 300 and any(p.match(line) for p in LEGACY_FURNITURE_RES)
                               for line in lines)


def is_notice(text: str) -> bool:
    return NOTICE_RE.search(text) is not None


#: labels of a DNN ``p.info`` line that names no author: a speech's presenter, the issuing office
_NOT_AUTHORS_RE = re.compile(r"\s*(?:presenters?|speakers?|press operations|issued by)\b\s*:?", re.I)


def parse_byline(byline: str) -> list[str]:
    """Author names of a byline, without "By" and without the organisation suffix.

    ``By Jane Doe, DOD News`` → ``["Jane Doe"]``; ``By Jim Garamone and Amaani Lyle<br>DoD News,
    Defense Media Activity`` (``<br>`` as a line break) → both names. The first segment is names
    (unless it is only an organisation); later segments are names while they look like names.
    """
    if _NOT_AUTHORS_RE.match(byline):
        return []  # "Presenter: Army Gen. Mark A. Milley, ..." names a speaker, not an author (DESIGN.md)
    segments = [s.strip() for line in byline.splitlines() for s in line.split(",")]
    segments = [s for s in segments if s]
    if not segments:
        return []
    segments[0] = _BY_RE.sub("", segments[0])
    names: list[str] = []
    for index, segment in enumerate(segments):
        if segment.lower().rstrip(".") in {s.rstrip(".") for s in _SUFFIXES} and names:
            names[-1] = f"{names[-1]}, {segment}"
            continue
        if not _looks_like_names(segment, first=index == 0):
            if index == 0:  # "By Jim Garamone DoD News, Defense Media Activity" (no comma before the office)
                names.extend(_names_before_office(segment))
            break
        names.extend(n for n in _AND_RE.split(segment) if n)
    return names


def _names_before_office(segment: str) -> list[str]:
    """The names in front of an organisation run into the same segment ("Jim Garamone DoD News")."""
    match = _ORG_WORDS.search(segment)
    head = segment[:match.start()].strip() if match else ""
    words = head.split()
    if not 2 <= len(words) <= 8 or not all(w[:1].isupper() or w.lower() in {"and", "de", "van", "von"}
                                          for w in words):
        return []
    return [n for n in _AND_RE.split(head) if n]


def _looks_like_names(segment: str, *, first: bool) -> bool:
    if not segment or len(segment) > 120:
        return False
    org = _ORG_WORDS.search(segment) is not None
    if org and not _RANK_WORDS.search(segment):
        return False
    if first:
        return True
    words = segment.split()
    return 1 < len(words) <= 8 and all(w[:1].isupper() or w.lower() in {"and", "de", "van", "von"}
                                       for w in words)
