"""What the archiver knows of defense.gov's site structure (see docs/replica.md, fixtures README)."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
NOT_NEWS = re.compile(r"/Biographies?/|/bios/", re.I)

#: every host the site has been served from (DefenseLink, the ASP.NET and DNN defense.gov, the
#: archive host, war.gov since 2025); the URL forms below are recognised on any host, so that a
#: replica on 127.0.0.1 or a test server reads the same
SITE_HOSTS: frozenset[str] = frozenset({
    "www.defenselink.mil", "defenselink.mil", "www.defense.gov", "defense.gov", "dod.defense.gov",
    "archive.defense.gov", "www.war.gov", "war.gov", "www.dod.mil", "dod.mil",
})
#: legacy ASP.NET item pages (about 1997-2016): kind → (content type, the page's file and its id
#: parameter). Each kind is its own number space: ReleaseID 10242 is not DNN article 10242.
LEGACY_FORMS: dict[str, tuple[str, str, str]] = {
    "newsarticle": ("news-story", "newsarticle.aspx", "id"),
    "release": ("release", "release.aspx", "releaseid"),
    "transcript": ("transcript", "transcript.aspx", "transcriptid"),
    "speech": ("speech", "speech.aspx", "speechid"),
    "contract": ("contract", "contract.aspx", "contractid"),
    "advisory": ("advisory", "advisory.aspx", "advisoryid"),
}
_LEGACY_RES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(rf"/{re.escape(page)}\?(?:[^#]*?&)?{param}=(\d+)(?![\w])", re.I))
    for kind, (_, page, param) in LEGACY_FORMS.items())
#: DNN (``/News/Contracts/Contract-View/Article/605989/``) and today's (``/Article/3981590/slug/``)
_CURRENT_RE = re.compile(r"/Article/(\d+)(?:/|$|\?|#)", re.I)
#: 1990s static DefenseLink news pages: ``/news/Jun1998/b06011998_bt270-98.html``; an item's file
#: is named by its date and number, a file named by words only (``releases.html``, ``index.html``)
#: is the month folder's index of its items, not an item
_STATIC_RE = re.compile(r"^/news/(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\d{4}/"
                        r"[\w.-]*\d[\w.-]*\.html?$", re.I)
#: the letter a static news page's file name starts with → its content type (b: news release,
#: n: AFPS news article, t: transcript, c: contracts, a: advisory, s: speech)
STATIC_PREFIX_TYPES: dict[str, str] = {
    "b": "release", "n": "news-story", "t": "transcript", "c": "contract", "a": "advisory", "s": "speech",
}
#: section paths of the DNN and today's URL forms → content type
CURRENT_PATH_TYPES: tuple[tuple[str, str], ...] = (
    ("/news-stories/", "news-story"), ("/news/article/", "news-story"),
    ("/feature-stories/", "feature"), ("/releases/", "release"), ("/news-release-view/", "release"),
    ("/transcripts/", "transcript"), ("/transcript-view/", "transcript"), ("/speeches/", "speech"),
    ("/speech-view/", "speech"), ("/contracts/", "contract"), ("/contract-view/", "contract"),
    ("/advisories/", "advisory"), ("/advisory-view/", "advisory"),
)
#: any item URL of any era (a cheap test; :func:`item_ref` says which item)
ARTICLE_URL = re.compile(
    r"/Article/(\d+)(?:/|$|\?|#)"
    r"|/(?:newsarticle|release|transcript|speech|contract|advisory)\.aspx\?(?:[^#]*?&)?"
    r"(?:id|releaseid|transcriptid|speechid|contractid|advisoryid)=(\d+)"
    r"|(?:^|//[^/]+)/news/(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\d{4}/[\w.-]*\d[\w.-]*\.html?"
    r"(?:$|[?#])",
    re.I)


@dataclass(frozen=True)
class ItemRef:
    """Which item a URL names: its record ``article_id`` and what the URL says of it.

    ``kind`` is ``None`` for the DNN / DGOV2 / war.gov number space (``article_id`` the plain
    number), a :data:`LEGACY_FORMS` kind (``article_id`` ``"release:10242"``) or ``"static"``
    (``article_id`` ``"static:/news/jun1998/b06011998_bt270-98.html"``).
    """

    article_id: str
    content_type: str
    kind: str | None = None
    number: str | None = None
    path: str | None = None

    @property
    def legacy_id(self) -> dict[str, str | None] | None:
        """The record's ``legacy_id`` (``None`` for a current id)."""
        return legacy_id_of(self.article_id)


def item_ref(url: str) -> ItemRef | None:
    """The item ``url`` names, in any era's URL form, on any host, case-insensitively; ``None``
    for a URL that names no item (a listing, a section, the home page)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    match = _CURRENT_RE.search(parts.path)
    if match:
        return ItemRef(match.group(1), _current_type(parts.path))
    for kind, pattern in _LEGACY_RES:
        match = pattern.search(path_query)
        if match:
            number = str(int(match.group(1)))
            return ItemRef(f"{kind}:{number}", LEGACY_FORMS[kind][0], kind, number)
    if _STATIC_RE.match(parts.path):
        path = parts.path.lower()
        name = path.rsplit("/", 1)[1]
        return ItemRef(f"static:{path}", STATIC_PREFIX_TYPES.get(name[:1], "other"), "static", path=path)
    return None


def legacy_id_of(article_id: str) -> dict[str, str | None] | None:
    """The record's ``legacy_id`` of an ``article_id``: ``"release:10242"`` →
    ``{"kind": "release", "number": "10242"}``, ``"static:/news/..."`` → ``{"kind": "static",
    "number": None, "path": "/news/..."}``, a current (plain number) id → ``None``."""
    kind, sep, rest = article_id.partition(":")
    if not sep:
        return None
    if kind == "static":
        return {"kind": "static", "number": None, "path": rest}
    return {"kind": kind, "number": rest}


def _current_type(path: str) -> str:
    lowered = path.lower()
    return next((name for fragment, name in CURRENT_PATH_TYPES if fragment in lowered), "other")


def is_site_host(host: str | None) -> bool:
    """One of :data:`SITE_HOSTS` (case-insensitive, a trailing dot allowed)."""
    return bool(host) and host.lower().rstrip(".") in SITE_HOSTS  # type: ignore[union-attr]


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
    """The record ``article_id`` of the item ``url`` names (see :func:`item_ref`)."""
    ref = item_ref(url)
    return ref.article_id if ref is not None else None


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
