"""Fault injection for the replica: ``archiver replica --faults SPEC --fault-seed N``.

The model is deterministic whatever the crawler's concurrency or request order:

- Every URL maps to a *target key*: ``article:<id>`` for any URL of an article (whatever its
  slug or query), ``listing:<section>:<page>`` for a listing page, else its path and query.
  ``robots.txt`` never faults.
- A key draws one number ``u`` in [0, 100) from ``sha256("<seed>:<key>")``. The kinds of the
  spec take consecutive intervals, as wide as their percent, in the fixed order of ``KINDS``;
  the key gets the kind whose interval holds ``u`` when that kind applies to the key's scope,
  else no fault. Percentages add up (at most 100 in all) and a URL has at most one fault.
- A *transient* fault fails the first N requests of its key, then the URL answers normally; a
  *permanent* one fails every request. Each kind has a default (``KINDS``); ``KIND=PCT:N`` or
  ``KIND=PCT:always`` overrides it. Listing kinds are always permanent.

``truth_faults`` tells the ground truth (``--dump-truth``) which articles are affected, so tests
can check that every article ends in ``articles.jsonl`` or in ``failures.jsonl`` with a reason.
See docs/replica.md ("Faults") and docs/reliability.md.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twisted.web.server import Request

    from archiver.replica.corpus import Corpus, Head
    from archiver.replica.reply import Reply

logger = logging.getLogger(__name__)

#: where ``offsite`` redirects go: ``.invalid`` never resolves (RFC 2606), so a crawler that
#: followed it would fail loudly rather than reach a real host
OFFSITE_HOST = "www.offsite.invalid"
HUGE_BYTES = 10 * 1024 * 1024
DEFAULT_DELAY = 65.0  # past Scrapy's default DOWNLOAD_TIMEOUT (and the archiver's, 60 s)
_FLUSH_BEFORE_RESET = 0.2  # seconds: let the partial body leave before the reset
_META_CHARSET = re.compile(rb"<meta\b[^>]*charset[^>]*>", re.I)


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault: where it applies and how many first requests it fails by default."""

    name: str
    scope: str  # "any" (every URL but robots.txt), "article" or "listing"
    fails: int | None  # default: the first N requests fail; None: every request
    summary: str


KINDS: tuple[FaultKind, ...] = (
    FaultKind("5xx", "any", 2, "500, 502, 503 or 504 (a burst: the first 2 requests)"),
    FaultKind("429", "any", 1, "429 Too Many Requests with Retry-After (1 s, or an HTTP date 2 s ahead)"),
    FaultKind("slow", "any", 1, "nothing sent for --fault-delay seconds (past the crawler's timeout)"),
    FaultKind("reset", "any", 1, "full Content-Length, half the body, then a TCP reset"),
    FaultKind("truncate", "any", 1, "full Content-Length, half the body, then the connection closed"),
    FaultKind("badgzip", "any", 1, "Content-Encoding: gzip with a corrupt stream (bytes flipped or cut)"),
    FaultKind("charset", "article", None, "UTF-8 bytes labelled iso-8859-1, or no charset anywhere"),
    FaultKind("loop", "article", None, "302 redirect loop: URL -> URL?loop=1 -> URL"),
    FaultKind("offsite", "article", None, f"301 redirect to http://{OFFSITE_HOST}/<same path>"),
    FaultKind("empty", "article", None, "200 with an empty body"),
    FaultKind("huge", "article", None, "the page padded to 10 MB"),
    FaultKind("listing-repeat", "listing", None, "listing page N lists the items of page N-1 (N >= 2)"),
    FaultKind("listing-skip", "listing", None, "the listing page leaves one of its items out"),
)
KINDS_BY_NAME = {kind.name: kind for kind in KINDS}
#: kinds that change what is sent on the wire, not what the page says
TRANSPORT_KINDS = frozenset({"slow", "reset", "truncate", "badgzip"})
LISTING_KINDS = frozenset({"listing-repeat", "listing-skip"})


class FaultSpecError(ValueError):
    """A ``--faults`` value that cannot be used."""


