"""A node told to stop (SIGTERM) under load loses no acknowledged ticket and exits 0.

Call-takers keep registering while the operating system (systemd, an operator's Ctrl-C) stops
the node: the node stops accepting calls, lets those under way finish, commits every job its
writer was given and answers its caller, closes its link, pools and database, and exits 0
within its grace period. After a restart every ticket a caller was told about is there.
"""

from __future__ import annotations

import random
import signal
import threading
import time
import uuid
from pathlib import Path

from core.officers import Role
from core.units import UnitLevel
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess
from node.devnet.samples import random_ticket
from node.edge.client import CallError
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message

OPERATOR = "620000-01"
CALLERS = 4
STOP_WITHIN = 20.0
"""Seconds the node has to exit after SIGTERM (its grace period is 5 s, plus a round)."""


def test_sigterm_under_load_loses_no_acknowledged_ticket_and_exits_0(
    tmp_path: Path, hierarchy: Hierarchy
) -> None:
    node = NodeProcess(
        "province",
        UnitLevel.PROVINCE,
        "620000",
        tmp_path / "province",
        unreachable_parent=True,
        hierarchy=hierarchy,
    )
    node.start()
    node.add_officer(OPERATOR, "王芳", (Role.OPERATOR,))
    acknowledged: list[str] = []
    refused: list[str] = []
    stop = threading.Event()

    def call_taker(seed: int) -> None:
        rng = random.Random(seed)
        with node.client(OPERATOR) as client:
            while not stop.is_set():
                ticket = to_message(random_ticket(rng), intake_pb2.NewTicket)
                try:
                    answer = client.register(uuid.uuid4().hex, ticket, timeout=10)
                except CallError as exc:
                    refused.append(exc.code)
                    if not node.running:
                        return
                    time.sleep(0.01)
                    continue
                acknowledged.append(answer.ticket_id)

    callers = [threading.Thread(target=call_taker, args=(n,)) for n in range(CALLERS)]
    for caller in callers:
        caller.start()
    while len(acknowledged) < 50:
        time.sleep(0.05)
    assert node.process is not None
    node.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = node.process.wait(STOP_WITHIN)
    stopped_in = time.monotonic() - started
    stop.set()
    for caller in callers:
        caller.join(30)

    assert code == 0, node.log_tail()
    assert stopped_in < STOP_WITHIN
    log = (node.data_dir / "node.log").read_text(encoding="utf-8")
    assert "Traceback" not in log and "Event loop is closed" not in log, node.log_tail(40)
    assert set(refused) <= {"UNAVAILABLE", "CANCELLED"}, set(refused)

    node.start()
    try:
        with node.client(OPERATOR) as client:
            held = {t.ticket_id for t in client.list_tickets()}
        missing = set(acknowledged) - held
        assert not missing, f"{len(missing)} acknowledged tickets lost"
        assert len(acknowledged) == len(set(acknowledged))
    finally:
        node.stop()
