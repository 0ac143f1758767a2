from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from archiver.replica.process import RunningReplica, replica


@pytest.fixture(scope="session")
def replica300(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReplica]:
    """A 300-article replica (seed 7) with its ground truth, shared by the session."""
    truth_dir = tmp_path_factory.mktemp("replica300")
    with replica("--articles", "300", "--seed", "7", "--crawl-delay", "0",
                 truth_dir=truth_dir) as running:
        yield running


@pytest.fixture
def fresh_replica(tmp_path: Path) -> Iterator[Callable[..., RunningReplica]]:
    """Factory: start a replica with the given options, stopped at the end of the test."""
    with ExitStack() as stack:
        count = 0

        def start(*args: str, truth: bool = False) -> RunningReplica:
            nonlocal count
            count += 1
            truth_dir = tmp_path / f"replica{count}" if truth else None
            if truth_dir:
                truth_dir.mkdir()
            return stack.enter_context(replica(*args, truth_dir=truth_dir))

        yield start
