"""Scrapy's duplicate filter with its fingerprints held compactly (``DUPEFILTER_CLASS``).

Scrapy's :class:`~scrapy.dupefilters.RFPDupeFilter` keeps every request's 20-byte fingerprint as a
``bytes`` object in a Python set: ~90 bytes a request, the largest thing a crawl keeps per URL once
it archives each page's requisites too (~2.5 requests a page). :class:`CompactDupeFilter` filters
the same requests by the same fingerprints (``REQUEST_FINGERPRINTER_CLASS``), keeping the first 8
bytes of each in a :class:`~archiver.runtime.compact.KeySet` (~8 bytes a request). Two different
requests share a key with a chance of about n² / 2⁶⁵: under one in ten million for a million
requests. With ``JOBDIR`` it reads and writes ``requests.seen`` exactly as Scrapy's filter does.
"""

from __future__ import annotations

from scrapy.dupefilters import RFPDupeFilter
from scrapy.http import Request
from scrapy.utils.request import RequestFingerprinterProtocol

from archiver.runtime.compact import KeySet, fingerprint_key

_SIZE_BYTES = 2  # requests.seen: each fingerprint after its big-endian 2-byte length (Scrapy's format)


class CompactDupeFilter(RFPDupeFilter):
    """:class:`~scrapy.dupefilters.RFPDupeFilter` in ~8 bytes a request (module docstring)."""

    def __init__(self, path: str | None = None, debug: bool = False, *,
                 fingerprinter: RequestFingerprinterProtocol | None = None) -> None:
        super().__init__(path, debug, fingerprinter=fingerprinter)
        loaded: set[bytes] = getattr(self, "_fingerprints", set())  # a JOBDIR's requests.seen
        self.keys = KeySet(fingerprint_key(fingerprint) for fingerprint in loaded)
        loaded.clear()

    def request_seen(self, request: Request) -> bool:
        fingerprint = self.fingerprinter.fingerprint(request)
        key = fingerprint_key(fingerprint)
        if key in self.keys:
            return True
        self.keys.add(key)
        if self.file:
            self.file.write(len(fingerprint).to_bytes(_SIZE_BYTES, "big") + fingerprint)
        return False
