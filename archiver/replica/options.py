"""The replica server's options (``archiver replica`` flags): page size, faults, bot walls, cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from archiver.replica import faults
from archiver.replica.cache import DEFAULT_CACHE_BYTES


@dataclass
class ServerOptions:
    page_size: int = 10
    crawl_delay: float = 2.0
    host_alias: bool = False
    #: ``--faults``: injected failures (see archiver/replica/faults.py)
    faults: faults.FaultSpec | None = None
    #: ``--hostile DIR``: hostile-input cases served at their own paths (tests/fixtures/hostile)
    hostile: Path | None = None
    #: ``--botwall KIND``: answer as that CDN refusing a crawler (archiver/replica/botwall.py)
    botwall: str = ""
    #: ``--botwall-after N``: the first N requests get through the wall
    botwall_after: int = 0
    #: ``--gone-mode``: how a removed article (``--gone``) answers: ``404``, ``410``, or ``redirect``
    #: (``301`` to its URL with ``dei`` in the slug, which answers 404, as the 2025 removals did)
    gone_mode: str = "404"
    #: bound of the cache of finished 200 answers (gzip bytes; 0: no cache; never with ``faults``)
    cache_bytes: int = DEFAULT_CACHE_BYTES
