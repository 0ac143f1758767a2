"""A local pywb serving WARC files: the stand-in for the Wayback Machine (demo, tests).

pywb is a test dependency, installed in the project's venv or in a tool venv of its own
(``.venv/tools/pywb/bin/``, looked at first); :func:`pywb_tool` finds its commands.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from archiver.replica.process import stop_process


def pywb_tool(name: str) -> Path:
    """The path of a pywb command (``wayback``, ``wb-manager``): the tool venv
    ``<venv>/tools/pywb/bin/`` first, then the venv running this Python, then ``PATH``."""
    venv_bin = Path(sys.executable).parent
    for candidate in (venv_bin.parent / "tools" / "pywb" / "bin" / name, venv_bin / name):
        if candidate.exists():
            return candidate
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"pywb's {name} command not found (install the test extras: make setup)")
    return Path(found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_collection(root: Path, name: str, warcs: Sequence[Path]) -> None:
    """``wb-manager init NAME`` and ``wb-manager add NAME WARC...`` in ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    manager = str(pywb_tool("wb-manager"))
    if not (root / "collections" / name).exists():
        subprocess.run([manager, "init", name], cwd=root, check=True, capture_output=True)
    if warcs:
        subprocess.run([manager, "add", name, *map(str, warcs)], cwd=root, check=True, capture_output=True)


@contextmanager
def serving(root: Path, timeout: float = 60) -> Iterator[str]:
    """Run ``wayback`` on a free port of 127.0.0.1 over ``root``'s collections; yield its base URL."""
    with wayback_process(root, timeout) as (base, _proc):
        yield base


@contextmanager
def wayback_process(root: Path, timeout: float = 60) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """:func:`serving`, also yielding the ``wayback`` process (for measuring its CPU)."""
    port = free_port()
    log = (root / "wayback.log").open("w")
    proc = subprocess.Popen([str(pywb_tool("wayback")), "-p", str(port), "-b", "127.0.0.1"], cwd=root,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=5):
                    break
            except (urllib.error.URLError, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pywb did not start; see {root / 'wayback.log'}") from None
                time.sleep(0.2)
        yield base, proc
    finally:
        stop_process(proc)
        log.close()
