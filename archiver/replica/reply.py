"""What the replica server answers to one request, before transport concerns (gzip, chunking, 304s)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Reply:
    """What the server answers, before transport concerns (gzip, chunking, 304s)."""

    status: int = 200
    body: bytes = b""
    content_type: bytes = b"text/html; charset=utf-8"
    location: str = ""
    last_modified: datetime | None = None
    cookies: bool = False
    #: what the ETag is a digest of (default: the body); articles use their identity and
    #: revision so that the ETag does not change with the host name the page was asked for
    etag_basis: str = ""
    #: extra headers (e.g. ``Retry-After`` of a fault)
    headers: tuple[tuple[bytes, bytes], ...] = ()
