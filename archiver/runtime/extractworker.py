"""An extraction worker process: pages in on stdin, article items out on stdout.

``python -m archiver.runtime.extractworker [--prepare]`` reads frames from stdin, each an 8-byte
big-endian length and a pickle of ``(job, task, *args)``: ``("article", url, body, headers,
fetched_at[, warc[, requisites]])`` runs :func:`archiver.extract.extract_article` (and, with
``requisites`` true, :func:`archiver.requisites.scan.page_requisites` of the same page, into
``item.requisites``: the scan is then off the reactor thread too), ``("listing", url, body,
hosts)`` :func:`archiver.extract.listing.read_listing`; it writes ``(job, ok, result-or-exception)`` the
same way to stdout, until stdin closes. The crawl starts it (runtime/extractpool.py) so that extraction
runs on another core than the reactor; both ends are this package, so pickle is the wire format.
Anything the extractor might print goes to stderr: stdout carries frames only.

With ``--prepare``, the first frame is a :class:`PrepareConfig` (the crawl's cleaning pipelines,
its ``ARCHIVER_*`` settings and date range: on stdin, not the command line, which any local user
can read), and an article within the date range also goes through those pipelines here
(:meth:`pipelines.chain.PipelineChain.prepare`): the item comes back cleaned, with the stats
the pipelines counted and the exception of one that dropped it (``item.prepared``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import IO, Any

from archiver.extract import extract_article
from archiver.extract.dates import in_range, parse_date
from archiver.extract.listing import ListingPage, read_listing
from archiver.items import ArticleItem
from archiver.requisites.scan import page_requisites
from archiver.runtime.lifetime import end_with_parent
from pipelines.chain import PipelineChain

HEADER = struct.Struct("!Q")
#: the job number of the frame a worker started with ``--ready`` writes before any other:
#: ``(READY_JOB, True, None)``, once it has imported everything and read its configuration
READY_JOB = -1
#: pickle protocol of the frames (5: large bytes without an extra copy)
PROTOCOL = 5


def encode_frame(value: object) -> bytes:
    """``value`` pickled, with its length in front."""
    data = pickle.dumps(value, protocol=PROTOCOL)
    return HEADER.pack(len(data)) + data


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame's value, or ``None`` at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)  # frames come from the crawl process that started this one


@dataclass(frozen=True)
class PrepareConfig:
    """What a worker needs to run the crawl's cleaning pipelines as the crawl would."""

    #: class path → priority: the pipelines to run (the crawl's, up to its first order-dependent one)
    pipelines: dict[str, int] = field(default_factory=dict)
    #: the crawl's settings with plain values (what the pipelines' ``from_crawler`` read)
    settings: dict[str, Any] = field(default_factory=dict)
    #: the spider's date range (ISO dates): an article outside it is dropped by the spider, unprepared
    since: str | None = None
    until: str | None = None

    def frame(self) -> bytes:
        """The first frame of a ``--prepare`` worker."""
        return encode_frame(asdict(self))


