"""The replica's routes for ``--era``: legacy ASP.NET pages and monthly lists, era listings.

A mixin of :class:`archiver.replica.server.ReplicaSite`; without ``--era`` none of it runs and
the replica answers exactly as before.

- ``aspnet``: ``/news/newsarticle.aspx?id=<n>``, ``/Releases/Release.aspx?ReleaseID=<n>``,
  ``/transcripts/transcript.aspx?transcriptid=<n>``, ``/speeches/speech.aspx?speechid=<n>``,
  ``/contracts/contract.aspx?contractid=<n>``, ``/advisories/advisory.aspx?advisoryid=<n>``
  (any host: www.defenselink.mil, www.defense.gov, archive.defense.gov; paths and parameters
  case-insensitive, as IIS) and monthly lists (``/news/articles.aspx?SectionID=0&mo=5&yr=2002``,
  ``/Releases/default.aspx?mo=..&yr=..``, ...). The site's section paths (``/News/Releases/``)
  answer ``301`` to the newest monthly list, so a section crawl finds the era's articles.
- ``defenselink-static``: the 1990s pages ``/news/Jun1998/b06011998_bt276-98.html`` (any host,
  any case) and each month folder's index of a kind (``/news/Jun1998/releases.html``, newest month
  at ``/news/releases.html``); the section paths answer ``301`` to the newest monthly index.
- ``dnn`` / ``dgov2``: the section listings in that skin's markup.
- ``mixed`` / ``wargov``: the default listings (each article linked at its era's URL), plus the
  ASP.NET monthly lists of the ``aspnet`` articles and the month indexes of the static ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING

from archiver.replica import erapages, eras, faults, render
from archiver.replica.corpus import TYPES_BY_NAME, Corpus

if TYPE_CHECKING:
    from archiver.replica.server import Reply, ServerOptions

Query = dict[str, list[str]]
Route = tuple[re.Pattern[str], Callable[[str, re.Match[str], Query], "Reply"]]
#: section path → the ASP.NET kind listed for it (feature stories were news articles then)
_SECTION_KINDS = {ct.section.lower(): ct.name for ct in TYPES_BY_NAME.values()}
_SECTION_KINDS["/news/feature-stories/"] = "news-story"
_SECTION_KINDS["/news/archive/"] = "news-story"
#: a static month folder's index file → the content type it lists
_STATIC_INDEXES = {kind.index: ctype for ctype, kind in eras.STATIC_KINDS.items()}
_STATIC_PAGE = re.compile(r"^/news/(?:([a-z]{3}\d{4})/)?([\w.-]+\.html?)$", re.I)


class EraRoutes:
    """What ``--era`` adds to the replica's URL space (see the module docstring)."""

    corpus: Corpus
    options: ServerOptions
    fault_plan: faults.FaultPlan | None
    # ReplicaSite's own handlers, reused
    _section_ks: Callable[[str], list[int]]
    _not_found: Callable[[str, str], Reply]
    _legacy_news: Callable[[str, re.Match[str], Query], Reply]
    _legacy_transcript: Callable[[str, re.Match[str], Query], Reply]

    def era_routes(self) -> list[Route]:
        if not self.corpus.options.era:
            return []
        routes: list[Route] = []
        for kind in eras.LEGACY_KINDS.values():
            page = re.compile("^" + re.escape(kind.page.split("?")[0]) + "$", re.I)
            listing = re.compile("^" + re.escape(kind.listing) + "$", re.I)
            routes.append((page, partial(self._legacy_page, kind)))
            routes.append((listing, partial(self._legacy_listing, kind)))
        routes.append((_STATIC_PAGE, self._static_page))
        return routes

    # -- hooks called by ReplicaSite ---------------------------------------------------------------

    def era_article(self, base: str, k: int) -> Reply:
        """A ``/News/.../Article/<id>/`` page in era mode (ASP.NET articles have no such URL)."""
        from archiver.replica.server import Reply

        article = self.corpus.article(k)
        if article.head.markup in {"aspnet", eras.STATIC}:
            return self._not_found(base, article.head.path)
        body, content_type = erapages.article_html(article, base)
        basis = f"{self.corpus.options.seed}:{article.head.markup}:{article.head.article_id}:" \
                f"{article.head.revision}"
        return Reply(body=body, content_type=content_type, last_modified=article.last_modified,
                     cookies=True, etag_basis=basis)

    def era_listing(self, base: str, section: str, query: Query) -> Reply | None:
        """A section listing in the era's markup, or None for the default listing."""
        from archiver.replica.server import Reply

        era = self.corpus.options.era
        if era == eras.STATIC:
            return self._static_newest(base, _SECTION_KINDS[section.lower()])
        if era == "aspnet":
            kind = eras.LEGACY_KINDS[_SECTION_KINDS[section.lower()]]
            return Reply(301, location=base + erapages.month_url(kind, *self._months(kind.kind)[0])
                         if self._months(kind.kind) else base + kind.listing)
        if era not in {"dnn", "dgov2"}:
            return None
        ks = self._section_ks(section)
        size = self.options.page_size
        page_no = _page_number(query)
        last_page = max(1, math.ceil(len(ks) / size))
        fault = self.fault_plan.listing_fault(section, page_no) if self.fault_plan else None
        heads = [self.corpus.head(k) for k in faults.faulty_listing(fault, ks, page_no, size)]
        title = render.SECTION_TITLES[section]
        if era == "dnn":
            cls = erapages.DNN_VIEWS.get(_SECTION_KINDS[section.lower()], ("article", ""))[0]
            cls = "article" if section == "/News/Archive/" else cls
            body = erapages.dnn_listing(title, section, cls, heads, base, page_no, last_page)
        else:
            body = erapages.dgov2_listing(title, section, heads, base, page_no, last_page)
        return Reply(body=body, cookies=True)

    # -- ASP.NET pages ------------------------------------------------------------------------------

    def _legacy_page(self, kind: eras.LegacyKind, base: str, match: re.Match[str], query: Query) -> Reply:
        from archiver.replica.server import Reply

        lowered = {key.lower(): value for key, value in query.items()}
        raw = (lowered.get(eras.LEGACY_PARAMS[kind.kind]) or [""])[0]
        k = self.corpus.k_for_legacy(kind.kind, int(raw)) if raw.isdigit() else None
        if k is None:
            return self._legacy_fallback(kind, base, match, query)
        article = self.corpus.article(k)
        body, content_type = erapages.article_html(article, base)
        basis = f"{self.corpus.options.seed}:aspnet:{article.head.legacy_number}:{article.head.revision}"
        return Reply(body=body, content_type=content_type, last_modified=article.last_modified,
                     etag_basis=basis)

    def _legacy_fallback(self, kind: eras.LegacyKind, base: str, match: re.Match[str], query: Query) -> Reply:
        """Not an ASP.NET article: the default replica's legacy redirects (to a DNN id), else 404."""
        if kind.kind == "newsarticle":
            return self._legacy_news(base, match, query)
        if kind.kind == "transcript":
            return self._legacy_transcript(base, match, query)
        return self._not_found(base, match.group(0))

    def _legacy_listing(self, kind: eras.LegacyKind, base: str, _match: re.Match[str], query: Query) -> Reply:
        from archiver.replica.server import Reply

        months = self._months(kind.kind)
        lowered = {key.lower(): value for key, value in query.items()}
        mo, yr = (lowered.get("mo") or [""])[0], (lowered.get("yr") or [""])[0]
        if mo.isdigit() and yr.isdigit() and 1 <= int(mo) <= 12:
            month = (int(yr), int(mo))
        elif months:
            month = months[0]
        else:
            return self._not_found(base, kind.listing)
        ks = _legacy_months(self.corpus, kind.kind).get(month, [])
        older = next((m for m in months if m < month), None)
        body = erapages.aspnet_listing(kind, [self.corpus.head(k) for k in ks], base, month, older)
        return Reply(body=body, content_type=b"text/html")

    # -- 1990s static pages ---------------------------------------------------------------------------

    def _static_page(self, base: str, match: re.Match[str], _query: Query) -> Reply:
        """A static news page, a month folder's index of a kind, or (no folder) the newest index."""
        from archiver.replica.server import Reply

        folder, name = match.group(1), match.group(2).lower()
        ctype = _STATIC_INDEXES.get(name)
        if ctype is not None:
            return self._static_index(base, ctype, folder, match.group(0))
        k = _static_pages(self.corpus).get(match.group(0).lower()) if folder else None
        if k is None:
            return self._not_found(base, match.group(0))
        article = self.corpus.article(k)
        body, content_type = erapages.article_html(article, base)
        basis = f"{self.corpus.options.seed}:static:{article.head.legacy_number}:{article.head.revision}"
        return Reply(body=body, content_type=content_type, last_modified=article.last_modified,
                     etag_basis=basis)

    def _static_index(self, base: str, ctype: str, folder: str | None, path: str) -> Reply:
        from archiver.replica.server import Reply

        if folder is None:  # ``/news/releases.html``: this month's releases
            return self._static_newest(base, ctype)
        months = list(_static_months(self.corpus, ctype))
        month = eras.static_month(folder)
        if month is None:
            return self._not_found(base, path)
        ks = _static_months(self.corpus, ctype).get(month, [])
        older = next((m for m in months if m < month), None)
        body = erapages.static_index(ctype, [self.corpus.head(k) for k in ks], month, older)
        return Reply(body=body, content_type=b"text/html")

    def _static_newest(self, base: str, ctype: str) -> Reply:
        """``301`` to the newest month's index of ``ctype`` (404 when the site has none)."""
        from archiver.replica.server import Reply

        index = eras.STATIC_KINDS[ctype].index
        newest = next(iter(_static_months(self.corpus, ctype)), None)
        if newest is None:
            return self._not_found(base, "/news/" + index)
        return Reply(301, location=base + eras.static_folder(*newest) + index)

    def _months(self, kind: str) -> list[tuple[int, int]]:
        """(year, month) of the kind's monthly lists that have items, newest first."""
        return list(_legacy_months(self.corpus, kind))


