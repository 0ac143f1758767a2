"""What the archiver knows of defense.gov's site structure (see docs/replica.md, fixtures README)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

DEFAULT_SITE = "https://www.defense.gov"

#: section name (as given to ``--sections``) → listing path
SECTIONS: dict[str, str] = {
    "news-stories": "/News/News-Stories/",
    "releases": "/News/Releases/",
    "transcripts": "/News/Transcripts/",
    "speeches": "/News/Speeches/",
    "contracts": "/News/Contracts/",
    "feature-stories": "/News/Feature-Stories/",
    "advisories": "/News/Advisories/",
}
#: the archive listing (every type), crawlable as a section by name
EXTRA_SECTIONS: dict[str, str] = {"archive": "/News/Archive/"}

#: RSS ``ContentType=`` numbers of the site's feeds
RSS_CONTENT_TYPES: dict[str, int] = {
    "news-stories": 1,
    "transcripts": 2,
    "releases": 9,
    "contracts": 400,
    "feature-stories": 800,
}
RSS_PATH = "/DesktopModules/ArticleCS/RSS.ashx?ContentType={code}&Site=945&max={max}"

#: article URLs of the site that are not news (biographies, ...)
NOT_NEWS = re.compile(r"/Biographies?/", re.I)
ARTICLE_URL = re.compile(r"/Article/(\d+)(?:/|$)|[?&](?:ID|TranscriptID)=(\d+)", re.I)


def parse_sections(value: str | list[str] | None) -> list[str]:
    """``"releases,contracts"`` → ``["releases", "contracts"]``; ``None``/``"all"`` → every section."""
    if value is None or value == "" or value == "all" or value == ["all"]:
        return list(SECTIONS)
    names = value.split(",") if isinstance(value, str) else [n for v in value for n in v.split(",")]
    names = [n.strip().lower() for n in names if n.strip()]
    known = SECTIONS | EXTRA_SECTIONS
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown section(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return names


def section_path(name: str) -> str:
    return (SECTIONS | EXTRA_SECTIONS)[name]


def normalise_site(site: str) -> str:
    """``https://www.defense.gov/`` → ``https://www.defense.gov``; rejects what is not a site URL."""
    parts = urlsplit(site.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not a site URL (http[s]://host[:port]): {site!r}")
    if parts.username or parts.password:
        raise ValueError("site URL must not carry credentials")
    return f"{parts.scheme}://{parts.netloc}"


def article_id_of(url: str) -> str | None:
    match = ARTICLE_URL.search(url)
    return (match.group(1) or match.group(2)) if match else None


def parse_id_ranges(value: str, limit: int = 1_000_000) -> list[int]:
    """``"1000000-1000500,1000777"`` → the ids, in order; at most ``limit`` of them."""
    ids: list[int] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)(?:\s*-\s*(\d+))?", part)
        if not match:
            raise ValueError(f"not an id or id range: {part!r} (use e.g. 1000000-1000500,1000777)")
        low = int(match.group(1))
        high = int(match.group(2) or low)
        if high < low:
            raise ValueError(f"empty id range: {part!r}")
        if len(ids) + high - low + 1 > limit:
            raise ValueError(f"more than {limit:,} ids asked for")
        ids.extend(range(low, high + 1))
    if not ids:
        raise ValueError("no ids given")
    return ids