@dataclass(frozen=True)
class FaultSpec:
    """What ``--faults``, ``--fault-seed`` and ``--fault-delay`` asked for."""

    percents: dict[str, float]
    fails: dict[str, int | None]
    seed: int = 1
    delay: float = DEFAULT_DELAY
    #: ``--fault-retry-after``: the Retry-After seconds of ``429`` faults (None: 1 s or a date 2 s ahead)
    retry_after: float | None = None

    def describe(self) -> str:
        return ",".join(f"{name}={pct:g}" for name, pct in self.percents.items())


def parse_fault_spec(text: str, seed: int = 1, delay: float = DEFAULT_DELAY,
                     retry_after: float | None = None) -> FaultSpec:
    """``"5xx=4,429=2:3,loop=1"`` → a FaultSpec; raises FaultSpecError with a one-line reason."""
    percents: dict[str, float] = {}
    fails: dict[str, int | None] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, pct, count = _spec_part(part)
        if name in percents:
            raise FaultSpecError(f"fault kind given twice: {name}")
        percents[name], fails[name] = pct, count
    if not percents:
        raise FaultSpecError("no fault kinds given (e.g. 5xx=4,slow=1)")
    if sum(percents.values()) > 100:
        raise FaultSpecError(f"fault percentages add up to {sum(percents.values()):g} (at most 100)")
    return FaultSpec(percents, fails, seed, delay, retry_after)


def _spec_part(part: str) -> tuple[str, float, int | None]:
    name, sep, value = part.partition("=")
    name = name.strip().lower()
    kind = KINDS_BY_NAME.get(name)
    if kind is None or not sep:
        known = ", ".join(KINDS_BY_NAME)
        raise FaultSpecError(f"expected KIND=PERCENT[:N|:always] with KIND one of {known}: {part!r}")
    pct_text, _, count_text = value.partition(":")
    try:
        pct = float(pct_text)
    except ValueError:
        raise FaultSpecError(f"not a percentage: {part!r}") from None
    if not 0 <= pct <= 100:
        raise FaultSpecError(f"percentage not between 0 and 100: {part!r}")
    return name, pct, _fail_count(kind, count_text.strip(), part)


def _fail_count(kind: FaultKind, text: str, part: str) -> int | None:
    if not text or kind.name in LISTING_KINDS:
        return kind.fails
    if text.lower() == "always":
        return None
    if not text.isdigit() or int(text) < 1:
        raise FaultSpecError(f"expected :N (N >= 1) or :always after the percentage: {part!r}")
    return int(text)


# -- which URL gets which fault ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """The fault of one target key. ``variant`` picks the flavour (which 5xx, which charset...)."""

    kind: str
    fails: int | None
    variant: int
    #: the Retry-After of a ``429`` (``--fault-retry-after``; None: the variant picks)
    retry_after: float | None = None

    @property
    def permanent(self) -> bool:
        return self.fails is None


class FaultPlan:
    """The pure part: which target key has which fault (a function of seed, key and spec)."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._intervals: list[tuple[FaultKind, float, float]] = []
        low = 0.0
        for kind in KINDS:
            pct = spec.percents.get(kind.name, 0.0)
            if pct > 0:
                self._intervals.append((kind, low, low + pct))
                low += pct

    def draw(self, key: str) -> tuple[float, int]:
        """``(u in [0, 100), variant)`` of a key."""
        digest = hashlib.sha256(f"{self.spec.seed}:{key}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64 * 100
        return u, int.from_bytes(digest[8:12], "big")

    def fault_for(self, key: str, scope: str) -> Fault | None:
        u, variant = self.draw(key)
        for kind, low, high in self._intervals:
            if low <= u < high:
                if kind.scope in {"any", scope}:
                    return Fault(kind.name, self.spec.fails[kind.name], variant, self.spec.retry_after)
                return None
        return None

    def listing_fault(self, section: str, page: int) -> Fault | None:
        fault = self.fault_for(listing_key(section, page), "listing")
        if fault is None or fault.kind not in LISTING_KINDS:
            return None
        if fault.kind == "listing-repeat" and page < 2:
            return None  # page 1 has no previous page to repeat
        return fault


def article_key(article_id: int | str) -> str:
    return f"article:{article_id}"


def listing_key(section: str, page: int) -> str:
    return f"listing:{section.lower()}:{page}"


class FaultInjector:
    """The stateful part: counts the requests of each faulty key (transient faults end)."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.requests: Counter[str] = Counter()

    def take(self, key: str, scope: str) -> Fault | None:
        """The fault this request meets, if any (listing kinds are applied by the listing page)."""
        fault = self.plan.fault_for(key, scope)
        if fault is None or fault.kind in LISTING_KINDS:
            return None
        seen = self.requests[key]
        self.requests[key] += 1
        if fault.fails is not None and seen >= fault.fails:
            return None
        logger.debug("fault %s on %s (request %d)", fault.kind, key, seen + 1)
        return fault


