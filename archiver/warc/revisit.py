"""When to write a ``revisit`` record instead of a ``response`` (framework-free).

Two cases, both from WARC 1.1 section 6.7:

* ``304 Not Modified`` answering a conditional request (``If-None-Match`` / ``If-Modified-Since``)
  -> ``server-not-modified`` profile, referring to the capture the request was made for. A 304
  the request did not ask for, or whose earlier capture is not known (no record id or date), refers
  to nothing: it is written as the plain ``response`` record it is;
* a 2xx payload already archived in this crawl -> ``identical-payload-digest`` profile,
  referring to the first capture with that payload digest.

The crawl remembers the last ``memory`` distinct payloads (``WARC_DEDUPE_MEMORY``, default
:data:`DEFAULT_MEMORY`), not all of them: a full-history crawl must not grow with its captures
(docs/performance.md). A payload seen again after that many others is written in full once more:
a few bytes lost, never a record.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from archiver import settings as defaults
from archiver.warc.records import (
    HttpExchange,
    PriorCapture,
    RevisitOf,
    RevisitProfile,
    clean_uri,
    warc_date,
)

NOT_MODIFIED = 304
#: distinct payload digests remembered for identical-payload revisits (~0.5 KB each)
DEFAULT_MEMORY: int = defaults.WARC_DEDUPE_MEMORY  # archiver/settings.py's


def prior_capture_from(value: PriorCapture | Mapping[str, str] | None) -> PriorCapture | None:
    """Accept a PriorCapture or a plain mapping with the same keys (e.g. from request.meta)."""
    if value is None or isinstance(value, PriorCapture):
        return value
    return PriorCapture(
        target_uri=value["target_uri"],
        warc_date=value.get("warc_date"),
        record_id=value.get("record_id"),
        payload_digest=value.get("payload_digest"),
    )


_VALIDATORS = frozenset({b"if-none-match", b"if-modified-since"})


def is_conditional(exchange: HttpExchange) -> bool:
    """Whether the request carried a validator a ``304 Not Modified`` answers (RFC 9110 15.4.5)."""
    return any((name.encode("latin-1") if isinstance(name, str) else name).lower() in _VALIDATORS
               for name, _value in exchange.request_headers)


class RevisitPolicy:
    """Decide revisits and remember first captures by payload digest (in memory, per crawl).

    ``decide`` may run on a worker thread while ``remember`` runs on the writing thread; a
    lock keeps the digest map consistent. Two identical payloads in flight at the same time
    may both be written in full, which is harmless.
    """

    def __init__(self, *, dedupe: bool = True, min_payload_size: int = 1,
                 memory: int = DEFAULT_MEMORY) -> None:
        if memory < 1:
            raise ValueError(f"WARC_DEDUPE_MEMORY must be at least 1, got {memory}")
        self.dedupe = dedupe
        self.min_payload_size = min_payload_size
        self.memory = memory
        self._first_capture: OrderedDict[str, PriorCapture] = OrderedDict()
        self._lock = threading.Lock()

    def is_dedupe_candidate(self, exchange: HttpExchange) -> bool:
        """Only successful responses with a non-trivial payload are deduplicated."""
        return (
            self.dedupe
            and 200 <= exchange.status < 300
            and len(exchange.response_body) >= self.min_payload_size
        )

    def decide(
        self, exchange: HttpExchange, digest: str, prior: PriorCapture | None = None
    ) -> RevisitOf | None:
        """The revisit to write for this exchange, or None to write a full response."""
        if exchange.status == NOT_MODIFIED:
            if prior is None or not (prior.record_id or prior.warc_date) or not is_conditional(exchange):
                return None  # nothing to refer to: the 304 is archived as a response record
            return RevisitOf(RevisitProfile.SERVER_NOT_MODIFIED, prior)
        if not self.is_dedupe_candidate(exchange):
            return None
        if prior is not None and prior.payload_digest == digest:
            # the same payload as the capture of an earlier crawl (incremental crawls)
            return RevisitOf(RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, prior)
        with self._lock:
            first = self._first_capture.get(digest)
            if first is not None:
                self._first_capture.move_to_end(digest)  # least recently seen leaves first
        if first is None:
            return None
        return RevisitOf(RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, first)

    def remember(self, exchange: HttpExchange, digest: str, record_id: str) -> None:
        """Record a full response as the capture later identical payloads refer to."""
        if not self.is_dedupe_candidate(exchange):
            return
        capture = PriorCapture(
            target_uri=clean_uri(exchange.url),
            warc_date=warc_date(exchange.fetched_at),
            record_id=record_id,
            payload_digest=digest,
        )
        with self._lock:
            self._first_capture.setdefault(digest, capture)
            while len(self._first_capture) > self.memory:
                self._first_capture.popitem(last=False)
