"""The replica's HTTP server: a Twisted ``Resource`` answering defense.gov's URL scheme.

HTTP behaviour copied from the real site where a crawler meets it: ``ETag`` and
``Last-Modified`` with 304 answers (Twisted's own conditional-request handling), gzip when the
client asks for it, chunked transfer for some pages, several ``Set-Cookie`` headers (DNN sets
them), 301 redirects from legacy ``.aspx`` URLs and from ``www.defense.gov`` to ``www.war.gov``
(``--host-alias``), 404 for unknown ids.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import datetime
from functools import cache
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from twisted.web import http, server
from twisted.web.resource import Resource

from archiver.replica import assets, faults, render
from archiver.replica.botwall import BotWall
from archiver.replica.cache import EncodedReply, ReplyCache, etag_of, gzip_body
from archiver.replica.corpus import (
    CONTENT_TYPES,
    END,
    TYPES_BY_CODE,
    ContentType,
    Corpus,
    Head,
)
from archiver.replica.eraserver import EraRoutes
from archiver.replica.options import ServerOptions
from archiver.replica.reply import Reply

logger = logging.getLogger(__name__)

SITEMAP_CHUNK = 1000
ALIASED_HOSTS = {"www.defense.gov", "defense.gov"}
Handler = Callable[[str, re.Match[str], dict[str, list[str]]], "Reply"]
_ARTICLE_PATH = re.compile(r"^/News/[^/]+/(?:[^/]+/)?Article/(\d+)(?:/[^/]*)?/?$", re.I)
_IMAGE_PATH = re.compile(
    r"^/\d{4}/[A-Z][a-z]{2}/\d{2}/(\d+)/-?\d+/-?\d+/0/[\w-]+\.JPG$", re.I)


@cache
def jpeg_bytes(variant: int) -> bytes:
    return resources.files("archiver.replica").joinpath("data", f"photo-{variant % 4}.jpg").read_bytes()


def photo_rendition(media_id: int, path: str) -> bytes:
    """The photo at ``path`` (one size of one photo): one of four small JPEGs with the path in a
    comment segment, so that each rendition is its own payload, as on media.defense.gov (were they
    the same bytes, every photo but four would be archived as a revisit of another)."""
    data = jpeg_bytes(media_id)
    comment = path.encode("utf-8")[:60000]
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


class ReplicaSite(EraRoutes, Resource):
    """Every URL of the replica, answered from one ``Corpus``."""

    isLeaf = True

    def __init__(self, corpus: Corpus, options: ServerOptions) -> None:
        super().__init__()
        self.corpus = corpus
        self.options = options
        self.fault_plan = faults.FaultPlan(options.faults) if options.faults else None
        self.injector = faults.FaultInjector(self.fault_plan) if self.fault_plan else None
        self.hostile = faults.HostileCases.load(options.hostile, corpus) if options.hostile else None
        self.botwall = BotWall(options.botwall, options.botwall_after) if options.botwall else None
        # fault plans are stateful (a page fails N times, then serves): only a plain replica caches
        self.cache = ReplyCache(options.cache_bytes) if options.cache_bytes > 0 and not options.faults \
            else None
        self._routes: list[tuple[re.Pattern[str], Handler]] = [
            (re.compile(r"^/robots\.txt$", re.I), self._robots),
            (re.compile(r"^/sitemap\.xml$", re.I), self._sitemap_index),
            (re.compile(r"^/sitemaps/sections\.xml$", re.I), self._sitemap_sections),
            (re.compile(r"^/sitemaps/news-(\d+)\.xml$", re.I), self._sitemap_news),
            (re.compile(r"^/DesktopModules/ArticleCS/RSS\.ashx$", re.I), self._rss),
            (re.compile(r"^/News/NewsArticle\.aspx$", re.I), self._legacy_news),
            (re.compile(r"^/Transcripts/Transcript\.aspx$", re.I), self._legacy_transcript),
            (_IMAGE_PATH, self._image),
            (assets.ASSET_PATH, self._asset),  # stylesheets, scripts, fonts, images the pages load
            (_ARTICLE_PATH, self._article),
            (re.compile(r"^(/News/[^/]+/)$", re.I), self._listing),
            (re.compile(r"^/$"), self._home),
        ]
        self._routes[0:0] = self.era_routes()  # ``--era``: legacy pages first (none without it)

    # -- twisted entry point -----------------------------------------------------------------------

    def render(self, request: server.Request) -> bytes | int:
        host = (request.getHeader("host") or "127.0.0.1").strip()
        uri = request.uri.decode("latin-1")
        if uri.startswith(("http://", "https://")):  # proxy-style request line
            parts = urlsplit(uri)
            host, uri = parts.netloc, parts.path + (f"?{parts.query}" if parts.query else "")
        base = f"http://{host}"
        if self.botwall is not None and self.botwall.blocks():
            return self.botwall.answer(request, host, uri)
        if self.hostile is not None and self.hostile.answers(uri):
            return self.hostile.serve(request, uri, base)
        fault = self._take_fault(uri)
        if self.cache is not None and fault is None:
            return self._send_cached(request, host, uri, base, self.cache)
        reply = self.dispatch(host, uri, base)
        if fault is not None:
            parts = urlsplit(uri)
            reply = faults.fault_reply(fault, reply, parts.path, parts.query)
        return self._send(request, reply, fault)

    def _send_cached(self, request: server.Request, host: str, uri: str, base: str,
                     cache: ReplyCache) -> bytes | int:
        """Answer from the cache of finished 200 answers (same bytes as :meth:`_send` makes)."""
        key = (host, uri)
        encoded = cache.get(key)
        if encoded is None:
            reply = self.dispatch(host, uri, base)
            if reply.status != 200 or not reply.body:
                return self._send(request, reply)
            encoded = EncodedReply.of(reply)
            cache.put(key, encoded)
        return self._send(request, encoded.reply, encoded=encoded)

    def _take_fault(self, uri: str) -> faults.Fault | None:
        """The fault this request meets (``--faults``), keyed by what the URL is (see faults.py)."""
        if self.injector is None:
            return None
        parts = urlsplit(uri)
        if parts.path.lower() == "/robots.txt":
            return None
        article = _ARTICLE_PATH.match(parts.path)
        if article:
            return self.injector.take(faults.article_key(article.group(1)), "article")
        section = self._listing_section(parts.path)
        if section is not None:
            page = self._page_number(parse_qs(parts.query))
            return self.injector.take(faults.listing_key(section, page), "listing")
        return self.injector.take(uri, "other")

    @staticmethod
    def _listing_section(path: str) -> str | None:
        canonical = {key.lower(): key for key in render.SECTION_TITLES}
        return canonical.get(path.lower())

    def dispatch(self, host: str, uri: str, base: str) -> Reply:
        parts = urlsplit(uri)
        hostname = host.split(":")[0].lower()
        if hostname == "archive.defense.gov" and parts.path.lower() == "/news/newsarticle.aspx" \
                and not self.corpus.options.era:  # with --era, archive.defense.gov serves its pages
            return self._legacy_news_at("http://www.defense.gov", parse_qs(parts.query.lower()))
        if self.options.host_alias and hostname in ALIASED_HOSTS:
            return Reply(301, location=f"http://www.war.gov{uri}", body=b"")
        query = parse_qs(parts.query)
        for pattern, handler in self._routes:
            match = pattern.match(parts.path)
            if match:
                return handler(base, match, query)
        return self._not_found(base, parts.path)

    def _send(self, request: server.Request, reply: Reply, fault: faults.Fault | None = None,
              encoded: EncodedReply | None = None) -> bytes | int:
        request.setResponseCode(reply.status)
        request.setHeader(b"server", b"Microsoft-IIS/10.0")
        request.setHeader(b"x-powered-by", b"ASP.NET")
        for name, value in reply.headers:
            request.responseHeaders.addRawHeader(name, value)
        if reply.location:
            request.setHeader(b"location", reply.location.encode("utf-8"))
        if reply.cookies:
            # DNN sets several cookies on every page: a crawler's archive must keep them all
            for cookie in (b"dnn_IsMobile=False", b"language=en-US"):
                request.responseHeaders.addRawHeader(b"set-cookie", cookie + b"; path=/; secure; HttpOnly")
        if encoded is None and (reply.status != 200 or not reply.body):
            request.setHeader(b"content-type", reply.content_type)
            return reply.body
        request.setHeader(b"content-type", reply.content_type)
        request.setHeader(b"vary", b"Accept-Encoding")
        request.setHeader(b"cache-control", b"private")
        cached = request.setETag(encoded.etag if encoded is not None else etag_of(reply))
        if reply.last_modified is not None:
            stamp = math.floor(reply.last_modified.timestamp())
            cached = request.setLastModified(stamp) or cached
        if cached == http.CACHED:
            return b""
        wants_gzip = b"gzip" in (request.getHeader("accept-encoding") or "").encode("latin-1")
        if encoded is not None:
            body = encoded.gzipped if wants_gzip else encoded.body()
        else:
            body = gzip_body(reply.body) if wants_gzip else reply.body
        if wants_gzip:
            request.setHeader(b"content-encoding", b"gzip")
        if fault is not None and fault.kind in faults.TRANSPORT_KINDS:
            return faults.deliver_broken(request, body, fault, self.fault_delay)
        if not self._chunked(request):
            return body
        # no Content-Length: Twisted sends HTTP/1.1 chunked transfer coding, one chunk per write
        third = max(1, len(body) // 3)
        for start in range(0, len(body), third):
            request.write(body[start:start + third])
        request.finish()
        return server.NOT_DONE_YET

    @staticmethod
    def _chunked(request: server.Request) -> bool:
        """Some pages arrive chunked, as from the real site's CDN: every third article id."""
        path = request.path.decode("latin-1")
        match = _ARTICLE_PATH.match(path)
        return match is not None and int(match.group(1)) % 3 == 0 and request.clientproto == b"HTTP/1.1"

    # -- handlers -----------------------------------------------------------------------------------

    def _article(self, base: str, match: re.Match[str], _query: dict[str, list[str]]) -> Reply:
        k = self.corpus.k_for_id(int(match.group(1)))
        if k is None:
            return self._removed(base, match.group(0), int(match.group(1)))
        if self.corpus.options.era:
            return self.era_article(base, k)
        article = self.corpus.article(k)
        html = render.ArticleRenderer(article, base).html()
        basis = f"{self.corpus.options.seed}:{article.head.article_id}:{article.head.revision}"
        return Reply(body=html.encode("utf-8"), last_modified=article.last_modified, cookies=True,
                     etag_basis=basis)

    def _removed(self, base: str, path: str, article_id: int) -> Reply:
        """An unknown id (404), or a removed article as ``--gone-mode`` says."""
        mode = self.options.gone_mode
        if mode == "404" or self.corpus.removed_k_for_id(article_id) is None:
            return self._not_found(base, path)
        if mode == "410":
            return Reply(410, body=render.not_found_page(base, path).encode("utf-8"))
        head, _, slug = path.rstrip("/").rpartition(f"/{article_id}")
        slug = slug.strip("/")
        if slug.lower().startswith("dei"):  # where the removal redirected to: not found
            return self._not_found(base, path)
        target = f"{head}/{article_id}/dei{('-' + slug) if slug else ''}/"
        return Reply(301, location=base + target, body=b"")

    def _page_number(self, query: dict[str, list[str]]) -> int:
        value = (query.get("Page") or query.get("page") or ["1"])[0]
        return int(value) if value.isdigit() and int(value) > 0 else 1

    def _listing(self, base: str, match: re.Match[str], query: dict[str, list[str]]) -> Reply:
        path = match.group(1)
        canonical = {key.lower(): key for key in render.SECTION_TITLES}
        section = canonical.get(path.lower())
        if section is None:
            return self._not_found(base, path)
        return self._listing_of(base, section, query)

    def _listing_of(self, base: str, section: str, query: dict[str, list[str]]) -> Reply:
        era_reply = self.era_listing(base, section, query) if self.corpus.options.era else None
        if era_reply is not None:
            return era_reply
        ks = self._section_ks(section)
        size = self.options.page_size
        page_no = self._page_number(query)
        last_page = max(1, math.ceil(len(ks) / size))
        fault = self.fault_plan.listing_fault(section, page_no) if self.fault_plan else None
        heads = [self.corpus.head(k) for k in faults.faulty_listing(fault, ks, page_no, size)]
        html = render.listing_page(render.SECTION_TITLES[section], section, heads, base, page_no, last_page)
        return Reply(body=html.encode("utf-8"), cookies=True)

    def _home(self, base: str, _match: re.Match[str], _query: dict[str, list[str]]) -> Reply:
        return self._listing_of(base, "/News/Archive/", {})

    @property
    def fault_delay(self) -> float:
        return self.options.faults.delay if self.options.faults else faults.DEFAULT_DELAY

    def truth_faults(self) -> faults.TruthFaults | None:
        """Which articles the faults affect (for ``--dump-truth``), or None without faults."""
        if self.fault_plan is None:
            return None
        return faults.truth_faults(self.fault_plan, self.corpus, _section_index(self.corpus),
                                   self.options.page_size)

    def _section_ks(self, section: str) -> list[int]:
        return _section_index(self.corpus).get(section, [])

    def _robots(self, base: str, _m: re.Match[str], _q: dict[str, list[str]]) -> Reply:
        body = render.robots_txt(base, self.options.crawl_delay).encode("ascii")
        return Reply(body=body, content_type=b"text/plain")

    def _sitemap_index(self, base: str, _m: re.Match[str], _q: dict[str, list[str]]) -> Reply:
        children = max(1, math.ceil(self.corpus.size / SITEMAP_CHUNK))
        newest = self.corpus.head(self.corpus.size - 1).published
        return Reply(body=render.sitemap_index(base, children, newest).encode("utf-8"),
                     content_type=b"application/xml; charset=utf-8")

    def _sitemap_sections(self, base: str, _m: re.Match[str], _q: dict[str, list[str]]) -> Reply:
        entries: list[tuple[str, datetime | None]] = [(base + s, None) for s in render.SECTION_TITLES]
        return Reply(body=render.urlset(entries).encode("utf-8"),
                     content_type=b"application/xml; charset=utf-8")

    def _sitemap_news(self, base: str, match: re.Match[str], _q: dict[str, list[str]]) -> Reply:
        n = int(match.group(1))
        order = self.corpus.newest_first()[max(0, n - 1) * SITEMAP_CHUNK: n * SITEMAP_CHUNK]
        if n < 1 or not order:
            return self._not_found(base, match.group(0))
        entries: list[tuple[str, datetime | None]] = []
        for k in order:
            head = self.corpus.head(k)
            entries.append((base + head.path, head.published))
        return Reply(body=render.urlset(entries).encode("utf-8"),
                     content_type=b"application/xml; charset=utf-8")

    def _rss(self, base: str, _m: re.Match[str], query: dict[str, list[str]]) -> Reply:
        lowered = {k.lower(): v for k, v in query.items()}
        code = (lowered.get("contenttype") or [""])[0]
        ctype: ContentType | None = None
        if code:
            ctype = TYPES_BY_CODE.get(int(code)) if code.isdigit() else None
            if ctype is None:
                return self._not_found(base, "/DesktopModules/ArticleCS/RSS.ashx")
        max_raw = (lowered.get("max") or ["10"])[0]
        limit = min(int(max_raw), 100) if max_raw.isdigit() else 10
        ks = self._section_ks(ctype.section if ctype else "/News/Archive/")[:limit]
        heads = [self.corpus.head(k) for k in ks]
        return Reply(body=render.rss(ctype, heads, base).encode("utf-8"),
                     content_type=b"application/rss+xml; charset=utf-8")

    def _legacy_news(self, base: str, _m: re.Match[str], query: dict[str, list[str]]) -> Reply:
        return self._legacy_news_at(base, {k.lower(): v for k, v in query.items()})

    def _legacy_news_at(self, base: str, query: dict[str, list[str]]) -> Reply:
        return self._legacy_redirect(base, (query.get("id") or [""])[0], {"news-story", "feature"})

    def _legacy_transcript(self, base: str, _m: re.Match[str], query: dict[str, list[str]]) -> Reply:
        lowered = {k.lower(): v for k, v in query.items()}
        return self._legacy_redirect(base, (lowered.get("transcriptid") or [""])[0], {"transcript"})

    def _legacy_redirect(self, base: str, raw_id: str, types: set[str]) -> Reply:
        k = self.corpus.k_for_id(int(raw_id)) if raw_id.isdigit() else None
        if k is None or self.corpus.head(k).ctype.name not in types:
            return self._not_found(base, "/News/NewsArticle.aspx")
        return Reply(301, location=base + self.corpus.head(k).path)

    def _image(self, _base: str, match: re.Match[str], _q: dict[str, list[str]]) -> Reply:
        return Reply(body=photo_rendition(int(match.group(1)), match.group(0)), content_type=b"image/jpeg",
                     last_modified=END)

    def _asset(self, _base: str, match: re.Match[str], _q: dict[str, list[str]]) -> Reply:
        found = assets.asset(match.group(0))
        if found is None:
            return self._not_found(_base, match.group(0))
        body, content_type = found
        return Reply(body=body, content_type=content_type, last_modified=END)

    def _not_found(self, base: str, path: str) -> Reply:
        return Reply(404, body=render.not_found_page(base, path).encode("utf-8"))


@cache
def _section_index(corpus: Corpus) -> dict[str, list[int]]:
    """Article ranks per section, newest first (built once, on the first listing asked for)."""
    index: dict[str, list[int]] = {ct.section: [] for ct in CONTENT_TYPES}
    index["/News/Archive/"] = []
    for k in corpus.newest_first():
        head: Head = corpus.head(k)
        index[head.ctype.section].append(k)
        index["/News/Archive/"].append(k)
    return index
