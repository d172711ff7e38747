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

import random
import threading
import urllib.request
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from sqlalchemy import Connection, select

from core.officers import Role
from core.regions import standard_units
from core.units import UnitLevel
from loadtest.hub_scale import metrics_port
from node.access.record_audit import audit_record
from node.devnet.hierarchy import Hierarchy
from node.devnet.officers import SignIns
from node.devnet.processes import NodeProcess
from node.devnet.samples import random_ticket
from node.storage.database import Database
from node.storage.tables import tickets
from node.views.tickets import TicketProjection
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2
from sync import schema
from sync.audit.audits import audit_log, load_trust_store
from sync.codec import to_message
from sync.trust import TrustStore
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


def start_processes(
    tmp_path: Path, db_url: str, count: int = PROCESSES, parent: NodeProcess | None = None
) -> tuple[list[NodeProcess], list[int]]:
    """The province hub started ``count`` times on one folder and one database (the first
    enrols and provisions it, the others find it so), under ``parent`` if given (else an
    unreachable one); each process's metrics port."""
    first = NodeProcess(
        name="province-1",
        level=UnitLevel.PROVINCE,
        unit=PROVINCE,
        data_dir=tmp_path / "province",
        parent=parent,
        unreachable_parent=parent is None,
        db_url=db_url,
        extra_args=("--sweep-interval", "0.5", "--metrics-port", "0"),
        hierarchy=parent.hierarchy if parent else Hierarchy.throwaway(tmp_path / "pki"),
        sync_interval=0.3,
    )
    processes, metrics_ports = [first], []
    first.start()
    metrics_ports.append(metrics_port(first))
    first.add_officer(CENTRE, "王芳", (Role.OPERATOR, Role.DISPATCHER))
    assert first.signins is not None
    for number in range(2, count + 1):
        other = first.sibling(f"province-{number}")
        other.start()
        metrics_ports.append(metrics_port(first))
        processes.append(other)
    return processes, metrics_ports


def run_clients(processes: list[NodeProcess], count: int) -> list[tuple[str, str]]:
    """``count`` clients working at once through one address naming every process; what the
    hub acknowledged. Every client must have finished without an error."""
    assert processes[0].signins is not None
    one_address = "ipv4:" + ",".join(p.target for p in processes)
    shared = replace(processes[0].signins, target=one_address, _tokens={}, _lock=threading.Lock())
    done: list[tuple[str, str]] = []
    errors: list[str] = []
    clients = [
        threading.Thread(target=work, args=(shared, seed, done, errors)) for seed in range(count)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=300)
    assert errors == []
    assert len(done) == count * TICKETS_EACH
    return done


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
        done = run_clients(processes, CLIENTS)
        served = [registrations_served(port) for port in metrics_ports]
        assert sum(served) == len(done)
        assert all(n > 0 for n in served), f"registrations per process: {served}"
        for process in processes:
            assert process.running, process.log_tail()
    finally:
        for process in reversed(processes):
            process.stop()
    check_database(db_url, first.node_id, done, first.signins.root)


def check_chain(conn: Connection, node_id: str, root: bytes, *, at_least: int) -> TrustStore:
    """``node_id``'s chain held in ``conn``'s database is 1..N without a gap or a repeat, at
    least ``at_least`` long, its head at N, and the whole log passes the audit ``hotline
    audit`` runs (every hash, signature and certificate); the trust the audit used."""
    own = conn.execute(
        select(schema.events.c.origin_seq)
        .where(schema.events.c.origin_node == node_id)
        .order_by(schema.events.c.origin_seq)
    ).scalars()
    seqs = list(own)
    assert seqs == list(range(1, len(seqs) + 1)), "a gap or a repeat in the chain"
    assert len(seqs) >= at_least
    head = conn.execute(
        select(schema.origin_heads.c.seq).where(schema.origin_heads.c.origin_node == node_id)
    ).scalar_one()
    assert head == len(seqs)
    trust = load_trust_store(conn, x509.load_pem_x509_certificate(root))
    report = audit_log(conn, trust)
    assert report.ok, [p.to_dict() for p in report.problems]
    return trust


def check_database(db_url: str, node_id: str, done: list[tuple[str, str]], root: bytes) -> None:
    """What the database alone shows after the run (the module docstring's checks)."""
    acknowledged = [ticket_id for _, ticket_id in done]
    assert len(set(acknowledged)) == len(acknowledged), "one ticket id answered for two calls"
    db = Database.open(db_url, run_migrations=False)
    try:
        with db.read() as conn:
            trust = check_chain(conn, node_id, root, at_least=2 * len(acknowledged))
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


@pytest.mark.postgres
def test_hub_processes_replicating_at_once_give_their_parent_one_intact_chain(
    postgres: PostgresDatabases, tmp_path: Path
) -> None:
    national = NodeProcess(
        name="national",
        level=UnitLevel.NATIONAL,
        unit="100000",
        data_dir=tmp_path / "national",
        hierarchy=Hierarchy.throwaway(tmp_path / "pki"),
    )
    national.start()
    processes: list[NodeProcess] = []
    try:
        processes, _ = start_processes(tmp_path, postgres.new(), count=2, parent=national)
        done = run_clients(processes, 3)  # each process pushes after its commits meanwhile
        for _ in range(20):  # then rounds from every process until none moves anything
            with processes[0].client() as one, processes[1].client() as other:
                reports = [one.sync_now(), other.sync_now()]
            if all(r.pushed == 0 and not r.error for r in reports):
                break
        else:
            raise AssertionError(f"replication did not settle: {reports}")
        assert all(p.running for p in processes), processes[0].log_tail()
    finally:
        for process in [*reversed(processes), national]:
            process.stop()
    db = Database.open(f"sqlite:///{national.data_dir / 'node.db'}", run_migrations=False)
    try:
        with db.read() as conn:
            assert national.signins is not None
            check_chain(conn, processes[0].node_id, national.signins.root, at_least=2 * len(done))
            held = set(conn.execute(select(tickets.c.ticket_id)).scalars())
            assert {ticket_id for _, ticket_id in done} <= held
    finally:
        db.close()
