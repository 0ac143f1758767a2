"""The news URL spaces of defense.gov's every era and host: what a harvest asks archives for.

Eras (fixtures/real/README.md): DefenseLink and the ASP.NET site (``/news/newsarticle.aspx?id=``,
``/Releases/Release.aspx?ReleaseID=``, ``/transcripts/transcript.aspx?transcriptid=``,
``/speeches/speech.aspx?speechid=``, ``/contracts/contract.aspx?contractid=``,
``/advisories/advisory.aspx?advisoryid=``, 1990s static ``/news/<Mon><yyyy>/*.html``), the DNN skin
(``/News/.../<Kind>-View/Article/<id>/``), DGOV2 and war.gov (``/News/<Section>/.../Article/<id>/``).
Hosts: www.defenselink.mil, defenselink.mil, www.defense.gov, dod.defense.gov, archive.defense.gov,
www.war.gov.

CDX servers canonicalise URLs to SURT keys (lower case, ``www.`` dropped), so one prefix query per
host family and path covers ``www.`` and bare hosts, ``http`` and ``https``, any letter case. The
queries are prefixes; the URL forms of articles (:func:`is_article_url`) are checked on each line,
so listings and section roots under the same prefixes are not fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archiver.site import SECTIONS

#: the hosts the site's news lived on, every era (CDX keys drop ``www.``: one query covers both)
HOSTS: tuple[str, ...] = (
    "www.defenselink.mil", "defenselink.mil", "www.defense.gov", "dod.defense.gov",
    "archive.defense.gov", "www.war.gov",
)

#: path prefixes (lower case: CDX keys are) per section: the ASP.NET form, then the DNN/DGOV2 ones
SECTION_PREFIXES: dict[str, tuple[str, ...]] = {
    "news-stories": ("/news/newsarticle.aspx", "/news/article/", "/news/news-stories/"),
    "releases": ("/releases/", "/news/releases/", "/news/news-releases/"),
    "transcripts": ("/transcripts/", "/news/transcripts/"),
    "speeches": ("/speeches/", "/news/speeches/"),
    "contracts": ("/contracts/", "/news/contracts/"),
    "feature-stories": ("/news/feature-stories/",),
    "advisories": ("/advisories/", "/news/advisories/"),
    # every kind, 1990s static pages included
    "archive": ("/news/",),
}
#: what every section together asks: everything under /news/ and the legacy section folders
ALL_PREFIXES: tuple[str, ...] = ("/news/", "/releases/", "/transcripts/", "/speeches/", "/contracts/",
                                 "/advisories/")

#: the URL forms of an article page, any era (checked on every listed capture)
ARTICLE_FORMS: tuple[re.Pattern[str], ...] = (
    re.compile(r"/Article/\d+(?:[/?#]|$)", re.I),
    re.compile(r"/(?:news/newsarticle|releases/release|transcripts/transcript|speeches/speech|"
               r"contracts/contract|advisories/advisory)\.aspx\?(?:[^#]*&)?"
               r"(?:id|releaseid|transcriptid|speechid|contractid|advisoryid)=\d+", re.I),
    # a 1990s static page is named by its date and number; a month folder's index by words
    # (``releases.html``: a listing, see archiver.site)
    re.compile(r"/news/[a-z]{3}\d{4}/[^/?#]*\d[^/?#]*\.html?$", re.I),
)
#: article URLs that are not news
_NOT_NEWS = re.compile(r"/Biographies?/|/bios/", re.I)


@dataclass(frozen=True)
class UrlSpace:
    """One CDX query: every capture whose URL starts with ``host`` + ``prefix``."""

    host: str
    prefix: str

    @property
    def url(self) -> str:
        """The ``url=`` of the query (``matchType=prefix``)."""
        return self.host + self.prefix

    @property
    def name(self) -> str:
        return self.url


def _family(host: str) -> str:
    return host.removeprefix("www.")


def url_spaces(sections: list[str] | None = None) -> list[UrlSpace]:
    """The queries for ``sections`` (names of ``--sections``; None: all), one per host family and
    prefix, without overlap (a prefix inside another asked one is left out)."""
    if sections is None or set(SECTIONS) <= set(sections):
        prefixes: tuple[str, ...] = ALL_PREFIXES
    else:
        prefixes = tuple(p for name in sections for p in SECTION_PREFIXES[name])
    kept = sorted(set(prefixes))
    kept = [p for p in kept if not any(p != other and p.startswith(other) for other in kept)]
    families = list(dict.fromkeys(_family(host) for host in HOSTS))
    return [UrlSpace(host, prefix) for host in families for prefix in kept]


def is_article_url(url: str) -> bool:
    """Whether ``url`` has the form of a news article page of some era."""
    return not _NOT_NEWS.search(url) and any(form.search(url) for form in ARTICLE_FORMS)


def is_site_host(host: str) -> bool:
    """A host the site's news lived on (an archived redirect is followed only to one of them)."""
    host = host.lower().rstrip(".")
    return any(host == known or host.endswith("." + _family(known)) or host == _family(known)
               for known in HOSTS)
