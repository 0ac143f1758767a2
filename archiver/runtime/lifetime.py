"""A child process that must not outlive the process that started it."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

#: prctl(2) option: the signal this process gets when its parent dies (Linux)
PR_SET_PDEATHSIG = 1


def end_with_parent(parent: int, number: int = signal.SIGKILL) -> None:
    """Get signal ``number`` when the process ``parent`` dies (Linux ``PR_SET_PDEATHSIG``; elsewhere
    nothing); exit at once if it is already gone (it died before the call took effect)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(number), 0, 0, 0) != 0:
        print(f"prctl(PR_SET_PDEATHSIG): {os.strerror(ctypes.get_errno())}", file=sys.stderr)
    if os.getppid() != parent:
        os._exit(0)
