"""Small keys for the sets a crawl keeps per article, so that a full-history crawl stays small.

A URL string costs ~150 bytes in a Python set, a 64-bit int ~60 and an article id held as an int
~32 (small ints are shared). The sets that remember what a crawl has seen (listing entries, article
ids) hold these keys instead (benchmarks/memory.py, docs/performance.md). Two different URLs share
a 64-bit key with a chance of about n² / 2⁶⁵: under one in ten million for a million URLs.
"""

from __future__ import annotations

import hashlib


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
