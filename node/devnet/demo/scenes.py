"""Two scenes of ``hotline demo`` about replication that can be trusted.

* A station officer registers a walk-in complaint while the county is down; someone edits the
  stored record on the station's laptop; when the county is back it refuses the record (the
  signature no longer verifies) and raises an alert, and ``hotline audit`` of the laptop's
  database names the edited event. Restoring the untouched bytes lets it through.
* Qilihe county, offline while the centre keeps dispatching to it, comes back and catches up
  batch by batch while the demo shows its progress from ``hotline sync status``.
"""

from __future__ import annotations

import random
import threading
import time
import uuid

from cryptography import x509
from sqlalchemy import Engine, create_engine, select, update

from node.devnet.officers import system_admin_id
from node.devnet.processes import LocalNetwork
from node.devnet.samples import random_ticket
from node.edge.client import CallError, NodeClient
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync import schema
from sync.audit import AuditReport, audit_log, format_report, load_trust_store
from sync.codec import to_message

STATION_OFFICER = "620102001-03"
OPERATOR = "620000-01"


def say(text: str) -> None:
    """Print one line of the story at once."""
    print(text, flush=True)


def _wait(condition: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def tampered_record_is_refused(net: LocalNetwork) -> bool:
    """The tamper scene; True when the county refused the edited record and audit caught it."""
    station, county = net["station"], net["chengguan"]
    county.stop()
    with net.client("station", STATION_OFFICER) as officer:
        ticket = to_message(random_ticket(random.Random(3150)), intake_pb2.NewTicket)
        ticket_id = officer.register(uuid.uuid4().hex, ticket).ticket_id
    say(f"  the county is down; the station registers walk-in complaint {ticket_id} offline")
    engine = create_engine(f"sqlite:///{station.data_dir / 'node.db'}")
    events = schema.events
    try:
        with engine.begin() as conn:
            row = conn.execute(
                select(events.c.event_id, events.c.envelope).where(
                    events.c.ticket_id == ticket_id,
                    # the registration; a walk-in for another county is also forwarded (转办)
                    events.c.event_type == "hotline.v1.TicketRegistered",
                )
            ).one()
            original = bytes(row.envelope)
            forged = original.replace("马丽".encode(), "马力".encode())
            conn.execute(
                update(events).where(events.c.event_id == row.event_id).values(envelope=forged)
            )
        say("  someone edits that stored record on the laptop (the officer's name)")
        audit = _audit(engine, net.hierarchy.root.certificate if net.hierarchy else None)
        verdict = next((line for line in format_report(audit) if "FAILED" in line), "")
        say(f"  hotline audit of the laptop: {verdict or 'no problem found'}")
        county.start()
        with station.client(system_admin_id(station.unit)) as client:
            report = client.sync_now()
        with county.client(system_admin_id(county.unit)) as client:
            alerts = [a for a in client.alerts() if a.kind == "tampered-event"]
        refused = report.rejected > 0 and bool(alerts)
        if alerts:
            say(f"  the county refuses it and raises an alert: {alerts[0].detail}")
        with engine.begin() as conn:
            conn.execute(
                update(events).where(events.c.event_id == row.event_id).values(envelope=original)
            )
        with station.client(system_admin_id(station.unit)) as client:
            client.sync_now()
        with county.client("620102-07") as client:
            arrived = _wait(lambda: _holds(client, ticket_id))
        say(
            "  with the untouched bytes restored from backup, the record goes through"
            if arrived
            else "  the restored record did NOT arrive"
        )
    finally:
        engine.dispose()
    return refused and not audit.ok and arrived


def _audit(engine: Engine, root: x509.Certificate | None) -> AuditReport:
    """What ``hotline audit`` finds in the laptop's database, with the inspector's own root."""
    assert root is not None, "the demo's network has its hierarchy"
    with engine.connect() as conn, conn.begin():
        return audit_log(conn, load_trust_store(conn, root))


def _holds(client: NodeClient, ticket_id: str) -> bool:
    try:
        client.get(ticket_id)
    except CallError:
        return False
    return True


def dispatch_while_offline(net: LocalNetwork, count: int) -> int:
    """Register and route ``count`` routine tickets at the centre; returns how many went."""
    rng = random.Random(2026)
    with net.client("province", OPERATOR) as centre:
        for _ in range(count):
            ticket = to_message(random_ticket(rng), intake_pb2.NewTicket)
            ticket_id = centre.register(uuid.uuid4().hex, ticket).ticket_id
            centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
    return count


def catch_up_with_progress(
    net: LocalNetwork, name: str, parent: str, timeout: float = 60.0
) -> None:
    """Start node ``name`` again and show its catch-up as its parent's ``sync status`` sees it."""
    node = net[name]
    node.extra_args = (*node.extra_args, "--sync-batch", "10")  # small batches show progress
    unit = node.unit
    lines: list[str] = []
    done = threading.Event()

    def watch() -> None:
        with net[parent].client(system_admin_id(net[parent].unit)) as client:
            while not done.is_set():
                peers = [p for p in client.sync_status().peers if p.node_id.startswith(unit)]
                if peers:
                    waiting = peers[0].unpulled_events
                    bar = "#" * min(40, waiting // 5)
                    line = f"  {name} catching up: {waiting:4} events still to pull {bar}"
                    if not lines or lines[-1] != line:
                        lines.append(line)
                        say(line)
                    if lines and waiting == 0 and len(lines) > 1:
                        return
                time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    node.start()
    watcher.join(timeout)
    done.set()
    say(f"  {name} is back in line with {parent}")
