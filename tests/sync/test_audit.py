"""An inspector holding only the national root can tell an untouched log from an edited one.

The world: a county node (620102) whose database holds its own complete chain (with a head
row) and two events of the province hub received through its feed (a partial chain, no head).
Every test builds the database directly, edits it the way a dishonest administrator would, and
runs the offline audit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Connection, Engine, create_engine, delete, insert, update

from core.hlc import from_millis
from core.officers import OfficerRef
from core.ticket.events import (
    ComplaintAccepted,
    DomainEvent,
    MediationPaused,
    MediationResumed,
    TicketRegistered,
    TicketRouted,
)
from core.ticket.vocabulary import (
    Channel,
    Consumer,
    JurisdictionBasis,
    Respondent,
    SourceLine,
    TicketKind,
)
from core.units import UnitLevel
from sync import schema
from sync.audit import (
    CERTIFICATE,
    CHAIN,
    GAP,
    HASH,
    MISSING,
    SIGNATURE,
    TAMPERED,
    UNPARSEABLE,
    AuditReport,
    audit_log,
    audit_ticket,
    format_history,
    format_report,
    history_to_dict,
    load_trust_store,
    ticket_history,
)
from sync.envelope import GENESIS_HASH, SealedEvent, seal
from sync.identity import NodeIdentity
from sync.pki import (
    Authority,
    NodeCertificate,
    certify_province,
    create_root,
    enrolment_request,
    issue,
    revocation_list,
)
from sync.trust import TrustStore, fingerprint
from sync.writer import event_row

NOW_MS = 1_773_624_600_000  # 2026-03-16 01:30 UTC, the Monday after 3·15
MINUTE = 60_000

HUB_OFFICER = OfficerRef("620000-01", "王芳", "620000", UnitLevel.PROVINCE)
HANDLER = OfficerRef("620102-01", "李娜", "620102", UnitLevel.COUNTY)


def _registration(ticket_id: str, unit: str) -> TicketRegistered:
    return TicketRegistered(
        ticket_id=ticket_id,
        kind=TicketKind.COMPLAINT,
        channel=Channel.PHONE,
        source_line=SourceLine.LINE_12315,
        consumer=Consumer("王小明", "13893112345", "兰州市城关区庆阳路1号"),
        respondent=Respondent("金城健身俱乐部", operating_region="620102"),
        category="预付卡",
        facts="健身房关门，余额不退",
        request="退还余额",
        amount_fen=320_000,
        incident_region="620102",
        received_at=datetime.fromtimestamp(NOW_MS / 1000, tz=UTC),
        registering_unit=unit,
    )


@dataclass
class Node:
    identity: NodeIdentity
    certificate: NodeCertificate
    seq: int = 0
    prev_hash: bytes = GENESIS_HASH

    def seal(
        self, ticket_id: str, event: DomainEvent, officer: OfficerRef, minute: int
    ) -> SealedEvent:
        self.seq += 1
        sealed = seal(
            self.identity,
            event_id=f"{self.identity.node_id[-6:]}{self.seq:026d}",
            seq=self.seq,
            prev_hash=self.prev_hash,
            ticket_id=ticket_id,
            event=event,
            hlc=from_millis(NOW_MS + minute * MINUTE) + self.seq,
            officer=officer,
            ticket_version=self.seq,
        )
        self.prev_hash = sealed.hash
        return sealed


@dataclass
class World:
    engine: Engine
    root: Authority
    province: Authority
    hub: Node
    county: Node
    events: list[SealedEvent]
    """In arrival order: hub #1, hub #2, then county #1..#6 (positions 1..8)."""

    def trust(self, conn: Connection) -> TrustStore:
        return load_trust_store(conn, self.root.certificate)

    def audit(self, **options: int) -> AuditReport:
        with self.engine.connect() as conn:
            return audit_log(conn, self.trust(conn), **options)

    def execute(self, statement: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(statement)  # type: ignore[call-overload]

    def pos_of(self, node: Node, seq: int) -> int:
        return 1 + next(
            i
            for i, e in enumerate(self.events)
            if e.origin_node == node.identity.node_id and e.origin_seq == seq
        )


def _enrol(province: Authority, unit: str, level: UnitLevel) -> Node:
    identity = NodeIdentity.generate(unit, level)
    request = enrolment_request(
        identity.tls_key, identity.event_key, identity.node_id, identity.unit_code, level
    )
    return Node(identity, issue(province, request, NOW_MS - 24 * 60 * MINUTE))


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _certificate_row(cert: x509.Certificate, node: NodeCertificate | None) -> dict[str, object]:
    return {
        "fingerprint": fingerprint(cert),
        "kind": "node" if node else "ca",
        "key_id": node.key_id if node else "",
        "node_id": node.node_id if node else "",
        "unit_code": node.unit_code if node else "620000",
        "der": _der(cert),
    }


@pytest.fixture
def world(tmp_path: Path) -> World:
    root = create_root(NOW_MS - 30 * 24 * 60 * MINUTE)
    province = certify_province(root, "620000", NOW_MS - 30 * 24 * 60 * MINUTE)
    hub = _enrol(province, "620000", UnitLevel.PROVINCE)
    county = _enrol(province, "620102", UnitLevel.COUNTY)
    events = [
        hub.seal("T1", _registration("T1", "620000"), HUB_OFFICER, 0),
        hub.seal("T1", TicketRouted("620102", JurisdictionBasis.OPERATING_ADDRESS), HUB_OFFICER, 1),
        county.seal("T1", ComplaintAccepted("受理"), HANDLER, 2),
        county.seal("T1", MediationPaused("送检 sample A"), HANDLER, 3),
        county.seal("T1", MediationResumed("检测完成"), HANDLER, 4),
        county.seal("T2", _registration("T2", "620102"), HANDLER, 5),
        county.seal("T2", ComplaintAccepted(), HANDLER, 6),
        county.seal("T2", MediationPaused("调解中止"), HANDLER, 7),
    ]
    engine = create_engine(f"sqlite:///{tmp_path / 'node.db'}")
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(schema.trusted_certificates),
            [
                _certificate_row(root.certificate, None),
                _certificate_row(province.certificate, None),
                _certificate_row(hub.certificate.certificate, hub.certificate),
                _certificate_row(county.certificate.certificate, county.certificate),
            ],
        )
        conn.execute(
            insert(schema.events),
            [event_row(e, "hub" if e.origin_node == hub.identity.node_id else "") for e in events],
        )
        conn.execute(
            insert(schema.origin_heads).values(
                origin_node=county.identity.node_id,
                origin_unit="620102",
                seq=county.seq,
                hash=county.prev_hash,
            )
        )
    return World(engine, root, province, hub, county, events)


