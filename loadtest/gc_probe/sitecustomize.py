"""Times every garbage collection in every Python process of a benchmark run.

Why this exists: a full collection holds the interpreter for as long as it walks the heap,
and every call in flight in that process waits; whether that happens in the node or in the
load generator is a question for numbers, not guesses (docs/benchmarks.md, issue 14). Put
this folder on ``PYTHONPATH`` and set ``HOTLINE_GC_PROBE_DIR``; Python imports this module at
start-up in each process (the bench's client and the hub it starts alike), and at exit each
writes ``gc-<pid>.json``: its command line and, per collection, the generation, the seconds on
the clock and the seconds of the thread's CPU it took (the clock includes waiting for a CPU on
a busy machine; the CPU does not). Without the variable it does nothing.

    HOTLINE_GC_PROBE_DIR=/tmp/gc PYTHONPATH=loadtest/gc_probe hotline bench intake
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

_FOLDER = os.environ.get("HOTLINE_GC_PROBE_DIR", "")
_started: list[float] = [0.0, 0.0]
_collections: list[tuple[int, float, float]] = []


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0], _started[1] = time.perf_counter(), time.thread_time()
    else:
        wall = time.perf_counter() - _started[0]
        cpu = time.thread_time() - _started[1]
        _collections.append((int(info["generation"]), wall, cpu))


def _write() -> None:
    record = {"argv": sys.argv[:4], "collections": _collections}
    path = Path(_FOLDER) / f"gc-{os.getpid()}.json"
    path.write_text(json.dumps(record), encoding="utf-8")


if _FOLDER:
    gc.callbacks.append(_timed)
    atexit.register(_write)
