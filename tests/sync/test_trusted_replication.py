"""Replication that can be trusted: what a receiver refuses, keeps as evidence, or quarantines.

Each test builds a small world in-process (on SQLite and on PostgreSQL), enrolled under one
test hierarchy, and plays one attack or accident against it: a tampered row, a revoked
station, a cloned node, a replayed batch, a node from another hierarchy.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from core import hlc
from core.ticket.events import MediationResumed
from core.ticket.state import Stage, TicketState
from core.ticket.vocabulary import Track
from node.cli.main import main as hotline
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import demo_tickets
from proto.hotline.v1 import casework_pb2 as cw
from proto.hotline.v1 import intake_pb2, sync_pb2
from sync import schema
from sync.codec import from_message, to_message
from sync.envelope import seal
from sync.identity import NodeIdentity
from sync.log_store import EventLog
from tests.helpers.peers import push_raw
from tests.helpers.signin import HandMovedTime
from tests.helpers.tickets import register_and_route
from tests.helpers.world import InProcessNode, World, spec


def walk_in(label: str) -> intake_pb2.NewTicket:
    """One of the sample tickets, as a walk-in complaint registered at a county."""
    return to_message(dict(demo_tickets())[label], intake_pb2.NewTicket)


def own_chain(node: InProcessNode) -> list:  # type: ignore[type-arg]
    with node.node.db.read() as conn:
        return EventLog(conn).chain_after(node.node.identity.node_id, 0, 10_000)


def count_events(node: InProcessNode) -> int:
    with node.node.db.read() as conn:
        return EventLog(conn).count_events()


def alert_kinds(node: InProcessNode) -> list[str]:
    with node.client() as client:
        return [a.kind for a in client.alerts()]


def test_a_tampered_event_is_refused_by_the_parent_and_caught_by_audit(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start_line()
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    world.take_down("city")  # so the step stays on the county until after the tampering
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    county = world["chengguan"]
    accept = own_chain(county)[-1]
    assert accept.event_type.endswith("ComplaintAccepted")
    # A careless admin "corrects" the officer's name in the stored bytes.
    forged = accept.envelope.replace("李强".encode(), "王强".encode())
    assert forged != accept.envelope
    with county.node.db.write() as conn:
        conn.execute(
            update(schema.events)
            .where(schema.events.c.event_id == accept.event_id)
            .values(envelope=forged)
        )

    city = world.bring_up("city")
    with county.client() as client:
        report = client.sync_now()
    assert report.rejected == 1
    with city.node.db.read() as conn:
        assert accept.event_id not in EventLog(conn).known_ids([accept.event_id])
    assert "tampered-event" in alert_kinds(city)

    capsys.readouterr()
    status = hotline(
        ["audit", "--db", world.settings["chengguan"].database_url,
         "--root", str(world.root / "chengguan" / "root.pem")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 1 and "FAILED" in out and accept.event_id in out


def test_a_revoked_station_s_later_events_stop_counting_everywhere(
    world: World, hierarchy: Hierarchy
) -> None:
    for name in ("province", "city", "chengguan", "station"):
        world.start(spec(name))
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
        handler.step(
            "AssignToStation",
            cw.AssignToStationRequest(ticket_id=ticket_id, station_code="620102001"),
        )
    world.sync("station")
    with world.officer("station") as officer:
        officer.step("PauseMediation", cw.PauseMediationRequest(ticket_id=ticket_id, reason="送检"))
        revoked_from = (int(time.time()) + 1) * 1000  # X.509 keeps revocation times in seconds
        time.sleep(revoked_from / 1000 - time.time() + 0.05)
        officer.step("ResumeMediation", cw.ResumeMediationRequest(ticket_id=ticket_id, note="合格"))
    # The laptop's events reach the province before anyone knows it was stolen.
    world.sync("station", "chengguan", "city")
    station_cert = world["station"].node.identity.credentials.certificate  # type: ignore[union-attr]
    crl = hierarchy.revoke(station_cert, revoked_from, int(time.time() * 1000))
    from cryptography.hazmat.primitives import serialization

    with world["province"].client() as admin:
        added = admin.publish_trust(
            sync_pb2.TrustBundle(revocation_lists=[crl.public_bytes(serialization.Encoding.DER)])
        )
    assert added.revocation_lists_added == 1
    world.sync("city", "chengguan")  # the revocation list flows down with each Hello

    for name in ("province", "city", "chengguan"):
        with world.officer(name) as client:
            state = from_message(TicketState, client.get(ticket_id))
        complaint = state.track(Track.COMPLAINT)
        assert complaint is not None and complaint.stage is Stage.MEDIATION_PAUSED, name
        assert "revoked-signer" in alert_kinds(world[name]), name

    # The station itself can no longer connect, and a late step of it would not count.
    with world["station"].client() as station:
        report = station.sync_now()
    assert "PERMISSION_DENIED" in report.error and "revoked" in report.error
    late = seal(
        world["station"].node.identity,
        event_id=uuid.uuid4().hex,
        seq=1000,
        prev_hash=b"\0" * 32,
        ticket_id=ticket_id,
        event=MediationResumed(note="x"),
        hlc=hlc.from_millis(int(time.time() * 1000)),
        officer=own_chain(world["station"])[-1].officer,
        ticket_version=9,
    )
    assert late.event_id  # sealing works offline; it is the receivers that refuse it


def test_a_cloned_node_is_quarantined_as_a_fork_with_both_events_kept(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.start_line()
    with world.officer("province") as centre:
        ticket_id = register_and_route(centre, "gym")
    world.sync("city", "chengguan")
    county, city = world["chengguan"], world["city"]
    with world.officer("chengguan") as handler:
        handler.step("AcceptComplaint", cw.AcceptComplaintRequest(ticket_id=ticket_id))
    world.sync("chengguan")
    held = own_chain(county)[-1]
    # A restored backup of the county records another event in the same place of its chain.
    clone = seal(
        county.node.identity,
        event_id=uuid.uuid4().hex,
        seq=held.origin_seq,
        prev_hash=held.prev_hash,
        ticket_id=ticket_id,
        event=MediationResumed(note="from the restored backup"),
        hlc=held.hlc + 5,
        officer=held.officer,
        ticket_version=held.ticket_version,
    )
    summary = push_raw(county, city, [clone])
    assert summary.rejected == 1 and "fork" in summary.rejections[0].reason
    with city.client() as admin:
        status = admin.sync_status()
        assert [q.origin_node for q in status.quarantined] == [county.node.identity.node_id]
        assert "fork" in [a.kind for a in admin.alerts()]
    with city.node.db.read() as conn:
        evidence = conn.execute(select(schema.fork_evidence)).all()
        assert [(e.held_hash, e.other_hash) for e in evidence] == [(held.hash, clone.hash)]
        assert EventLog(conn).event_at(held.origin_node, held.origin_seq).hash == held.hash  # type: ignore[union-attr]

    # Quarantined: even the county's genuine next events wait until an administrator acts.
    with world.officer("chengguan") as handler:
        handler.step("PauseMediation", cw.PauseMediationRequest(ticket_id=ticket_id, reason="送检"))
    with county.client() as client:
        assert client.sync_now().rejected == 1
    origin = county.node.identity.node_id
    capsys.readouterr()
    assert hotline(["sync", "status", *city.cli()]) == 0
    assert f"QUARANTINED {origin}" in capsys.readouterr().out
    assert hotline(["alerts", *city.cli()]) == 0  # its system administrator
    assert f"fork {origin}" in capsys.readouterr().out
    assert hotline(["quarantine", "release", *city.cli(), "--origin", origin,
                    "--note", "backup wiped"]) == 0  # fmt: skip
    with city.client() as admin:
        assert not admin.sync_status().quarantined
    assert hotline(["quarantine", "release", *city.cli(), "--origin", origin]) == 2
    with county.client() as client:
        report = client.sync_now()
    assert not report.error and report.rejected == 0
    pause = own_chain(county)[-1]
    with city.node.db.read() as conn:
        assert EventLog(conn).known_ids([pause.event_id]) == {pause.event_id}


def test_a_replayed_old_batch_changes_nothing(world: World) -> None:
    world.start_line()
    with world.officer("chengguan") as handler:
        for label in ("gym", "fridge"):
            handler.register(uuid.uuid4().hex, walk_in(label))
    world.sync("chengguan")
    county, city = world["chengguan"], world["city"]
    before = count_events(city)
    with world.officer("city") as officer:
        tickets_before = [t.SerializeToString() for t in officer.list_tickets()]
    chain = own_chain(county)
    summary = push_raw(county, city, chain)
    assert (summary.accepted, summary.duplicates, summary.rejected) == (0, len(chain), 0)
    assert count_events(city) == before
    with world.officer("city") as officer:
        assert [t.SerializeToString() for t in officer.list_tickets()] == tickets_before
    with city.node.db.read() as conn:
        problems = conn.execute(select(func.count()).select_from(schema.sync_problems))
        assert problems.scalar_one() == 0


def test_a_node_enrolled_in_another_hierarchy_cannot_connect(world: World, tmp_path: Path) -> None:
    world.start(spec("province"))
    world.start(spec("city"))
    impostor = Hierarchy.open(tmp_path / "other-pki", int(time.time() * 1000))
    world.hierarchy, honest = impostor, world.hierarchy
    try:
        node = world.start(spec("chengguan"))
    finally:
        world.hierarchy = honest
    with node.client() as client:
        report = client.sync_now()
    # The TLS handshake fails, so the link never comes up (the first call waits for it).
    assert "UNAVAILABLE" in report.error or "DEADLINE_EXCEEDED" in report.error
    with world["city"].client() as admin:
        assert not [p for p in admin.sync_status().peers if p.role == "child"]


def test_a_rotated_key_keeps_the_node_s_history_and_both_keys_count(
    world: World, hierarchy: Hierarchy, capsys: pytest.CaptureFixture[str]
) -> None:
    real_time = HandMovedTime()
    world.start_all("province", "city")
    world.start(spec("chengguan"), real_ms=real_time)
    with world.officer("chengguan") as handler:
        first = handler.register(uuid.uuid4().hex, walk_in("gym")).ticket_id
    world.sync("chengguan")
    old_key = world["chengguan"].node.identity.key_id
    world.take_down("chengguan")
    data_dir = world.root / "chengguan"
    rotated = NodeIdentity.rotate(data_dir)
    hierarchy.enrol(data_dir, "620102", int(time.time() * 1000))  # a new certificate
    county = world.bring_up("chengguan")
    assert county.node.identity.node_id == rotated.node_id
    assert county.node.identity.key_id != old_key
    # Rotating the keys ends every session: the officers sign in again (a new TOTP step).
    real_time.advance(seconds=31)
    county.signins.forget_all()
    with world.officer("chengguan") as handler:
        second = handler.register(uuid.uuid4().hex, walk_in("fridge")).ticket_id
    world.sync("chengguan")

    chain = own_chain(county)
    assert [e.origin_seq for e in chain] == list(range(1, len(chain) + 1))
    assert {e.signer_key_id for e in chain} == {old_key, county.node.identity.key_id}
    with world.officer("city") as city:
        assert {city.get(first).ticket_id, city.get(second).ticket_id} == {first, second}
    capsys.readouterr()
    status = hotline(
        ["audit", "--db", world.settings["city"].database_url,
         "--root", str(data_dir / "root.pem")]
    )  # fmt: skip
    assert status == 0, capsys.readouterr().out
