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
- ``dnn`` / ``dgov2``: the section listings in that skin's markup.
- ``mixed`` / ``wargov``: the default listings (each article linked at its era's URL), plus the
  ASP.NET monthly lists of the ``aspnet`` articles.
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
    from archiver.replica.options import ServerOptions
    from archiver.replica.reply import Reply

Query = dict[str, list[str]]
Route = tuple[re.Pattern[str], Callable[[str, re.Match[str], Query], "Reply"]]
#: section path → the ASP.NET kind listed for it (feature stories were news articles then)
_SECTION_KINDS = {ct.section.lower(): ct.name for ct in TYPES_BY_NAME.values()}
_SECTION_KINDS["/news/feature-stories/"] = "news-story"
_SECTION_KINDS["/news/archive/"] = "news-story"


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
        return routes

    # -- hooks called by ReplicaSite ---------------------------------------------------------------

    def era_article(self, base: str, k: int) -> Reply:
        """A ``/News/.../Article/<id>/`` page in era mode (ASP.NET articles have no such URL)."""
        from archiver.replica.reply import Reply

        article = self.corpus.article(k)
        if article.head.markup == "aspnet":
            return self._not_found(base, article.head.path)
        body, content_type = erapages.article_html(article, base)
        basis = f"{self.corpus.options.seed}:{article.head.markup}:{article.head.article_id}:" \
                f"{article.head.revision}"
        return Reply(body=body, content_type=content_type, last_modified=article.last_modified,
                     cookies=True, etag_basis=basis)

    def era_listing(self, base: str, section: str, query: Query) -> Reply | None:
        """A section listing in the era's markup, or None for the default listing."""
        from archiver.replica.reply import Reply

        era = self.corpus.options.era
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
        from archiver.replica.reply import Reply

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
        from archiver.replica.reply import Reply

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
