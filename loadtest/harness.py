"""What every ``hotline bench`` run stands on: its folder, its offline nodes, its last line.

Why this exists: the three benchmarks (intake, sync, sweep) each need a scratch folder that is
gone afterwards, nodes whose parent never answers (so replication backs off and costs
nothing), a note of the machine the figures came from, and one JSON object as the last line
of their output for scripts. Written once here, the benchmark modules say only what they
measure. Nodes in this process come from the wiring function (``node.app.wiring.build_node``)
and the level's profile (``node.app.levels.profile_of``), exactly as ``hotline serve`` makes
them; node processes come from ``node.devnet``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.units import UnitLevel, level_of
from node.app.clock import Clock
from node.app.levels import profile_of
from node.app.runtime import Node
from node.app.settings import NodeSettings
from node.app.wiring import build_node
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess

UNREACHABLE_PARENT = "127.0.0.1:9"
"""The discard port: nothing listens, so a node's replication just fails and backs off."""


class BenchError(Exception):
    """The benchmark could not be run or gave an invalid result; the message is one line."""


def now_ms() -> int:
    """Real time in epoch milliseconds (what certificates of a fresh hierarchy are dated)."""
    return int(time.time() * 1000)


def say(text: str) -> None:
    """Print a line of the run's progress at once (a run takes minutes; buffering hides it)."""
    print(text, flush=True)


def last_line(fields: dict[str, Any]) -> None:
    """Print the run's result as one JSON object: the last line of the output, for scripts."""
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def machine() -> str:
    """The machine the figures came from, as the JSON lines record it (``x86_64 2 cores``)."""
    return f"{platform.machine()} {os.cpu_count()} cores"


def python_version() -> str:
    """The Python the node and the client ran on (``3.11.7``)."""
    return platform.python_version()


@contextmanager
def scratch_folder(benchmark: str) -> Iterator[Path]:
    """A temporary folder for one run of ``benchmark``, removed when the block ends.

    Removed on an error or Ctrl-C too; a benchmark that stops on a signal removes it itself
    (``loadtest.hub``).
    """
    root = Path(tempfile.mkdtemp(prefix=f"hotline-bench-{benchmark}-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def offline_node(
    folder: Path, hierarchy: Hierarchy, unit: str, *, db: str = "", clock: Clock | None = None
) -> Iterator[Node]:
    """A node of ``unit`` in this process, enrolled under ``hierarchy``, its parent unreachable.

    Only its log writer runs: no server, no scheduler, no replication. A benchmark calls its
    desks and jobs directly, so what it times is the work, not the RPC stack (``db``: a
    database URL, empty for SQLite in ``folder``; ``clock``: a fake the benchmark moves). When
    the block ends the writer commits what it was given, then the pools and database close.
    """
    hierarchy.enrol(folder, unit, now_ms())
    level = level_of(unit)
    settings = NodeSettings(
        level=level, unit=unit, data_dir=folder, db=db, parent=UNREACHABLE_PARENT
    )
    node = build_node(settings, profile_of(level), clock=clock)
    node.writer.start()
    try:
        yield node
    finally:
        node.writer.stop()
        node.verifier.close()
        node.blocking.close()
        node.db.close()


def receiving_city(
    folder: Path, hierarchy: Hierarchy, unit: str, *, extra_args: tuple[str, ...] = ()
) -> NodeProcess:
    """The city node process that takes in what the counties of a bench push (sync, storm).

    Its own parent never answers and it tries only once an hour, so nothing it does upward
    competes with what the benchmark measures: its taking in from below. Not started yet.
    """
    return NodeProcess(
        "city",
        UnitLevel.CITY,
        unit,
        folder,
        hierarchy=hierarchy,
        parent_address=UNREACHABLE_PARENT,
        sync_interval=3600,
        extra_args=extra_args,
    )
