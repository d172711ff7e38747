"""Three processes of one province hub on one PostgreSQL database, behind one address.

DESIGN rule 8 promises that several hub processes can serve one PostgreSQL database. Here a
province hub is started three times on one data folder and one fresh database (docs/scaling.md,
"Running several processes"); officers sign in and work through one client target naming all
three (``ipv4:A,B,C``, spread round-robin), from several threads at once, while every process
also runs its deadline sweeps every half second. Afterwards the database alone must show one
intact chain of the node's own events (sequence 1..N without a gap, every hash and signature
right: the audit ``hotline audit`` runs), every acknowledged registration and routing present
exactly once, every ticket's view row equal to a fresh fold of its events, and one intact access
record although three processes appended to it.
"""

from __future__ import annotations

import json
import random
import threading
import urllib.request
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import select

from core.officers import Role
from core.regions import standard_units
from core.units import UnitLevel
from node.access.record_audit import audit_record
from node.devnet.hierarchy import Hierarchy
from node.devnet.officers import SignIns
from node.devnet.processes import NodeProcess
from node.devnet.samples import random_ticket
from node.storage.database import Database
from node.views.tickets import TicketProjection
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync import schema
from sync.audit.audits import audit_log, load_trust_store
from sync.codec import to_message
from tests.helpers.databases import PostgresDatabases

PROVINCE = "620000"
CENTRE = "620000-01"
"""王芳, operator and dispatcher at the province's command centre."""
PROCESSES = 3
CLIENTS = 6
TICKETS_EACH = 12


def registrations_served(metrics_port: int) -> int:
    """How many registrations one process answered OK, from its Prometheus endpoint."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode("utf-8")
    served = 0.0
    for line in text.splitlines():
        counted = line.startswith("hotline_rpc_requests_total{")
        if counted and 'method="RegisterTicket"' in line and 'code="OK"' in line:
            served += float(line.rsplit(" ", 1)[1])
    return int(served)


def start_processes(tmp_path: Path, db_url: str) -> tuple[list[NodeProcess], list[int]]:
    """The province hub started ``PROCESSES`` times on one folder and one database (the first
    enrols and provisions it, the others find it so); each process's metrics port."""
    folder = tmp_path / "province"
    common = dict(
        level=UnitLevel.PROVINCE,
        unit=PROVINCE,
        data_dir=folder,
        unreachable_parent=True,
        db_url=db_url,
        extra_args=("--sweep-interval", "0.5", "--metrics-port", "0"),
    )
    first = NodeProcess(
        name="province-1", hierarchy=Hierarchy.throwaway(tmp_path / "pki"), **common
    )  # type: ignore[arg-type]
    processes, metrics_ports = [first], []
    first.start()
    metrics_ports.append(json.loads((folder / "port").read_text())["metrics_port"])
    first.add_officer(CENTRE, "王芳", (Role.OPERATOR, Role.DISPATCHER))
    assert first.signins is not None
    for number in range(2, PROCESSES + 1):
        other = first.sibling(f"province-{number}")
        other.start()
        metrics_ports.append(json.loads((folder / "port").read_text())["metrics_port"])
        processes.append(other)
    return processes, metrics_ports


def work(signins: SignIns, seed: int, done: list[tuple[str, str]], errors: list[str]) -> None:
    """One client: register and route ``TICKETS_EACH`` tickets through the one address,
    keeping what the hub acknowledged (request id, ticket id)."""
    rng = random.Random(seed)
    try:
        with signins.client(CENTRE) as centre:
            for _ in range(TICKETS_EACH):
                request_id = uuid.uuid4().hex
                ticket = to_message(random_ticket(rng), intake_pb2.NewTicket)
                ticket_id = centre.register(request_id, ticket).ticket_id
                centre.step("RouteTicket", cw.RouteTicketRequest(ticket_id=ticket_id))
                done.append((request_id, ticket_id))
    except Exception as exc:  # the test reports every client's failure, not only the first
        errors.append(f"client {seed}: {exc!r}")


@pytest.mark.postgres
def test_three_hub_processes_on_one_database_keep_one_chain_and_every_ticket_once(
    postgres: PostgresDatabases, tmp_path: Path
) -> None:
    db_url = postgres.new()
    processes, metrics_ports = start_processes(tmp_path, db_url)
    try:
        first = processes[0]
        assert first.signins is not None
        one_address = "ipv4:" + ",".join(p.target for p in processes)
        shared = replace(first.signins, target=one_address, _tokens={}, _lock=threading.Lock())
        done: list[tuple[str, str]] = []
        errors: list[str] = []
        clients = [
            threading.Thread(target=work, args=(shared, seed, done, errors))
            for seed in range(CLIENTS)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=300)
        assert errors == []
        assert len(done) == CLIENTS * TICKETS_EACH
        served = [registrations_served(port) for port in metrics_ports]
        assert sum(served) == len(done)
        assert all(n > 0 for n in served), f"registrations per process: {served}"
        for process in processes:
            assert process.running, process.log_tail()
    finally:
        for process in reversed(processes):
            process.stop()
    check_database(db_url, first.node_id, done, first.signins.root)


def check_database(db_url: str, node_id: str, done: list[tuple[str, str]], root: bytes) -> None:
    """What the database alone shows after the run (the module docstring's checks)."""
    acknowledged = [ticket_id for _, ticket_id in done]
    assert len(set(acknowledged)) == len(acknowledged), "one ticket id answered for two calls"
    db = Database.open(db_url, run_migrations=False)
    try:
        with db.read() as conn:
            own = conn.execute(
                select(schema.events.c.origin_seq, schema.events.c.ticket_id)
                .where(schema.events.c.origin_node == node_id)
                .order_by(schema.events.c.origin_seq)
            ).all()
            seqs = [row.origin_seq for row in own]
            assert seqs == list(range(1, len(seqs) + 1)), "a gap or a repeat in the own chain"
            head = conn.execute(
                select(schema.origin_heads.c.seq).where(
                    schema.origin_heads.c.origin_node == node_id
                )
            ).scalar_one()
            assert head == len(seqs)
            trust = load_trust_store(conn, x509.load_pem_x509_certificate(root))
            report = audit_log(conn, trust)
            assert report.ok, [p.to_dict() for p in report.problems]
            assert report.events_checked >= 2 * len(acknowledged)
            # Every acknowledged ticket: registered once and routed once, by this node.
            kinds = Counter(
                (row.ticket_id, row.event_type)
                for row in conn.execute(
                    select(schema.events.c.ticket_id, schema.events.c.event_type).where(
                        schema.events.c.origin_node == node_id
                    )
                )
            )
            for ticket_id in acknowledged:
                assert kinds[(ticket_id, "hotline.v1.TicketRegistered")] == 1, ticket_id
                assert kinds[(ticket_id, "hotline.v1.TicketRouted")] == 1, ticket_id
            projection = TicketProjection(standard_units().get(PROVINCE))
            assert projection.differences(conn) == []
            listed = conn.execute(select(schema.events.c.ticket_id).distinct()).scalars().all()
            assert set(acknowledged) <= set(listed)
            access = audit_record(conn, trust, [])
            assert access.ok, access.problems
            assert access.rows > 0
    finally:
        db.close()
