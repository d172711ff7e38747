"""How much of the machine the surge had: its own processes' CPU against everyone else's.

Why this exists: a surge run here shares two cores with other jobs, and its latencies mean
little unless the report says how busy the machine was with other work at the time. The run
knows its own processes (the nodes it started, the Locust processes, itself), so the CPU the
machine spent beyond them during the load is the others' (``other_cpu_pct``, per cent of one
core, as ``hotline bench intake`` reports it). Linux only (``/proc``); elsewhere the figures
are zero.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

from loadtest.measuring import machine_cpu_seconds, process_cpu_seconds


def _own_cpu_seconds(node_pids: Iterable[int]) -> float:
    """CPU seconds used so far by the nodes, this process, and its children it waited for
    (the Locust processes, once they have ended)."""
    times = os.times()
    nodes = sum(process_cpu_seconds(pid) for pid in node_pids)
    return nodes + time.process_time() + times.children_user + times.children_system


@dataclass
class MachineShare:
    """CPU readings at the start of the load, to compare with its end."""

    node_pids: tuple[int, ...]
    own0: float = 0.0
    machine0: float = 0.0
    started: float = 0.0

    def start(self) -> None:
        """Read the counters as the load begins."""
        self.own0 = _own_cpu_seconds(self.node_pids)
        self.machine0 = machine_cpu_seconds()[0]
        self.started = time.monotonic()

    def figures(self) -> dict[str, float | None]:
        """Since ``start``: the run's CPU and the others' CPU, per cent of one core."""
        seconds = time.monotonic() - self.started
        own = _own_cpu_seconds(self.node_pids) - self.own0
        busy = machine_cpu_seconds()[0] - self.machine0
        if seconds <= 0 or busy <= 0:
            return {"run_cpu_pct": None, "other_cpu_pct": None}
        return {
            "run_cpu_pct": round(own / seconds * 100, 1),
            "other_cpu_pct": round(max(0.0, busy - own) / seconds * 100, 1),
        }
