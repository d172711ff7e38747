"""The node under the intake benchmark: a province hub process, started, watched, cleaned up.

Why this exists: the intake figures are only honest if the node runs as in production, as its
own ``python -m node serve`` process (``node.devnet.processes``), and a benchmark that may be
stopped at any moment must never leave that process or its data folder behind. So the hub is
started here, checked after each phase (a hub that died mid-run makes the figures
meaningless), and stopped and removed at the end, on an error, on Ctrl-C and on SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from core.units import UnitLevel
from loadtest.harness import UNREACHABLE_PARENT, BenchError, now_ms
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess
from node.edge.client import CallError

HUB_UNIT = "620000"
"""The node under test: Gansu's province hub."""


def hub_hierarchy(root: Path) -> Hierarchy:
    """The certificate hierarchy the hub is enrolled under, kept under ``root``."""
    return Hierarchy.open(root / "pki", now_ms())


def hub_folder(root: Path) -> Path:
    """The hub's data folder under ``root`` (where a preload fills its store first)."""
    return root / "province"


def hub_process(root: Path, db_url: str = "") -> NodeProcess:
    """The province hub under test, not yet started: its data folder is under ``root``, its
    database there too (SQLite) or at ``db_url``."""
    return NodeProcess(
        name="province",
        level=UnitLevel.PROVINCE,
        unit=HUB_UNIT,
        data_dir=hub_folder(root),
        db_url=db_url,
        extra_args=("--parent", UNREACHABLE_PARENT),
        hierarchy=hub_hierarchy(root),  # enrols the hub (if not already)
    )


def start_hub(node: NodeProcess) -> None:
    """Start the hub and wait until it serves; a failure to start is a ``BenchError``."""
    try:
        node.start()
    except (RuntimeError, TimeoutError, CallError) as exc:
        raise BenchError(f"the hub did not start: {str(exc).splitlines()[0]}") from exc


def hub_alive(node: NodeProcess) -> None:
    """Raise ``BenchError`` if the hub's process has ended."""
    if node.process is not None and node.process.poll() is not None:
        raise BenchError(
            f"the hub (pid {node.process.pid}) died during the run, "
            f"exit status {node.process.returncode}"
        )


@contextmanager
def running_hub(
    root: Path, db_url: str = "", on_abandon: Callable[[], None] = lambda: None
) -> Iterator[NodeProcess]:
    """The hub, started, with its data under ``root`` (its database at ``db_url`` if given);
    stopped when the block ends.

    Inside the block Ctrl-C and SIGTERM stop the hub, remove ``root``, call ``on_abandon``
    (which drops a scratch database) and end the process.
    """
    node = hub_process(root, db_url)
    with cleanup_on_signals(node, root, on_abandon):
        try:
            start_hub(node)
            yield node
        finally:
            node.stop()


def _abandon(node: NodeProcess, root: Path, signum: int, also: Callable[[], None]) -> None:
    """Stop the hub, remove the folder and leave the process at once (from a signal handler).

    Only process-level calls here: the signal may have landed inside gRPC's own locks, where
    unwinding by an exception can leave the interpreter hanging at exit.
    """
    proc = node.process
    if proc is not None and proc.poll() is None:
        proc.terminate()
        deadline = time.monotonic() + 10.0
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
    shutil.rmtree(root, ignore_errors=True)
    try:
        also()
    except Exception as exc:  # the process ends anyway; say what was left behind
        print(f"hotline: bench intake: cleanup failed: {exc}", file=sys.stderr)
    name = signal.Signals(signum).name
    sys.stdout.flush()
    print(f"hotline: bench intake: interrupted ({name}); the hub was stopped", file=sys.stderr)
    sys.stderr.flush()
    os._exit(128 + signum)


@contextmanager
def cleanup_on_signals(
    node: NodeProcess, root: Path, also: Callable[[], None] = lambda: None
) -> Iterator[None]:
    """Inside the block, Ctrl-C (SIGINT) and SIGTERM stop the hub, remove ``root`` and call
    ``also``."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        _abandon(node, root, signum, also)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