class Worker:
    """The tasks a worker runs, one page at a time: ``article`` (extraction and, configured, the
    cleaning pipelines) and ``listing`` (a listing page's article links and next page)."""

    def __init__(self, config: PrepareConfig | None = None) -> None:
        self.chain = PipelineChain.build(config.settings, order=config.pipelines) if config else None
        self.since = _date(config.since) if config else None
        self.until = _date(config.until) if config else None
        self.tasks: dict[str, Callable[..., Any]] = {"article": self.article, "listing": self.listing}

    def article(self, url: str, body: bytes, headers: Mapping[str, str], fetched_at: str,
                warc: dict[str, Any] | None = None, requisites: bool = False) -> ArticleItem | None:
        item = extract_article(url, body, headers, fetched_at=fetched_at)
        if item is not None and requisites:
            item.requisites = tuple((found.url, found.kind) for found in page_requisites(body, url))
        if item is not None and self.chain is not None:
            item.warc = warc
            if in_range(parse_date(item.published), self.since, self.until):
                self.chain.prepare(item)
        return item

    @staticmethod
    def listing(url: str, body: bytes, hosts: tuple[str, ...]) -> ListingPage:
        return read_listing(body, url, hosts)

    def run_job(self, job: int, task: str, *args: Any) -> tuple[int, bool, Any]:
        """``(job, True, result)`` or ``(job, False, exception)``: the task's own outcome either way."""
        try:
            return job, True, self.tasks[task](*args)
        except Exception as exc:  # handed back to the crawl, which reports it as the page's failure
            return job, False, exc

    def answer(self, request: tuple[Any, ...]) -> bytes:
        """The frame answering one request frame's value."""
        job, ok, value = self.run_job(*request)
        try:
            return encode_frame((job, ok, value))
        except Exception as exc:  # what does not pickle (an exception) still reports type and message
            prepared = getattr(value, "prepared", None) if ok else None
            reason = value if not ok else (prepared.dropped if prepared and prepared.dropped else exc)
            return encode_frame((job, False, RuntimeError(f"{type(reason).__name__}: {reason}")))


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def serve(source: IO[bytes], sink: IO[bytes], config: PrepareConfig | None = None,
          ready: bool = False) -> None:
    """Answer every frame of ``source`` on ``sink`` until ``source`` ends (first, with ``ready``,
    the frame saying the worker has started)."""
    worker = Worker(config)
    if ready:
        sink.write(encode_frame((READY_JOB, True, None)))
        sink.flush()
    while True:
        request = read_frame(source)
        if request is None:
            return
        sink.write(worker.answer(request))
        sink.flush()


def import_scrapy_exceptions_alone() -> None:
    """Import ``scrapy.exceptions`` without running the ``scrapy`` package's ``__init__``.

    The cleaning pipelines only raise Scrapy's exceptions (``DropItem``, ``NotConfigured``); those
    reach the crawl process by name (pickle), where they are Scrapy's own classes. The package's
    ``__init__`` imports all of Scrapy (Twisted, the HTTP stack, spiders: ~400 modules, ~37 MB a
    worker) for nothing here: with two workers that alone broke the crawl's 250 MB memory target
    (docs/performance.md). Other ``scrapy.*`` submodules still import; ``from scrapy import X``
    does not (nothing the workers run does that: tests/test_extractpool.py runs them).
    """
    if "scrapy" in sys.modules:
        return
    spec = importlib.util.find_spec("scrapy")
    if spec is None or spec.submodule_search_locations is None:
        return  # not installed: importing a pipeline will say so
    sys.modules["scrapy"] = importlib.util.module_from_spec(spec)  # the package, its __init__ not run
    importlib.import_module("scrapy.exceptions")


def die_with_parent(parent: int | None) -> None:
    """Live exactly as long as the crawl process ``parent``.

    Stop signals are the crawl's to handle: a Ctrl-C or a ``kill`` of the process group reaches
    the workers too, and a worker that died of it would fail the pages it holds while the crawl
    stops gracefully; the crawl closes the workers' stdin when it is done with them (they exit at
    its end). If the crawl itself dies (a second SIGTERM, ``kill -9``), Linux kills the worker
    (``PR_SET_PDEATHSIG``): it must not go on parsing at full CPU with nobody to answer. Elsewhere
    the worker exits when it next reads its stdin, which then ends.
    """
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    if parent is not None:
        end_with_parent(parent, signal.SIGKILL)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m archiver.runtime.extractworker", description=__doc__)
    parser.add_argument("--prepare", action="store_true",
                        help="the first frame is a PrepareConfig: also run those cleaning pipelines")
    parser.add_argument("--ready", action="store_true",
                        help=f"first write the frame ({READY_JOB}, True, None) once started")
    parser.add_argument("--parent", type=int, metavar="PID",
                        help="the crawl process: the worker dies with it and ignores SIGTERM/SIGINT")
    args = parser.parse_args(argv)
    if args.parent is not None:
        die_with_parent(args.parent)
    config = None
    if args.prepare:
        import_scrapy_exceptions_alone()
        values = read_frame(sys.stdin.buffer)
        if not isinstance(values, dict):
            parser.error("--prepare: the first frame must be a PrepareConfig")
        config = PrepareConfig(**values)
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the frames
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, sink, config, ready=args.ready)


if __name__ == "__main__":
    main()
