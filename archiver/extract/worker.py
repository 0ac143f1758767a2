"""An extraction worker process: pages in on stdin, article items out on stdout (no Scrapy here).

``python -m archiver.extract.worker`` reads frames from stdin, each an 8-byte big-endian length and
a pickle of ``(job, url, body, headers, fetched_at)``, runs :func:`archiver.extract.extract_article`
and writes ``(job, ok, item-or-exception)`` the same way to stdout, until stdin closes. The crawl
starts it (archiver/extractpool.py) so that extraction runs on another core than the reactor;
both ends are this package, so pickle is the wire format. Anything the extractor might print goes
to stderr: stdout carries frames only.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from collections.abc import Mapping
from typing import IO, Any

from archiver.extract import extract_article

HEADER = struct.Struct("!Q")
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


def run_job(job: int, url: str, body: bytes, headers: Mapping[str, str],
            fetched_at: str) -> tuple[int, bool, Any]:
    """``(job, True, item)`` or ``(job, False, exception)``: the extractor's own result either way."""
    try:
        return job, True, extract_article(url, body, headers, fetched_at=fetched_at)
    except Exception as exc:  # handed back to the crawl, which reports it as the page's failure
        try:
            pickle.dumps(exc, protocol=PROTOCOL)
        except Exception:  # an exception that does not pickle still reports its type and message
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        return job, False, exc


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """Answer every frame of ``source`` on ``sink`` until ``source`` ends."""
    while True:
        request = read_frame(source)
        if request is None:
            return
        sink.write(encode_frame(run_job(*request)))
        sink.flush()


def main() -> None:
    sink = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print() must not corrupt the frames
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, sink)


if __name__ == "__main__":
    main()
