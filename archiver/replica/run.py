"""Start the replica server, or dump its ground truth (``archiver replica``)."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from twisted.web.http import Request
from twisted.web.server import Site

from archiver.replica.corpus import Corpus, CorpusOptions, truth_record
from archiver.replica.server import ReplicaSite, ServerOptions

if TYPE_CHECKING:
    from archiver.replica.faults import TruthFaults

logger = logging.getLogger(__name__)


class _QuietSite(Site):
    """No access log: stdout belongs to the ``serving`` line."""

    def log(self, request: Request) -> None:
        pass


class PortInUseError(OSError):
    """The port asked for is taken."""


@dataclass
class ReplicaConfig:
    corpus: CorpusOptions
    server: ServerOptions
    host: str = "127.0.0.1"
    port: int = 0


def write_truth(corpus: Corpus, base_url: str, out: IO[str], faults: TruthFaults | None = None) -> int:
    """Write one truth record per article (newest first); return how many.

    With ``faults`` (``--faults``), each record gets a ``faults`` list: what meets the article.
    """
    count = 0
    for k in corpus.newest_first():
        record = truth_record(corpus.article(k), base_url)
        if faults is not None:
            record["faults"] = faults.of(k)
        out.write(json.dumps(record, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def dump_truth(corpus: Corpus, base_url: str, path: Path, faults: TruthFaults | None = None) -> int:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as out:
        count = write_truth(corpus, base_url, out, faults)
    tmp.replace(path)
    return count


def serve(config: ReplicaConfig, truth_path: Path | None = None) -> None:
    """Listen, print ``serving http://HOST:PORT/`` as the first stdout line, run until a signal."""
    from twisted.internet import reactor as _reactor
    from twisted.internet.error import CannotListenError

    corpus = Corpus(config.corpus)
    resource = ReplicaSite(corpus, config.server)
    site = _QuietSite(resource)
    reactor: Any = _reactor  # zope interfaces do not type-check as classes
    try:
        port = reactor.listenTCP(config.port, site, interface=config.host)
    except CannotListenError as exc:
        raise PortInUseError(f"cannot listen on {config.host}:{config.port}: {exc.socketError}") from exc
    base = f"http://{config.host}:{port.getHost().port}"
    if truth_path is not None:
        dump_truth(corpus, base, truth_path, resource.truth_faults())

    def announce() -> None:
        # only once the reactor runs are its SIGINT/SIGTERM handlers (clean stop) installed
        sys.stdout.write(f"serving {base}/\n")
        sys.stdout.flush()

    reactor.callWhenRunning(announce)
    reactor.run()
