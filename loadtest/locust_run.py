"""Running Locust for a surge: headless alone, or as a master with worker processes.

Why this exists: one Locust process is one core, and a surge that must reach thousands of
users needs several; Locust's answer is a master that runs the shape and gathers the
statistics, and workers that run the users (``--master``, ``--worker``, ``--expect-workers``,
as Locust documents it). ``hotline loadtest surge --workers N`` runs that here: a master bound
to a free loopback port and N worker processes on this machine, which is also how the command
for several machines (docs/loadtest.md) is tried before a 3·15. Both ways Locust gets the
surge's settings from the environment (``HOTLINE_LOADTEST_NETWORK``, ``HOTLINE_SURGE_*``),
so a worker started by hand on another machine runs the same users and shape.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

LOCUSTFILE = Path(__file__).with_name("locust_users.py")
WORKER_STOP_SECONDS = 30.0
"""How long a worker has to leave after the master is done (the master tells it to quit)."""


def locust_environment(
    network_file: Path, shape: str, users: int, minutes: float
) -> dict[str, str]:
    """The environment every Locust process of the run gets: where the network is, the shape."""
    env = dict(os.environ)
    env.update(
        HOTLINE_LOADTEST_NETWORK=str(network_file),
        HOTLINE_SURGE_SHAPE=shape,
        HOTLINE_SURGE_USERS=str(users),
        HOTLINE_SURGE_MINUTES=str(minutes),
    )
    return env


def free_loopback_port() -> int:
    """A port on 127.0.0.1 nobody listens on now (the master binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def locust_commands(
    csv_prefix: Path, html: Path, extra: tuple[str, ...], workers: int, master_port: int
) -> tuple[list[str], list[list[str]]]:
    """The master's (or the lone process's) command, and each worker's."""
    lead = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--csv", str(csv_prefix), "--html", str(html),
    ]  # fmt: skip
    if workers == 0:
        return [*lead, *extra], []
    lead += [
        "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port),
        "--expect-workers", str(workers),
    ]  # fmt: skip
    worker = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
        "--master-host", "127.0.0.1", "--master-port", str(master_port),
    ]  # fmt: skip
    return [*lead, *extra], [list(worker) for _ in range(workers)]


def run_locust(
    env: dict[str, str],
    csv_prefix: Path,
    html: Path,
    extra: tuple[str, ...] = (),
    workers: int = 0,
) -> int:
    """Run Locust headless (with ``workers`` > 0: a master and that many workers on
    loopback) until the shape ends; its exit status (the master's). Its reports are written
    under ``csv_prefix`` and to ``html``; its output goes to standard error."""
    lead, worker_commands = locust_commands(csv_prefix, html, extra, workers, free_loopback_port())
    master = subprocess.Popen(lead, env=env, stdout=sys.stderr)
    started = [subprocess.Popen(c, env=env, stdout=sys.stderr) for c in worker_commands]
    try:
        status = master.wait()
    finally:
        if master.poll() is None:
            master.terminate()
            master.wait()
        for process in started:
            try:
                process.wait(timeout=WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait()
    return status