# -- faults that change the reply -------------------------------------------------------------------


def fault_reply(fault: Fault, reply: Reply, path: str, query: str) -> Reply:
    """The reply as the fault changes it (``reply`` unchanged for transport-level kinds)."""
    change = _REPLY_FAULTS.get(fault.kind)
    return change(fault, reply, path, query) if change else reply


def _server_error(fault: Fault, reply: Reply, _path: str, _query: str) -> Reply:
    status = (500, 502, 503, 504)[fault.variant % 4]
    body = f"<html><body><h1>{status} Server Error</h1></body></html>".encode()
    return replace(reply, status=status, body=body, content_type=b"text/html; charset=utf-8",
                   location="", cookies=False)


def _too_many(fault: Fault, reply: Reply, _path: str, _query: str) -> Reply:
    if fault.retry_after is not None:
        retry_after = f"{fault.retry_after:g}".encode("ascii")
    elif fault.variant % 2:
        when = datetime.now(UTC) + timedelta(seconds=2)
        retry_after = format_datetime(when, usegmt=True).encode("ascii")
    else:
        retry_after = b"1"
    return replace(reply, status=429, body=b"<html><body><h1>Too Many Requests</h1></body></html>",
                   content_type=b"text/html; charset=utf-8", location="", cookies=False,
                   headers=(*reply.headers, (b"retry-after", retry_after)))


def _loop(_fault: Fault, reply: Reply, path: str, query: str) -> Reply:
    target = path if "loop=1" in query else f"{path}?loop=1"
    return replace(reply, status=302, body=b"", location=target, cookies=False)


def _offsite(_fault: Fault, reply: Reply, path: str, query: str) -> Reply:
    target = f"http://{OFFSITE_HOST}{path}" + (f"?{query}" if query else "")
    return replace(reply, status=301, body=b"", location=target, cookies=False)


def _empty(_fault: Fault, reply: Reply, _path: str, _query: str) -> Reply:
    return replace(reply, status=200, body=b"", cookies=False) if reply.status == 200 else reply


def _charset(fault: Fault, reply: Reply, _path: str, _query: str) -> Reply:
    if reply.status != 200:
        return reply
    body = _META_CHARSET.sub(b"", reply.body)
    # variant 0: the classic CMS/CDN mislabel; variant 1: no charset in the header or the page
    label = b"text/html; charset=iso-8859-1" if fault.variant % 2 == 0 else b"text/html"
    return replace(reply, body=body, content_type=label)


def _huge(fault: Fault, reply: Reply, _path: str, _query: str) -> Reply:
    if reply.status != 200 or b"</body>" not in reply.body:
        return reply
    return replace(reply, body=pad_page(reply.body, fault.variant))


_REPLY_FAULTS: dict[str, Callable[[Fault, Reply, str, str], Reply]] = {
    "5xx": _server_error,
    "429": _too_many,
    "loop": _loop,
    "offsite": _offsite,
    "empty": _empty,
    "charset": _charset,
    "huge": _huge,
}


def pad_page(html: bytes, variant: int, size: int = HUGE_BYTES) -> bytes:
    """``html`` grown to ``size`` bytes with an inline data blob before ``</body>`` (as pages that
    inline images or app state do): 2 MB of random base64 (it stays big on the wire, about 1.5 MB
    gzipped) then a repeated 20 KB block (cheap to gzip, so the replica stays fast)."""
    rng = random.Random(variant)
    missing = max(0, size - len(html) - 80)
    unique = base64.b64encode(rng.randbytes(1_500_000))[:missing]
    block = base64.b64encode(rng.randbytes(15_000))
    repeats = (missing - len(unique)) // len(block) + 1
    blob = (unique + block * repeats)[:missing]
    filler = b'<script type="application/json" id="inline-state">"' + blob + b'"</script>'
    return html.replace(b"</body>", filler + b"</body>", 1)