def _kinds(report: AuditReport) -> set[str]:
    return {p.kind for p in report.problems}


def test_untouched_log_passes_audit(world: World) -> None:
    report = world.audit()
    assert report.ok, format_report(report)
    assert (report.events_checked, report.origins_checked, report.complete_chains) == (8, 2, 1)
    assert report.last_pos == 8
    assert world.audit(chunk=3).to_dict() == report.to_dict()  # streaming changes nothing
    assert format_report(report)[-1].startswith("OK")
    assert json.loads(json.dumps(report.to_dict()))["ok"] is True


def test_edited_payload_is_caught(world: World) -> None:
    pos = world.pos_of(world.county, 2)
    original = world.events[pos - 1].envelope
    assert b"sample A" in original
    world.execute(
        update(schema.events)
        .where(schema.events.c.pos == pos)
        .values(envelope=original.replace(b"sample A", b"sample B"))
    )
    report = world.audit()
    assert not report.ok
    at_row = {p.kind for p in report.problems if p.pos == pos}
    assert at_row == {HASH, SIGNATURE}
    # and the next event no longer links to what is stored
    assert [p.pos for p in report.of_kind(CHAIN)] == [pos + 1]
    assert any("[signature]" in line for line in format_report(report))


def test_any_changed_byte_of_an_envelope_is_caught(world: World) -> None:
    pos = world.pos_of(world.county, 3)
    original = world.events[pos - 1].envelope
    for i in range(len(original)):
        edited = bytearray(original)
        edited[i] ^= 0x01
        world.execute(
            update(schema.events).where(schema.events.c.pos == pos).values(envelope=bytes(edited))
        )
        report = world.audit()
        assert {p.pos for p in report.problems if p.pos is not None} >= {pos}, i
        assert _kinds(report) & {HASH, SIGNATURE, UNPARSEABLE}, i


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ticket_id", "T9"),
        ("event_type", "hotline.v1.TicketReopened"),
        ("hlc", 1),
        ("origin_unit", "620103"),
        ("origin_seq", 99),
        ("signer_key_id", "00" * 32),
        ("prev_hash", b"\x01" * 32),
        ("event_id", "f" * 32),
    ],
)
def test_edited_column_is_caught(world: World, column: str, value: object) -> None:
    pos = world.pos_of(world.county, 2)
    world.execute(update(schema.events).where(schema.events.c.pos == pos).values({column: value}))
    report = world.audit()
    assert _kinds(report) == {TAMPERED}, format_report(report)
    [problem] = report.problems
    assert problem.pos == pos
    assert problem.origin_node == world.county.identity.node_id  # named from the signed envelope
    assert problem.origin_seq == 2
    assert column in problem.detail


