"""A flood of oversized registrations leaves a real node's memory where it was.

Tried from outside before the limits: a flood of 3.9 MB unauthenticated registrations from
several threads took a node from 88 MB to over a gigabyte, which it never gave back. Here a
county node is started as a process of its own, bound beyond loopback as an office server
would be, and flooded from several threads first with 3.9 MB registrations (over the client
port's 1 MiB: gRPC refuses them) and then with 900 KB ones (under the port's limit, over a
registration's 128 KiB: the gate refuses them before parsing). Its resident memory is read
from ``/proc`` before and after; it must come back to within a few tens of megabytes, and the
node must still register a valid ticket.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from pathlib import Path

import grpc
import pytest

from core.officers import Role
from core.units import UnitLevel
from node.devnet.hierarchy import Hierarchy
from node.devnet.processes import NodeProcess
from node.devnet.samples import demo_tickets
from node.edge.channels import client_channel
from proto.hotline.v1 import intake_pb2
from sync.codec import to_message

COUNTY, OFFICER = "620102", "620102-07"
THREADS = 6
SECONDS = 5.0
GROWTH_ALLOWED_MB = 50
"""How far above its resting size the node may stay after the flood (it went up 800 MB)."""


def resident_mb(pid: int) -> float:
    """The process's resident memory (VmRSS) in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def flood(target: str, root: bytes, size: int, pid: int) -> tuple[collections.Counter[str], float]:
    """``THREADS`` threads sending registrations of ``size`` bytes over TLS, with no session
    token, for ``SECONDS``; the status codes answered, and the node's peak memory meanwhile."""
    request = intake_pb2.RegisterTicketRequest(request_id=uuid.uuid4().hex)
    request.ticket.consumer.address = "x" * size
    payload = request.SerializeToString()
    codes: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    end = time.monotonic() + SECONDS

    def sender() -> None:
        options = [("grpc.max_send_message_length", -1)]
        with client_channel(target, root, options=options) as channel:
            register = channel.unary_unary("/hotline.v1.IntakeService/RegisterTicket")
            while time.monotonic() < end:
                try:
                    register(payload, timeout=10)
                    code = "OK"
                except grpc.RpcError as error:
                    code = error.code().name  # type: ignore[attr-defined]
                with lock:
                    codes[code] += 1

    threads = [threading.Thread(target=sender) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    peak = 0.0
    while any(t.is_alive() for t in threads):
        peak = max(peak, resident_mb(pid))
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    return codes, peak


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_flood_of_oversized_registrations_leaves_the_node_s_memory_where_it_was(
    tmp_path: Path, hierarchy: Hierarchy
) -> None:
    node = NodeProcess(
        "county",
        UnitLevel.COUNTY,
        COUNTY,
        tmp_path / "county",
        unreachable_parent=True,
        hierarchy=hierarchy,
        extra_args=("--host", "0.0.0.0"),
    )
    node.start()
    try:
        assert node.process is not None
        pid = node.process.pid
        gym = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
        node.add_officer(OFFICER, "李强", (Role.HANDLER,))
        with node.client(OFFICER) as handler:
            handler.register(uuid.uuid4().hex, gym)
            root = handler.root
        time.sleep(1.0)
        before = resident_mb(pid)

        huge, peak_huge = flood(node.target, root, int(3.9 * 1024 * 1024), pid)
        large, peak_large = flood(node.target, root, 900 * 1024, pid)
        time.sleep(2.0)
        after = resident_mb(pid)
        print(
            f"node RSS: {before:.0f} MB before; {peak_huge:.0f} MB at the peak of "
            f"{sum(huge.values())} 3.9 MB calls ({dict(huge)}), {peak_large:.0f} MB at the peak "
            f"of {sum(large.values())} 900 KB calls ({dict(large)}); {after:.0f} MB after"
        )
        assert after - before < GROWTH_ALLOWED_MB, f"{before:.0f} MB -> {after:.0f} MB"
        assert set(huge) == {"RESOURCE_EXHAUSTED"} and sum(huge.values()) > 20
        assert set(large) == {"INVALID_ARGUMENT"} and sum(large.values()) > 50

        with node.client(OFFICER) as handler:
            assert handler.register(uuid.uuid4().hex, gym).ticket_id
        log = (tmp_path / "county" / "node.log").read_text(encoding="utf-8")
        warnings = [line for line in log.splitlines() if "WARNING: the client port" in line]
        assert len(warnings) == 1 and "0.0.0.0" in warnings[0] and "TLS" in warnings[0]
    finally:
        node.stop()
