"""Spider middleware archiving the page requisites of every page a crawl fetches.

For each HTML page of the site (listing or article, status 200) it asks the page's requisites
(``archiver.requisites.scan``), each URL once per crawl, from the site's hosts only
(``archiver.requisites.policy``); a stylesheet's own references (fonts, images, ``@import``) are
asked when it arrives. A requisite an earlier run archived is asked with its last capture handed to
the WARC middleware (``archiver.requisites.store``) and, with ``ARCHIVER_REQUISITES_CONDITIONAL``
(the default), conditionally (``If-None-Match`` / ``If-Modified-Since``): a ``304`` becomes a
``server-not-modified`` revisit (without the 304's head, so that pywb and ReplayWeb.page serve the
original; docs/decisions.md), an unchanged payload asked in full an ``identical-payload-digest``
revisit. Requisites are plain Scrapy requests: the host's downloader slot, delays, AutoThrottle,
Crawl-delay and robots.txt apply.

They are not articles: their callbacks yield nothing, a failed one is written to
``requisite-failures.jsonl`` (never ``failures.jsonl``) and counted apart
(``archiver/requisites/*`` stats, report.json's ``requisites``). The full-size photos an article
links stay behind ``ARCHIVER_IMAGES`` / ``--images``. See docs/replay.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Collection, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.spidermiddlewares.httperror import HttpError

from archiver.items import ArticleItem
from archiver.requisites.policy import RequisitePolicy
from archiver.requisites.scan import STYLESHEET, Requisite, page_requisites, stylesheet_requisites
from archiver.requisites.store import RequisiteStore
from archiver.runtime.compact import KeySet, url_key
from archiver.runtime.state import crawl_state, now_iso
from archiver.warc.middleware import META_PRIOR_CAPTURE, META_REVISIT, META_REVISIT_OF, DiskFullError
from pipelines.base import image_sources

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

#: request.meta: this request is a page requisite of that kind (scan.KINDS)
META_REQUISITE = "archiver_requisite"
#: response.meta: the page's requisites as ``(url, kind)`` pairs, scanned already (on the
#: extraction worker that read the article: spiders/base.py); absent, the middleware scans the page
META_PAGE_REQUISITES = "archiver_page_requisites"
#: requisites wait behind the articles already queued, as photos do (spiders/sections.py)
REQUISITE_PRIORITY = -1
FAILURES_FILE = "requisite-failures.jsonl"
STATS = "archiver/requisites"
#: a Scrapy signal: a requisite finally failed (``failure``), sent by the spider's errback
requisite_failed = object()
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


class RequisitesMiddleware:
    """Asks the requisites of the site's pages (module docstring). ``ARCHIVER_REQUISITES``."""

    def __init__(self, crawler: Crawler, policy: RequisitePolicy, store: RequisiteStore | None,
                 conditional: bool, failures_path: Path | None) -> None:
        self.crawler = crawler
        self.policy = policy
        self.store = store
        self.conditional = conditional
        self.failures_path = failures_path
        self._asked = KeySet()  # url_key of every requisite URL met this run (~8 bytes each)
        self._failures: IO[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RequisitesMiddleware:
        settings = crawler.settings
        if not settings.getbool("ARCHIVER_REQUISITES"):
            raise NotConfigured("ARCHIVER_REQUISITES is off")
        spider = crawler.spider
        if spider is not None and not getattr(spider, "archive_requisites", True):
            raise NotConfigured(f"the {spider.name} spider archives no requisites")
        site_hosts = list(getattr(spider, "allowed_domains", None) or [])
        hosts = [*site_hosts, *settings.getlist("ARCHIVER_REQUISITES_HOSTS")]
        policy = RequisitePolicy(hosts, settings.getlist("ARCHIVER_REQUISITES_IGNORE"))
        state = crawl_state(crawler) if settings.getbool("ARCHIVER_INCREMENTAL") else None
        out = settings.get("ARCHIVER_OUT_DIR")
        middleware = cls(crawler, policy, RequisiteStore(state) if state is not None else None,
                         settings.getbool("ARCHIVER_REQUISITES_CONDITIONAL")
                         and settings.getbool("ARCHIVER_CONDITIONAL_GET"),
                         Path(out) / FAILURES_FILE if out else None)
        crawler.signals.connect(middleware.requisite_failed, signal=requisite_failed)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    # -- the spider's output ---------------------------------------------------------------------------

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterator[Any]:
        skip: set[str] = set()
        for output in result:
            _note_fetched(output, skip)
            yield output
        yield from self._after(response, skip)

    async def process_spider_output_async(self, response: Response,
                                          result: AsyncIterator[Any]) -> AsyncIterator[Any]:
        skip: set[str] = set()
        async for output in result:
            _note_fetched(output, skip)
            yield output
        for request in self._after(response, skip):
            yield request

    def _after(self, response: Response, skip: set[str]) -> Iterator[Request]:
        kind = response.meta.get(META_REQUISITE)
        if kind is not None:
            if response.status in (200, 304):  # else its errback ran (HttpError): a failure
                yield from self._requisite_arrived(response, kind)
        elif self._is_site_page(response):
            scanned = response.meta.get(META_PAGE_REQUISITES)
            found = page_requisites(response.body, response.url) if scanned is None \
                else [Requisite(url, kind) for url, kind in scanned]
            yield from self.requests(found, skip)

    def _is_site_page(self, response: Response) -> bool:
        if response.status != 200 or not response.body:
            return False
        content_type = (response.headers.get(b"Content-Type") or b"").lower()
        return content_type.startswith(_HTML_TYPES) and self.policy.refusal(response.url) != "offsite"

    # -- asking --------------------------------------------------------------------------------------

    def requests(self, found: Iterable[Requisite], skip: Collection[str] = ()) -> Iterator[Request]:
        """A request for each requisite not asked for yet this run, fetched by the policy."""
        for requisite in found:
            if requisite.url in skip:
                continue  # the spider asks for it already (a full-size photo with --images)
            key = url_key(requisite.url)
            if key in self._asked:
                continue
            self._asked.add(key)
            refusal = self.policy.refusal(requisite.url)
            if refusal is not None:
                self._inc(f"skipped/{refusal}")
                logger.debug("requisite not fetched (%s): %s", refusal, requisite.url)
                continue
            yield self._request(requisite)

    def _request(self, requisite: Requisite) -> Request:
        meta: dict[str, Any] = {META_REQUISITE: requisite.kind, "allow_offsite": True,
                                "handle_httpstatus_list": [304]}
        headers: dict[str, str] = {}
        known = self.store.get(requisite.url) if self.store is not None else None
        if known is not None:
            prior = known.prior_capture()
            if prior is not None:
                meta[META_PRIOR_CAPTURE] = prior
                if self.conditional and known.etag:
                    headers["If-None-Match"] = known.etag
                if self.conditional and known.last_modified:
                    headers["If-Modified-Since"] = known.last_modified
        self._inc("requested")
        self._inc(f"requested/{requisite.kind}")
        spider: Any = self.crawler.spider
        return Request(requisite.url, callback=spider.parse_requisite, errback=spider.on_requisite_error,
                       headers=headers, meta=meta, priority=REQUISITE_PRIORITY)

    # -- what came back -------------------------------------------------------------------------------

    def _requisite_arrived(self, response: Response, kind: str) -> Iterator[Request]:
        url = (response.meta.get("redirect_urls") or [response.url])[0]
        when = now_iso()
        revisit = bool(response.meta.get(META_REVISIT))
        self._inc("revisits" if revisit else "archived")
        if response.status == 304:
            self._inc("not_modified")
            known = self.store.get(url) if self.store is not None else None
            if self.store is not None:
                self.store.seen(url, kind, when)
            if known is not None and kind == STYLESHEET:  # a 304 has no body: its last references
                yield from self.requests(Requisite(u, k) for u, k in known.references())
            return
        refs = None
        if kind == STYLESHEET:
            found = stylesheet_requisites(_css_text(response.body), response.url)
            refs = [(r.url, r.kind) for r in found]
            yield from self.requests(found)
        if self.store is not None:
            capture = response.meta.get(META_REVISIT_OF) if revisit else _capture(response.meta)
            self.store.save(url, kind, when, etag=_header(response, b"ETag"),
                            last_modified=_header(response, b"Last-Modified"), capture=capture, refs=refs)

    def requisite_failed(self, failure: Failure) -> None:
        """A requisite finally failed: a line in requisite-failures.jsonl, not an article's failure."""
        error = failure.value
        if isinstance(error, DiskFullError):
            return  # not the requisite's failure: the crawl stops (--resume)
        request = failure.request  # type: ignore[attr-defined]
        line: dict[str, Any] = {"url": request.url, "kind": request.meta.get(META_REQUISITE, "")}
        if isinstance(error, HttpError):
            line.update(reason=f"HTTP {error.response.status}", status=error.response.status)
        elif isinstance(error, IgnoreRequest):
            line["reason"] = str(error) or "ignored (e.g. robots.txt)"
        else:
            line["reason"] = f"{type(error).__name__}: {failure.getErrorMessage()}"
        referer = request.headers.get(b"Referer")
        if referer:
            line["page"] = referer.decode("latin-1")
        line["time"] = datetime.now(UTC).isoformat()
        self._inc("failed")
        logger.info("requisite failed: %s: %s", line["url"], line["reason"])
        self._write_failure(line)

    def _write_failure(self, line: dict[str, Any]) -> None:
        if self.failures_path is None:
            return
        if self._failures is None:
            self.failures_path.parent.mkdir(parents=True, exist_ok=True)
            self._failures = self.failures_path.open("a", encoding="utf-8", buffering=1)
        self._failures.write(json.dumps(line, ensure_ascii=False) + "\n")

    def spider_closed(self) -> None:
        if self._failures is not None:
            self._failures.close()
            self._failures = None

    def _inc(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"{STATS}/{key}")


def _note_fetched(output: Any, skip: set[str]) -> None:
    """URLs the page's own output fetches (or leaves to ``--images``): not asked as requisites."""
    if isinstance(output, Request):
        skip.add(output.url)
    elif isinstance(output, ArticleItem):
        skip.update(output.prepared.image_sources if output.prepared is not None else image_sources(output))


def _css_text(body: bytes) -> str:
    return body.decode("utf-8", "replace").lstrip("\ufeff")


def _capture(meta: dict[str, Any]) -> dict[str, str] | None:
    location = meta.get("warc")
    if not location:
        return None
    return {"record_id": location.get("record_id") or "",
            "payload_digest": location.get("payload_digest") or "", "warc_date": meta.get("warc_date") or ""}


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def requisites_report(stats: dict[str, Any], out_dir: Path | None = None) -> dict[str, Any]:
    """report.json's ``requisites``: what was asked, archived (in full or as revisits), skipped, failed."""
    def count(key: str) -> int:
        return int(stats.get(f"{STATS}/{key}", 0))

    prefix = f"{STATS}/requested/"
    failures = out_dir / FAILURES_FILE if out_dir is not None else None
    return {
        "requested": count("requested"),
        "by_kind": {k[len(prefix):]: v for k, v in sorted(stats.items()) if k.startswith(prefix)},
        "archived": count("archived"),
        "revisits": count("revisits"),
        "not_modified": count("not_modified"),
        "failed": count("failed"),
        "skipped": {"ignored": count("skipped/ignored"), "offsite": count("skipped/offsite")},
        "failures": FAILURES_FILE if failures is not None and failures.exists() else None,
    }