def test_edited_hash_column_is_caught(world: World) -> None:
    pos = world.pos_of(world.county, 2)
    world.execute(update(schema.events).where(schema.events.c.pos == pos).values(hash=b"\x02" * 32))
    report = world.audit()
    assert _kinds(report) == {HASH}
    assert [p.pos for p in report.problems] == [pos]


def test_deleted_event_is_caught_as_gap(world: World) -> None:
    pos = world.pos_of(world.county, 3)
    world.execute(delete(schema.events).where(schema.events.c.pos == pos))
    report = world.audit()
    assert _kinds(report) == {GAP}, format_report(report)
    [gap] = report.problems
    assert (gap.pos, gap.origin_seq) == (pos + 1, 4)
    assert "#3 missing" in gap.detail


def test_deleted_latest_events_are_caught_as_missing(world: World) -> None:
    last = world.pos_of(world.county, 6)
    world.execute(delete(schema.events).where(schema.events.c.pos >= last - 1))
    report = world.audit()
    assert _kinds(report) == {MISSING}
    assert "#5..#6 missing" in report.problems[0].detail


def test_a_gap_in_a_partial_chain_is_not_a_problem(world: World) -> None:
    # the hub's chain arrives filtered through the feed: only linkage of neighbours is checked
    world.execute(delete(schema.events).where(schema.events.c.pos == 1))
    assert world.audit().ok


def test_a_broken_link_in_a_partial_chain_is_caught(world: World) -> None:
    # hub #2 replaced by a properly signed event that does not link to hub #1
    hub = world.hub
    hub.seq, hub.prev_hash = 1, b"\x07" * 32
    forged = hub.seal("T1", TicketRouted("620103", JurisdictionBasis.RELAY), HUB_OFFICER, 1)
    world.execute(delete(schema.events).where(schema.events.c.pos == 2))
    world.execute(insert(schema.events).values(event_row(forged, "hub")))
    report = world.audit()
    assert _kinds(report) == {CHAIN}
    assert report.problems[0].origin_seq == 2


def test_event_signed_after_revocation_is_reported(world: World) -> None:
    # the county's certificate is revoked between its events #3 (minute 4) and #4 (minute 5)
    revoked_at = NOW_MS + 4 * MINUTE + MINUTE // 2
    crl = revocation_list(world.province, {world.county.certificate.serial: revoked_at}, NOW_MS)
    world.execute(
        insert(schema.revocation_lists).values(
            issuer=fingerprint(world.province.certificate),
            last_update_ms=NOW_MS,
            der=crl.public_bytes(serialization.Encoding.DER),
        )
    )
    # the node kept #6 as evidence only (as it should have done for all three)
    world.execute(
        update(schema.events)
        .where(schema.events.c.pos == world.pos_of(world.county, 6))
        .values(verdict="signer revoked")
    )
    report = world.audit()
    assert _kinds(report) == {CERTIFICATE}
    assert [p.origin_seq for p in report.problems] == [4, 5]
    assert all("revoked" in p.detail for p in report.problems)
    assert report.evidence_events == 1
    assert "evidence" in format_report(report)[1]


