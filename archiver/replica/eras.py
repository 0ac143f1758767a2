"""The site's markup eras for the replica (``archiver replica --era``): dates, URLs, legacy ids.

defense.gov's history survives in web archives in the markup of its time (fixtures/real/README.md):
the 1990s static DefenseLink news pages (``defenselink-static``, ``/news/Jun1998/<file>.html``),
DefenseLink and the ASP.NET site (``aspnet``, legacy ``*.aspx?...ID=<n>`` URLs, about 1997-2016),
the DNN "DefenseGOV" skin (``dnn``, ``/News/.../Article/<id>/``, about 2015-2019), DGOV2 (``dgov2``,
2019-2025) and DGOV2 markup on war.gov (``wargov``, 2025-). The names are the record's
``markup_era`` values. With ``--era mixed`` each article is served in the markup of its
publication date (:func:`era_for`); the cut-over dates below are the replica's choice, close to
when the real site changed platform.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, date, datetime

#: the 1990s static DefenseLink news pages (the record's ``markup_era`` value)
STATIC = "defenselink-static"
ERAS: tuple[str, ...] = (STATIC, "aspnet", "dnn", "dgov2", "wargov")
MIXED = "mixed"
#: first year ``--era YEAR`` takes (DefenseLink went online in 1994; its news folders start in 1995)
FIRST_YEAR = 1995

#: (first, last) publication time of the articles of an era served alone (``--era NAME``)
SPANS: dict[str, tuple[datetime, datetime]] = {
    STATIC: (datetime(1995, 1, 3, 9, 0, tzinfo=UTC), datetime(1998, 12, 18, 17, 0, tzinfo=UTC)),
    "aspnet": (datetime(1998, 1, 5, 9, 0, tzinfo=UTC), datetime(2014, 12, 19, 17, 0, tzinfo=UTC)),
    "dnn": (datetime(2015, 1, 5, 9, 0, tzinfo=UTC), datetime(2019, 6, 28, 17, 0, tzinfo=UTC)),
    "dgov2": (datetime(2019, 7, 1, 9, 0, tzinfo=UTC), datetime(2025, 8, 29, 17, 0, tzinfo=UTC)),
    "wargov": (datetime(2025, 9, 8, 9, 0, tzinfo=UTC), datetime(2025, 10, 31, 17, 0, tzinfo=UTC)),
}
#: ``--era mixed``: the whole history (from 1998, as before the static era was served: its 1998
#: articles are the static ones)
MIXED_SPAN = (SPANS["aspnet"][0], SPANS["wargov"][1])

#: first publication date of each era in ``--era mixed`` (and for ``--era YEAR``)
CUTOVERS: tuple[tuple[date, str], ...] = (
    # the static /news/<Mon><yyyy>/ pages run through 1998 here (the real ones a while longer)
    (date(1999, 1, 1), "aspnet"),
    (date(2015, 1, 1), "dnn"),
    (date(2019, 7, 1), "dgov2"),
    (date(2025, 9, 5), "wargov"),  # the Department of War name, war.gov
)
#: the site was DefenseLink (www.defenselink.mil) until January 2009, then Defense.gov
DEFENSE_GOV_FROM = date(2009, 1, 1)
#: DNN pages of articles before this date carry that skin's "historical purposes only" banner
DNN_HISTORICAL_CUTOFF = date(2017, 1, 20)


@dataclass(frozen=True)
class LegacyKind:
    """An ASP.NET page kind: its ``article_id`` prefix, page URL and monthly listing."""

    kind: str  # "release" → article_id "release:10242"
    page: str  # path with ``{n}``
    listing: str  # monthly listing path (``?mo=M&yr=Y`` added)
    label: str  # letterhead label ("News Release")
    listing_title: str


#: content type → ASP.NET page kind (feature stories were American Forces Press Service articles)
LEGACY_KINDS: dict[str, LegacyKind] = {
    "news-story": LegacyKind("newsarticle", "/news/newsarticle.aspx?id={n}", "/news/articles.aspx",
                             "News Article", "News Articles"),
    "release": LegacyKind("release", "/Releases/Release.aspx?ReleaseID={n}", "/Releases/default.aspx",
                          "News Release", "News Releases"),
    "transcript": LegacyKind("transcript", "/transcripts/transcript.aspx?transcriptid={n}",
                             "/transcripts/default.aspx", "News Transcript", "News Transcripts"),
    "speech": LegacyKind("speech", "/speeches/speech.aspx?speechid={n}", "/speeches/default.aspx",
                         "Speech", "Speeches"),
    "contract": LegacyKind("contract", "/contracts/contract.aspx?contractid={n}",
                           "/contracts/default.aspx", "Contracts", "Contracts"),
    "advisory": LegacyKind("advisory", "/advisories/advisory.aspx?advisoryid={n}",
                           "/advisories/default.aspx", "Advisory", "Advisories"),
}
KINDS_BY_NAME: dict[str, str] = {lk.kind: ctype for ctype, lk in LEGACY_KINDS.items()}
#: the query parameter of each kind's page (matched case-insensitively, as IIS does)
LEGACY_PARAMS: dict[str, str] = {"newsarticle": "id", "release": "releaseid",
                                 "transcript": "transcriptid", "speech": "speechid",
                                 "contract": "contractid", "advisory": "advisoryid"}
#: legacy numbers: ``LEGACY_FIRST + k * LEGACY_STEP + jitter``, their own number space
LEGACY_FIRST = 2000
LEGACY_STEP = 5

#: DNN skin article paths (only Contract-View is confirmed by a saved page; see docs/replica.md)
DNN_PREFIXES: dict[str, str] = {
    "news-story": "/News/Article/Article/",
    "release": "/News/Releases/News-Release-View/Article/",
    "transcript": "/News/Transcripts/Transcript-View/Article/",
    "speech": "/News/Speeches/Speech-View/Article/",
    "contract": "/News/Contracts/Contract-View/Article/",
    "feature": "/News/Feature-Stories/Story/Article/",
    "advisory": "/News/Advisories/Advisory-View/Article/",
}


def era_for(when: date) -> str:
    """The markup era in force on ``when`` (``--era mixed`` serves each article in it)."""
    era = STATIC
    for start, name in CUTOVERS:
        if when >= start:
            era = name
    return era


def parse_era(value: str) -> str:
    """``--era`` value: an era name, ``mixed``, or a year (the era in force that mid-year)."""
    name = value.strip().lower()
    if name in ERAS or name == MIXED:
        return name
    if name.isdigit() and FIRST_YEAR <= int(name) <= 2025:
        return era_for(date(int(name), 7, 1))
    raise argparse.ArgumentTypeError(
        f"unknown era {value!r}; use one of {', '.join((*ERAS, MIXED))} or a year {FIRST_YEAR}-2025")


def span_of(era: str) -> tuple[datetime, datetime]:
    return MIXED_SPAN if era == MIXED else SPANS[era]


@dataclass(frozen=True)
class StaticKind:
    """A 1990s static news page kind: its file name and its monthly index in ``/news/<Mon><yyyy>/``."""

    name: str  # file name with ``{mmddyyyy}``, ``{yymmdd}``, ``{mmdd}``, ``{yy}`` and ``{n}``
    index: str  # the month folder's index of the kind (``releases.html``)
    label: str  # the letterhead graphic's text ("News Release")
    index_title: str


#: content type → static page kind. The file names follow the real ones (``b06011998_bt276-98.html``:
#: b, the date, the release number; ``n06011998_9806011.html``; ``t06021998_t0602asd.html``); the
#: letters are archiver.site.STATIC_PREFIX_TYPES'. Features were AFPS news articles then.
STATIC_KINDS: dict[str, StaticKind] = {
    "news-story": StaticKind("n{mmddyyyy}_{yymmdd}{n}.html", "articles.html",
                             "American Forces Press Service", "AFPS News Articles"),
    "release": StaticKind("b{mmddyyyy}_bt{n:03d}-{yy}.html", "releases.html", "News Release",
                          "News Releases"),
    "transcript": StaticKind("t{mmddyyyy}_t{mmdd}{n:03d}.html", "transcripts.html", "News Transcript",
                             "News Transcripts"),
    "speech": StaticKind("s{mmddyyyy}_{n:03d}.html", "speeches.html", "Speech", "Speeches"),
    "contract": StaticKind("c{mmddyyyy}_ct{n:03d}-{yy}.html", "contracts.html", "Contracts", "Contracts"),
    "advisory": StaticKind("a{mmddyyyy}_m{n:03d}-{yy}.html", "advisories.html",
                           "Memorandum for Correspondents", "Memoranda for Correspondents"),
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def static_folder(year: int, month: int) -> str:
    """``/news/Jun1998/``: the month folder of the static news pages."""
    return f"/news/{_MONTHS[month - 1]}{year}/"


def static_path(ctype: str, when: date, number: int) -> str:
    """``/news/Jun1998/b06011998_bt276-98.html``: a static page's path (``number`` its own)."""
    name = STATIC_KINDS[ctype].name.format(mmddyyyy=f"{when:%m%d%Y}", yymmdd=f"{when:%y%m%d}",
                                           mmdd=f"{when:%m%d}", yy=f"{when:%y}", n=number)
    return static_folder(when.year, when.month) + name


def static_month(folder: str) -> tuple[int, int] | None:
    """(year, month) of a month folder name (``Jun1998``, any case), else None."""
    name = folder.strip("/").lower()
    months = [m.lower() for m in _MONTHS]
    if len(name) == 7 and name[:3] in months and name[3:].isdigit():
        return int(name[3:]), months.index(name[:3]) + 1
    return None