# -- faults that break the transfer -----------------------------------------------------------------


def deliver_broken(request: Request, body: bytes, fault: Fault, delay: float) -> int:
    """Send ``body`` (already content-encoded) the way ``fault`` breaks it; NOT_DONE_YET."""
    from twisted.web.server import NOT_DONE_YET

    if fault.kind == "badgzip":
        body = corrupt_gzip(_gzipped(request, body), fault.variant)
    request.setHeader(b"content-length", str(len(body)).encode("ascii"))
    if fault.kind == "slow":
        _send_late(request, body, delay)
    elif fault.kind in {"reset", "truncate"}:
        request.write(body[: len(body) // 2])
        _cut(request, abort=fault.kind == "reset")
    else:
        request.write(body)
        request.finish()
    return NOT_DONE_YET


def _gzipped(request: Request, body: bytes) -> bytes:
    if request.responseHeaders.hasHeader(b"content-encoding"):
        return body
    request.setHeader(b"content-encoding", b"gzip")
    return gzip.compress(body, compresslevel=6, mtime=0)


def corrupt_gzip(data: bytes, variant: int) -> bytes:
    """A gzip stream that does not decode: bytes flipped in the middle, or cut before its end."""
    if variant % 2 == 0 and len(data) > 40:
        middle = len(data) // 2
        return data[:middle] + bytes(b ^ 0x5A for b in data[middle:middle + 16]) + data[middle + 16:]
    return data[: max(10, len(data) * 2 // 3)]


def _send_late(request: Request, body: bytes, delay: float) -> None:
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor
    finished = request.notifyFinish()

    def send() -> None:
        if not getattr(request, "_disconnected", False) and not request.finished:
            request.write(body)
            request.finish()

    call = reactor.callLater(delay, send)
    finished.addErrback(lambda _failure: call.cancel() if call.active() else None)


def _cut(request: Request, *, abort: bool) -> None:
    """Close the connection with the body unfinished: a reset (RST) or a plain close (FIN)."""
    from twisted.internet import reactor as _reactor

    reactor: Any = _reactor
    transport: Any = request.channel.transport if request.channel else None
    if transport is None:
        return
    if abort:  # leave the written half time to go out: abortConnection drops buffered bytes
        reactor.callLater(_FLUSH_BEFORE_RESET, transport.abortConnection)
    else:
        transport.loseConnection()


# -- listings ---------------------------------------------------------------------------------------


def faulty_listing(fault: Fault | None, ks: list[int], page: int, size: int) -> list[int]:
    """The article ranks a listing page shows under its fault (``ks``: the section, in order)."""
    own = ks[(page - 1) * size: page * size]
    if fault is None or not own:
        return own
    if fault.kind == "listing-repeat":
        return ks[(page - 2) * size: (page - 1) * size]
    if fault.kind == "listing-skip":
        gone = fault.variant % len(own)
        return own[:gone] + own[gone + 1:]
    return own


# -- ground truth -----------------------------------------------------------------------------------


@dataclass
class TruthFaults:
    """The ``faults`` list of each article's truth record."""

    by_k: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, k: int, entry: dict[str, Any]) -> None:
        self.by_k.setdefault(k, []).append(entry)

    def of(self, k: int) -> list[dict[str, Any]]:
        return self.by_k.get(k, [])


def truth_faults(plan: FaultPlan, corpus: Corpus, sections: dict[str, list[int]],
                 page_size: int) -> TruthFaults:
    """Which fault meets each article: on its own URL, and listing pages that leave it out."""
    found = TruthFaults()
    for k in corpus.newest_first():
        head: Head = corpus.head(k)
        fault = plan.fault_for(article_key(head.article_id), "article")
        if fault is not None and fault.kind not in LISTING_KINDS:
            found.add(k, {"kind": fault.kind, "on": "article", "permanent": fault.permanent,
                          "failed_attempts": fault.fails})
    for section, ks in sections.items():
        pages = max(1, -(-len(ks) // page_size))
        for page in range(1, pages + 1):
            _listing_truth(found, plan.listing_fault(section, page), ks, section, page, page_size)
    return found


def _listing_truth(found: TruthFaults, fault: Fault | None, ks: list[int], section: str, page: int,
                   size: int) -> None:
    if fault is None:
        return
    shown = set(faulty_listing(fault, ks, page, size))
    where = f"{section}?Page={page}"
    for k in ks[(page - 1) * size: page * size]:
        if k not in shown:
            found.add(k, {"kind": fault.kind, "on": where, "permanent": True, "failed_attempts": None})


# -- hostile input (``--hostile DIR``) --------------------------------------------------------------
#
# Each folder of DIR is one case (tests/fixtures/hostile/<case>/info.json). A case with a
# ``serve`` object is answered at ``serve.path`` (which may be a URL of the replica itself, e.g.
# ``/sitemap.xml`` or an RSS feed): ``body`` (a file), ``raw`` (a file holding the whole HTTP
# response, sent byte for byte, then the connection is closed) or ``generate`` (``gzip-bomb``).
# ``template: true`` fills ``{{base}}``, ``{{host}}``, ``{{article:N}}`` (URL of the N-th newest
# article), ``{{id:N}}`` and ``{{repeat:TEXT:N}}``; ``gzip: true`` sends the body gzip-encoded;
# ``chunked: true`` sends it chunked (no Content-Length).
# Cases of group ``listing`` are linked from ``/News/Archive/`` (their ``link``, else their path).
# ``/hostile/requests.json`` tells which URIs were asked for (canary checks).

HOSTILE_LISTING = "/News/Archive/"
REQUESTS_LOG = "/hostile/requests.json"
MAX_REPEAT = 50_000_000
_PLACEHOLDER = re.compile(r"\{\{(base|host|content-length|article:\d+|id:\d+|repeat:.*?:\d+)\}\}", re.S)
_LOGGED_URI_CHARS = 4096


@dataclass(frozen=True)
class HostileCase:
    """One folder of the hostile corpus."""

    name: str
    folder: Path
    info: dict[str, Any]

    @property
    def serve(self) -> dict[str, Any]:
        found: dict[str, Any] = self.info.get("serve") or {}
        return found

    def link(self, base: str) -> str | None:
        """The href the hostile listing page gives this case (listing group only)."""
        if self.info.get("group") != "listing":
            return None
        link = self.info.get("link")
        if link is not None:
            return str(link)
        return base + self.serve["path"] if self.serve.get("path") else None


class HostileCases:
    """Serves the hostile corpus next to the replica (``archiver replica --hostile DIR``)."""

    def __init__(self, cases: list[HostileCase], corpus: Corpus) -> None:
        self.cases = cases
        self.corpus = corpus
        self.by_path = {case.serve["path"]: case for case in cases if case.serve.get("path")}
        self.seen: Counter[str] = Counter()

    @classmethod
    def load(cls, folder: Path, corpus: Corpus) -> HostileCases:
        import json

        cases = []
        for info_path in sorted(folder.glob("*/info.json")):
            info = json.loads(info_path.read_text("utf-8"))
            cases.append(HostileCase(info_path.parent.name, info_path.parent, info))
        if not cases:
            raise ValueError(f"no hostile cases (*/info.json) in {folder}")
        logger.info("serving %d hostile cases from %s", len(cases), folder)
        return cls(cases, corpus)

    def answers(self, uri: str) -> bool:
        """Whether this URI is the hostile corpus's to answer (every URI asked for is logged)."""
        self.seen[uri[:_LOGGED_URI_CHARS]] += 1
        return uri in self.by_path or uri in {HOSTILE_LISTING, REQUESTS_LOG}

    def serve(self, request: Request, uri: str, base: str) -> bytes | int:
        if uri == REQUESTS_LOG:
            return self._send(request, 200, [("Content-Type", "application/json")],
                              _json_bytes(dict(self.seen)))
        if uri == HOSTILE_LISTING and uri not in self.by_path:
            return self._send(request, 200, [("Content-Type", "text/html; charset=utf-8")],
                              self._listing(base))
        case = self.by_path[uri]
        if "raw" in case.serve:
            return _send_raw(request, self._raw(case, base))
        headers = [(str(n), self.fill(str(v), base)) for n, v in case.serve.get("headers", [])]
        body = self._body(case, base)
        if case.serve.get("chunked"):
            self._send(request, int(case.serve.get("status", 200)), headers, b"")
            return _send_chunked(request, body)
        return self._send(request, int(case.serve.get("status", 200)), headers, body)

    @staticmethod
    def _send(request: Request, status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
        request.setResponseCode(status)
        for name, value in headers:
            request.responseHeaders.addRawHeader(name.encode("latin-1"), value.encode("latin-1"))
        return body

    def fill(self, text: str, base: str, length: int = 0) -> str:
        """``text`` with its ``{{...}}`` placeholders filled in."""

        def one(match: re.Match[str]) -> str:
            token = match.group(1)
            if token in {"base", "host", "content-length"}:
                return {"base": base, "host": base.split("://", 1)[1], "content-length": str(length)}[token]
            name, _, rest = token.partition(":")
            if name == "repeat":
                what, _, count = rest.rpartition(":")
                return what * min(int(count), MAX_REPEAT)
            head = self.corpus.head(self.corpus.newest_first()[int(rest)])
            return base + head.path if name == "article" else str(head.article_id)

        return _PLACEHOLDER.sub(one, text)

    def _fill_bytes(self, data: bytes, base: str, length: int = 0) -> bytes:
        # latin-1 maps bytes to text one to one: invalid UTF-8 in a fixture survives filling
        return self.fill(data.decode("latin-1"), base, length).encode("latin-1")

    def _body(self, case: HostileCase, base: str) -> bytes:
        serve = case.serve
        if "generate" in serve:
            data = _generated(str(serve["generate"]), int(serve.get("size", 0)))
        else:
            data = (case.folder / serve["body"]).read_bytes() if "body" in serve else b""
        if serve.get("template"):
            data = self._fill_bytes(data, base)
        if serve.get("gzip"):
            data = gzip.compress(data, compresslevel=6, mtime=0)
        return data

    def _raw(self, case: HostileCase, base: str) -> bytes:
        data = (case.folder / case.serve["raw"]).read_bytes()
        if not case.serve.get("template"):
            return data
        head, sep, body = data.partition(b"\r\n\r\n")
        body = self._fill_bytes(body, base)
        return self._fill_bytes(head, base, len(body)) + sep + body

    def _listing(self, base: str) -> bytes:
        from archiver.replica import render

        heads = [self.corpus.head(k) for k in self.corpus.newest_first()[:10]]
        page = render.listing_page("News Archive", HOSTILE_LISTING, heads, base, 1, 1)
        items = "".join(_hostile_item(case.name, self.fill(link, base), case.info.get("listing_date", ""))
                        for case in self.cases if (link := case.link(base)) is not None)
        marker = '</div></div>\n<div class="pagination-wrap">'
        return page.replace(marker, items + marker, 1).encode("utf-8")


def _hostile_item(name: str, link: str, when: str) -> str:
    from html import escape

    date = f'<time datetime="{escape(when)}">{escape(when)}</time>' if when else ""
    return (f'<div class="item item-hostile"><h3 class="title">'
            f'<a href="{escape(link)}">{escape(name)}</a></h3>{date}</div>\n')


def _send_raw(request: Request, data: bytes) -> int:
    """Write ``data`` as the whole response, bypassing Twisted's header checks, then close."""
    from twisted.web.server import NOT_DONE_YET

    transport: Any = request.channel.transport if request.channel else None
    if transport is not None:
        transport.write(data)
        transport.loseConnection()
    return NOT_DONE_YET


def _send_chunked(request: Request, data: bytes, piece: int = 1 << 16) -> int:
    """Write ``data`` in pieces without a Content-Length: Twisted sends it chunked (HTTP/1.1)."""
    from twisted.web.server import NOT_DONE_YET

    for start in range(0, len(data), piece):
        request.write(data[start:start + piece])
    request.finish()
    return NOT_DONE_YET


@cache
def _generated(kind: str, size: int) -> bytes:
    """Generated bodies: ``gzip-bomb`` is a gzip stream of ``size`` zero bytes (about 1000:1)."""
    if kind != "gzip-bomb":
        raise ValueError(f"unknown generated body: {kind!r}")
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    chunk = b"\0" * (1 << 20)
    parts = [compressor.compress(chunk) for _ in range(size // len(chunk))]
    parts.append(compressor.compress(b"\0" * (size % len(chunk))))
    parts.append(compressor.flush())
    return b"".join(parts)


def _json_bytes(value: object) -> bytes:
    import json

    return json.dumps(value, ensure_ascii=True).encode("ascii")
