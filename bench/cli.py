"""What every benchmark command line shares: option types that refuse nonsense up front, an output
file checked before the run, and SIGTERM handled like Ctrl-C.

A benchmark starts rag-api, the OTLP sink and other servers in sessions of their own (so Ctrl-C
in a terminal reaches only the benchmark, which then stops them in its `finally` blocks). A plain
SIGTERM (`timeout 60 python -m bench overhead`, a CI job cancelled) would end the benchmark
without those blocks and leave the servers running: `cleanup_on_sigterm()` turns it into the
same KeyboardInterrupt, and `run_main()` exits 143 (130 for Ctrl-C) with one line, no traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType


def _positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    noun = "a whole number" if kind is int else "a number"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not (math.isfinite(value) and value > 0):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {noun} > 0")
        return value

    parse.__name__ = f"positive {kind.__name__}"  # argparse names the type in some messages
    return parse


positive_int = _positive(int)
positive_float = _positive(float)


def output_file_problem(path: Path) -> str | None:
    """Why `path` cannot be written at the end of a run (checked before it starts), or None."""
    if path.is_dir():
        return "is a directory"
    parent = path.parent
    if not parent.is_dir():
        return f"directory {parent} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return "is not writable"
    return None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread: every `finally` and `with` runs, as for Ctrl-C."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the cleanup short
    raise Terminated


def cleanup_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, _terminate)


def run_main(main: Callable[[], object], prog: str) -> int:
    """`main()` with SIGTERM handled like Ctrl-C; 143 (SIGTERM) or 130 (Ctrl-C) when stopped,
    after the benchmark's processes were stopped."""
    cleanup_on_sigterm()
    try:
        result = main()
    except KeyboardInterrupt as exc:
        how = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
        print(f"{prog}: stopped by {how}; its processes were stopped", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    return result if isinstance(result, int) else 0
