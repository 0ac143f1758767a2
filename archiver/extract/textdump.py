"""``archiver clean-text``: a naive text dump of a defense.gov page (one line per text node, as
legacy datasets hold them, e.g. ``../shared/seed-naive-scrape.txt``) → the record fields text can
give: ``title``, ``body``, ``images`` (caption, title, credit, VIRIN), ``videos`` (title, duration)
and ``historical``.

Text has no markup, so the rules are the page's text patterns: a photo prints as its caption
repeated (screen-reader copy, inline caption, popup copy), the popup title, the caption again,
``Photo By: …`` and ``VIRIN: …``; a video as ``00:33`` / ``Play`` / ``VIDEO | 00:33 | title``;
the banner, notice, subscribe box and "Related Stories" are fixed phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from archiver.extract.text import (
    CREDIT_LINE_RE,
    NOTICE_SENTENCE_RE,
    PHOTO_BY_RE,
    VIDEO_LINE_RE,
    VIRIN_LABEL_RE,
    VIRIN_LINE_RE,
    clock_seconds,
    collapse_space,
    is_chrome_line,
    is_follow_line,
    is_player_text,
    strip_label,
    video_clock,
    video_title,
)

#: where the article ends in a dump (what follows is related links, tags, subscribe box, footer)
_TRAILER_RE = re.compile(r"^(?:Related Stories|Related Links|Tags:.*|Subscribe to .{1,40} Products)$", re.I)
_HEADING_END = tuple(".!?:;,\"”’)")
MAX_HEADING_WORDS = 10
#: an alt text (caption without its credit) is matched when at least this long
MIN_ALT_CHARS = 40


@dataclass
class _Dump:
    lines: list[str]
    removed: list[bool] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.removed = [False] * len(self.lines)

    def drop(self, start: int, stop: int) -> None:
        for i in range(max(0, start), min(stop, len(self.lines))):
            self.removed[i] = True


def clean_text_dump(text: str) -> dict[str, Any]:
    """Cleaned fields of a naive text dump (see the module docstring)."""
    dump = _Dump([line for line in (collapse_space(raw) for raw in text.splitlines()) if line])
    historical = any(NOTICE_SENTENCE_RE.search(line) for line in dump.lines)
    _drop_chrome(dump)
    _find_photos(dump)
    _find_videos(dump)
    kept = [line for line, gone in zip(dump.lines, dump.removed, strict=True) if not gone]
    title = kept[0] if kept else ""
    body = [_as_block(line) for line in kept[1:]]
    return {
        "title": title,
        "body": "\n\n".join(body),
        "images": dump.images,
        "videos": dump.videos,
        "historical": historical,
    }


def _drop_chrome(dump: _Dump) -> None:
    for i, line in enumerate(dump.lines):
        if is_chrome_line(line) or NOTICE_SENTENCE_RE.search(line) or is_follow_line(line):
            dump.removed[i] = True
    seen_text = False
    for i, line in enumerate(dump.lines):
        if seen_text and _TRAILER_RE.match(line):
            dump.drop(i, len(dump.lines))
            return
        seen_text = seen_text or (not dump.removed[i] and len(line) > 80)


def _find_photos(dump: _Dump) -> None:
    lines = dump.lines
    anchors = [i for i, line in enumerate(lines) if VIRIN_LINE_RE.match(line)]
    anchors += [i for i, line in enumerate(lines) if CREDIT_LINE_RE.match(line)
                and not (i + 1 < len(lines) and VIRIN_LINE_RE.match(lines[i + 1]))]
    captions: set[str] = set()
    for end in sorted(anchors):
        photo, start = _photo_cluster(lines, end)
        if photo["caption"] and not any(p["caption"] == photo["caption"] and p["virin"] == photo["virin"]
                                        for p in dump.images):
            dump.images.append(photo)
        captions.add(photo["caption"])
        dump.drop(start, end + 1)
    for i, line in enumerate(lines):  # a caption (or its alt-text prefix) anywhere else
        if any(line == c or (len(line) >= MIN_ALT_CHARS and c.startswith(line)) for c in captions if c):
            dump.removed[i] = True


def _photo_cluster(lines: list[str], end: int) -> tuple[dict[str, str], int]:
    """The photo whose cluster ends at ``end`` (its VIRIN or credit line) and where it starts."""
    virin = strip_label(lines[end], VIRIN_LABEL_RE) if VIRIN_LINE_RE.match(lines[end]) else ""
    at = end - 1 if virin else end
    credit = ""
    if at >= 0 and CREDIT_LINE_RE.match(lines[at]):
        credit = strip_label(lines[at], PHOTO_BY_RE)
        at -= 1
    caption = lines[at] if at >= 0 else ""
    start, title = at, ""
    if at >= 2 and lines[at - 1] != caption and lines[at - 2] == caption:
        title, start = lines[at - 1], at - 1
    while start > 0 and lines[start - 1] == caption:
        start -= 1
    return {"title": title, "caption": caption, "credit": credit, "virin": virin}, start


def _find_videos(dump: _Dump) -> None:
    lines = dump.lines
    for i, line in enumerate(lines):
        if not VIDEO_LINE_RE.match(line):
            continue
        dump.videos.append({"title": video_title(line), "duration": clock_seconds(video_clock(line))})
        dump.removed[i] = True
        j = i - 1
        while j >= 0 and is_player_text(lines[j]):
            dump.removed[j] = True
            j -= 1


def _as_block(line: str) -> str:
    """A short line without closing punctuation between paragraphs is a subheading."""
    words = line.split()
    if len(words) <= MAX_HEADING_WORDS and line[:1].isupper() and not line.endswith(_HEADING_END):
        return f"## {line}"
    return line
