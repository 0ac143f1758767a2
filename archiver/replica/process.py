"""Start the replica server in a subprocess on a free port (demo, tests, benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunningReplica:
    base: str  # "http://127.0.0.1:PORT" (no trailing slash)
    process: subprocess.Popen[str]
    truth_path: Path | None = None
    _truth: list[dict] | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def truth(self) -> list[dict]:
        """Ground-truth records (newest first), as written by ``--dump-truth``."""
        if self._truth is None:
            assert self.truth_path is not None, "start the replica with truth=True"
            with self.truth_path.open(encoding="utf-8") as fh:
                self._truth = [json.loads(line) for line in fh]
        return self._truth


@contextmanager
def replica(*args: str, truth_dir: Path | None = None, timeout: float = 60) -> Iterator[RunningReplica]:
    """Run ``archiver replica --port 0 ARGS``; yield once it prints its ``serving`` line."""
    # --parent: a replica never outlives this process (a kill -9 of the demo or of a test run)
    cmd = [sys.executable, "-m", "archiver", "replica", "--port", "0", "--parent", str(os.getpid()), *args]
    truth_path = None
    if truth_dir is not None:
        truth_path = truth_dir / "truth.jsonl"
        cmd += ["--dump-truth", str(truth_path)]
    # stderr to a file: a pipe nobody reads could fill up and block the server
    with tempfile.TemporaryFile(mode="w+") as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("serving http://127.0.0.1:"):
                proc.kill()
                proc.wait(timeout=timeout)
                errors.seek(0)
                raise RuntimeError(f"replica did not start: {line!r} {errors.read()[-2000:]}")
            yield RunningReplica(line.split()[1].rstrip("/"), proc, truth_path)
        finally:
            stop_process(proc)


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Terminate ``proc`` (a local server), then kill it if it has not exited within 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
