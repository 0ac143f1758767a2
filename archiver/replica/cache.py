"""A bounded LRU of the replica's finished 200 answers, so the server is never a benchmark's bottleneck.

Rendering an article page (~2 ms) and gzipping it at level 6 (~3.5 ms) cost more than a bare
Scrapy client spends per page (~3 ms), so a benchmark against an uncached replica measures the
replica. The corpus is a pure function of the server's options, so the answer to ``(host, uri)``
never changes while the server runs (without ``--faults``: fault plans are stateful and are not
cached). Entries keep the gzip bytes only (a quarter of the page); a client that does not ask
for gzip gets them decompressed, which gives back the exact bytes the page was rendered as.
"""

from __future__ import annotations

import gzip
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.replica.reply import Reply

#: default bound of the cached gzip bytes (~8,000 article pages)
DEFAULT_CACHE_BYTES = 256 * 1024 * 1024
GZIP_LEVEL = 6


def gzip_body(body: bytes) -> bytes:
    """The replica's gzip encoding of a body (level 6, mtime 0: deterministic bytes)."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def etag_of(reply: Reply) -> bytes:
    """The ETag header value: a digest of ``etag_basis`` (articles) or of the body."""
    basis = reply.etag_basis.encode("utf-8") or reply.body
    return b'"' + hashlib.sha1(basis).hexdigest()[:16].encode("ascii") + b'"'


@dataclass(frozen=True)
class EncodedReply:
    """A 200 answer with its body, ETag and gzip encoding computed once."""

    reply: Reply  # ``body`` left empty in cached entries (see :meth:`body`)
    etag: bytes
    gzipped: bytes
    _body: bytes = b""

    @classmethod
    def of(cls, reply: Reply) -> EncodedReply:
        return cls(reply, etag_of(reply), gzip_body(reply.body), reply.body)

    def body(self) -> bytes:
        """The identity-encoded body (decompressed again when the entry was cached without it)."""
        return self._body if self._body or not self.gzipped else gzip.decompress(self.gzipped)

    def without_body(self) -> EncodedReply:
        return EncodedReply(replace(self.reply, body=b""), self.etag, self.gzipped)


class ReplyCache:
    """``(host, uri)`` → :class:`EncodedReply`, least recently used first out past ``max_bytes``."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, str], EncodedReply] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[str, str]) -> EncodedReply | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: tuple[str, str], entry: EncodedReply) -> None:
        stored = entry.without_body()
        cost = len(stored.gzipped)
        if cost > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.size -= len(old.gzipped)
        self._entries[key] = stored
        self.size += cost
        while self.size > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted.gzipped)