def test_a_forged_certificate_in_the_database_does_not_count(world: World) -> None:
    other_root = create_root(NOW_MS)
    other_province = certify_province(other_root, "620000", NOW_MS)
    impostor = _enrol(other_province, "620102", UnitLevel.COUNTY)
    notes: list[str] = []
    with world.engine.begin() as conn:
        conn.execute(
            insert(schema.trusted_certificates).values(
                _certificate_row(impostor.certificate.certificate, impostor.certificate)
            )
        )
        load_trust_store(conn, world.root.certificate, notes)
    assert any("does not verify" in n or "unknown authority" in n for n in notes), notes
    impostor.seq = 0
    event = impostor.seal("T3", _registration("T3", "620102"), HANDLER, 8)
    world.execute(insert(schema.events).values(event_row(event, "child")))
    report = world.audit()
    assert _kinds(report) == {CERTIFICATE}
    assert "no certificate known" in report.problems[0].detail


def test_ticket_history_names_every_signer(world: World) -> None:
    with world.engine.connect() as conn:
        trust = world.trust(conn)
        history = ticket_history(conn, trust, "T1")
        entries, problems = audit_ticket(conn, trust, "T1")
    hub, county = world.hub.certificate, world.county.certificate
    assert [(e.short_type, e.origin_node, e.origin_seq) for e in history] == [
        ("TicketRegistered", hub.node_id, 1),
        ("TicketRouted", hub.node_id, 2),
        ("ComplaintAccepted", county.node_id, 1),
        ("MediationPaused", county.node_id, 2),
        ("MediationResumed", county.node_id, 3),
    ]
    assert [e.officer_name for e in history] == ["王芳", "王芳", "李娜", "李娜", "李娜"]
    assert [e.certificate_node for e in history] == [hub.node_id] * 2 + [county.node_id] * 3
    assert {e.certificate_serial for e in history} == {
        format(hub.serial, "x"),
        format(county.serial, "x"),
    }
    assert all("12315 CA 620000" in e.certificate_issuer for e in history)
    assert all(e.signature_ok and e.certificate_ok and e.counted and e.ok for e in history)
    assert history[0].time == "2026-03-16T01:30:00.000Z"
    assert entries == history and problems == []
    lines = format_history(history)
    assert len(lines) == 6  # one per event, then what became of the filer's personal data
    assert lines[-1].startswith("个人信息 personal data: sealed beside the log")
    assert "王芳 (620000-01, 620000 province)" in lines[0]
    assert f"certificate {format(county.serial, 'x')} of {county.node_id}" in lines[2]
    dumped = json.loads(json.dumps(history_to_dict(history)))
    assert dumped[2]["officer"] == {
        "id": "620102-01",
        "name": "李娜",
        "unit": "620102",
        "level": "county",
    }


def test_ticket_audit_checks_the_whole_chain_of_its_origins(world: World) -> None:
    # T2's event is deleted; T1's history is untouched, but T1's county chain is broken
    world.execute(delete(schema.events).where(schema.events.c.pos == world.pos_of(world.county, 5)))
    with world.engine.connect() as conn:
        trust = world.trust(conn)
        entries, problems = audit_ticket(conn, trust, "T1")
    assert all(e.ok for e in entries)
    assert [(p.kind, p.origin_seq) for p in problems] == [(GAP, 6)]


def test_ticket_history_shows_a_bad_signature(world: World) -> None:
    pos = world.pos_of(world.county, 1)
    world.execute(
        update(schema.events).where(schema.events.c.pos == pos).values(signature=b"\x00" * 64)
    )
    with world.engine.connect() as conn:
        entries, problems = audit_ticket(conn, world.trust(conn), "T1")
    bad = [e for e in entries if not e.ok]
    assert [e.pos for e in bad] == [pos]
    assert bad[0].signature_ok is False
    assert [p.kind for p in problems] == [SIGNATURE]
    assert "SIGNATURE BAD" in format_history(entries)[2]


def test_an_envelope_that_does_not_parse_is_reported_and_leaves_a_gap(world: World) -> None:
    pos = world.pos_of(world.county, 2)
    world.execute(
        update(schema.events).where(schema.events.c.pos == pos).values(envelope=b"\xff\xff")
    )
    report = world.audit()
    assert [(p.kind, p.pos) for p in report.problems] == [(UNPARSEABLE, pos), (GAP, pos + 1)]
