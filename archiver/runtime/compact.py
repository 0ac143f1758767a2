"""Small keys for the sets a crawl keeps per article, so that a full-history crawl stays small.

A URL string costs ~150 bytes in a Python set, a 64-bit int ~60 and an article id held as an int
~32 (small ints are shared). The sets that remember what a crawl has seen (listing entries, article
ids) hold these keys instead (benchmarks/memory.py, docs/performance.md); the largest of them, the
duplicate filter's fingerprints and the requisites asked, are a :class:`KeySet` (~8 bytes a key).
Two different URLs share a 64-bit key with a chance of about n² / 2⁶⁵: under one in ten million for
a million URLs.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator


def url_key(url: str) -> int:
    """A 64-bit key of ``url`` (BLAKE2b: stable across processes, unlike ``hash()``)."""
    return int.from_bytes(hashlib.blake2b(url.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "big")


def id_key(article_id: str) -> int | str:
    """``article_id`` as an int when it is all ASCII digits without a leading zero (defense.gov's
    are), else as given: two different ids never share a key."""
    if article_id.isascii() and article_id.isdigit() and not (len(article_id) > 1 and article_id[0] == "0"):
        return int(article_id)
    return article_id


class KeySet:
    """A set of 64-bit keys (ints in ``0 <= key < 2**64``) in about 8 bytes each.

    A Python ``set`` of such ints takes ~60 bytes a key, which is what made a crawl's memory grow
    with its size (benchmarks/memory.py): the duplicate filter's fingerprints, the requisites asked.
    Here the keys live in one sorted ``array('Q')``, the latest ones in a small set that is merged
    into it once it holds ``buffer`` keys (the merge copies the array once, in C). ``key in`` is a
    binary search of the array (C) after a look in the small set.
    """

    def __init__(self, keys: Iterable[int] = (), buffer: int = 4096) -> None:
        if buffer < 1:
            raise ValueError("buffer must be at least 1")
        self._sorted = array("Q")
        self._recent: set[int] = set()
        self._buffer = buffer
        for key in keys:
            self.add(key)

    def __contains__(self, key: object) -> bool:
        if key in self._recent:
            return True
        if not isinstance(key, int) or not 0 <= key < 1 << 64:
            return False
        keys = self._sorted
        at = bisect_left(keys, key)
        return at < len(keys) and keys[at] == key

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def __iter__(self) -> Iterator[int]:
        self._merge()
        return iter(self._sorted)

    def add(self, key: int) -> None:
        if not 0 <= key < 1 << 64:
            raise ValueError(f"not a 64-bit key: {key}")
        if key in self:
            return
        self._recent.add(key)
        if len(self._recent) >= self._buffer:
            self._merge()

    def update(self, keys: Iterable[int]) -> None:
        for key in keys:
            self.add(key)

    def _merge(self) -> None:
        if not self._recent:
            return
        old, merged, start = self._sorted, array("Q"), 0
        for key in sorted(self._recent):
            at = bisect_left(old, key, start)
            merged.extend(old[start:at])
            merged.append(key)
            start = at
        merged.extend(old[start:])
        self._sorted, self._recent = merged, set()


def fingerprint_key(fingerprint: bytes) -> int:
    """A request fingerprint (Scrapy's 20-byte SHA-1) as a 64-bit key: its first 8 bytes."""
    return int.from_bytes(fingerprint[:8], "big")
