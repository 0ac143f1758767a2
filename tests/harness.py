"""The shared test harness: run the archiver as a user does, and read back what it wrote.

- :func:`crawl` runs ``archiver crawl`` in a subprocess (fast settings: no AutoThrottle, no
  download delay), :func:`archiver` any other command;
- :func:`warc_records` / :func:`records` read every WARC record of a folder with warcio, digests
  checked; :func:`warcio_check` runs ``warcio check`` over files; :func:`jsonl` reads a JSON-lines file;
- :func:`free_port`, :func:`wait_for`, :func:`children` for the tests that start servers or watch a
  running crawl.

The replica itself is started by the fixtures in tests/conftest.py (``replica300``, ``fresh_replica``)
or ``archiver.replica.process.replica``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
#: crawl options for tests: as fast as the replica allows, no progress lines
FAST = [
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "--progress",
    "0",
]


def archiver(*args: str, timeout: float = 600, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    """``python -m archiver ARGS`` in a subprocess, output captured."""
    return subprocess.run([sys.executable, "-m", "archiver", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def crawl(out: Path, site: str, *args: str, timeout: float = 600, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    """``archiver crawl --site SITE --out OUT`` with :data:`FAST` and ``args``."""
    return archiver("crawl", "--site", site, "--out", str(out), *FAST, *args, timeout=timeout, env=env)


def warcio_check(paths: Iterable[Path], *, verbose: bool = True) -> subprocess.CompletedProcess[str]:
    """``warcio check`` (every digest verified) over WARC files, in one process."""
    return subprocess.run([str(VENV_BIN / "warcio"), "check", *(["-v"] if verbose else []), *map(str, paths)],
                          capture_output=True, text=True, timeout=300, check=False)


def warc_files(out: Path) -> list[Path]:
    """The finished WARC files of a crawl folder (``out/warc/*.warc.gz``), in name order."""
    return sorted((out / "warc").glob("*.warc.gz"))


def warc_records(paths: Iterable[Path]) -> Iterator[tuple[Path, ArchiveIterator, ArcWarcRecord]]:
    """Every record of the files, read with warcio (a wrong digest raises), with its file and iterator
    (for ``get_record_offset()``). A record's streams are read before the next one is yielded."""
    for path in paths:
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream, check_digests="raise")
            for record in iterator:
                yield path, iterator, record


def records(out: Path) -> list[dict[str, Any]]:
    """Every record of every WARC in ``out/warc`` (headers, offsets), read with warcio."""
    found = []
    for path, iterator, record in warc_records(warc_files(out)):
        headers = dict(record.rec_headers.headers)
        payload = record.raw_stream.read()  # the HTTP body as stored, not decoded
        found.append({
            "file": path.name,
            "offset": iterator.get_record_offset(),
            "length": iterator.get_record_length(),
            "type": record.rec_type,
            "uri": headers.get("WARC-Target-URI", ""),
            "headers": headers,
            "status": record.http_headers.get_statuscode() if record.http_headers else None,
            "payload": payload,
        })
    return found


def jsonl(path: Path, *, missing_ok: bool = False) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file (blank lines skipped); ``[]`` for a missing file if
    ``missing_ok``."""
    if missing_ok and not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux: read from /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def wait_for(condition: Callable[[], Any], timeout: float) -> Any:
    """Poll ``condition`` until it returns something true (returned); fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")