def _page_number(query: Query) -> int:
    value = (query.get("Page") or query.get("page") or ["1"])[0]
    return int(value) if value.isdigit() and int(value) > 0 else 1


@cache
def _legacy_months(corpus: Corpus, kind: str) -> dict[tuple[int, int], list[int]]:
    """ASP.NET articles of ``kind`` per (year, month), newest month and article first."""
    months: dict[tuple[int, int], list[int]] = {}
    for k in corpus.newest_first():
        head = corpus.head(k)
        if head.markup == "aspnet" and head.legacy_kind == kind:
            months.setdefault((head.published.year, head.published.month), []).append(k)
    return months


@cache
def _static_months(corpus: Corpus, ctype: str) -> dict[tuple[int, int], list[int]]:
    """Static pages of ``ctype`` per (year, month), newest month and page first."""
    months: dict[tuple[int, int], list[int]] = {}
    for k in corpus.newest_first():
        head = corpus.head(k)
        if head.markup == eras.STATIC and head.ctype.name == ctype:
            months.setdefault((head.published.year, head.published.month), []).append(k)
    return months


@cache
def _static_pages(corpus: Corpus) -> dict[str, int]:
    """Lower-cased path → rank of every static page on the site (paths are case-insensitive)."""
    return {corpus.head(k).path.lower(): k for k in corpus.newest_first()
            if corpus.head(k).markup == eras.STATIC}
