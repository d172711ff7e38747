"""A revocation counts from its millisecond, not from the whole second X.509 keeps.

``hotline pki revoke`` states the moment from which a node's events stop counting in
milliseconds; an event recorded 297 ms before that moment was made while the node was still
trusted, so it counts on every node: in the trust store, on receipt, and when a node that
already holds it learns of the revocation.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from sqlalchemy import select

from core import hlc
from core.ticket.events import ComplaintAccepted, DomainEvent, MediationPaused
from core.units import UnitLevel
from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import demo_tickets
from proto.hotline.v1 import intake_pb2, sync_pb2
from sync import schema
from sync.audit import audit_log, format_report, load_trust_store
from sync.codec import to_message
from sync.enrolment import request_for
from sync.envelope import SealedEvent, seal
from sync.identity import NodeIdentity
from sync.log_store import EventLog
from sync.pki import Authority, certify_province, create_root, issue
from sync.revocation import REVOCATION_MS_EXTENSION, revocation_list, revoked_ms
from sync.trust import TrustStore
from tests.helpers.peers import push_raw
from tests.helpers.world import InProcessNode, World, spec

NOW = 1_790_000_000_000
"""A fixed moment (2026-09-21), a whole second."""
REVOKED_FROM = NOW + 3_600_000 + 500
"""What ``hotline pki revoke`` printed: half a second past a whole second."""


# -- the trust store -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root() -> Authority:
    return create_root(NOW)


@pytest.fixture(scope="module")
def gansu(root: Authority) -> Authority:
    return certify_province(root, "620000", NOW)


def _station_revoked_at(
    root: Authority, gansu: Authority
) -> tuple[NodeIdentity, TrustStore, x509.CertificateRevocationList]:
    identity = NodeIdentity.generate("620102001", UnitLevel.STATION)
    cert = issue(gansu, request_for(identity), NOW)
    store = TrustStore(root.certificate)
    store.add_authority(gansu.certificate)
    store.add_node(cert.certificate)
    crl = revocation_list(gansu, {cert.serial: REVOKED_FROM}, REVOKED_FROM + 60_000)
    assert store.add_revocations(crl)
    return identity, store, crl


def test_an_event_297_ms_before_the_revocation_counts_and_one_at_it_does_not(
    root: Authority, gansu: Authority
) -> None:
    identity, store, _ = _station_revoked_at(root, gansu)

    def counts(at_ms: int) -> bool:
        return store.signer(identity.key_id, identity.node_id, "620102001", at_ms).ok

    assert counts(REVOKED_FROM - 297)
    assert counts(REVOKED_FROM - 1)
    assert not counts(REVOKED_FROM)
    assert not counts(REVOKED_FROM + 1)


def test_the_list_keeps_whole_seconds_in_its_date_and_the_milliseconds_beside_it(
    root: Authority, gansu: Authority
) -> None:
    _, store, crl = _station_revoked_at(root, gansu)
    again = x509.load_der_x509_crl(crl.public_bytes(serialization.Encoding.DER))
    [entry] = list(again)
    assert int(entry.revocation_date_utc.timestamp() * 1000) == REVOKED_FROM - 500
    assert entry.extensions.get_extension_for_oid(REVOCATION_MS_EXTENSION).critical is False
    assert revoked_ms(entry) == REVOKED_FROM
    assert [store.revoked_at(c.certificate) for c in store.node_certificates()] == [REVOKED_FROM]


def test_a_newer_list_carries_the_earlier_revocations_milliseconds_over(
    root: Authority, gansu: Authority
) -> None:
    first = revocation_list(gansu, {11: REVOKED_FROM}, REVOKED_FROM + 1_000)
    newer = revocation_list(gansu, {12: REVOKED_FROM + 7}, REVOKED_FROM + 2_000, previous=first)
    assert {e.serial_number: revoked_ms(e) for e in newer} == {
        11: REVOKED_FROM,
        12: REVOKED_FROM + 7,
    }


def test_a_list_without_the_milliseconds_counts_from_its_whole_second(gansu: Authority) -> None:
    # A list made by another tool (or before the extension existed): only X.509's own date.
    moment = x509.RevokedCertificateBuilder().serial_number(13)
    entry = moment.revocation_date(_utc(REVOKED_FROM - 500)).build()
    plain = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(gansu.certificate.subject)
        .last_update(_utc(NOW))
        .next_update(_utc(NOW + 3_600_000))
        .add_revoked_certificate(entry)
        .sign(gansu.key, hashes.SHA256())
    )
    assert [revoked_ms(e) for e in plain] == [REVOKED_FROM - 500]


def _utc(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)


# -- replication ---------------------------------------------------------------------------------


def _county_with_a_ticket_at_the_city(world: World) -> tuple[InProcessNode, InProcessNode, str]:
    world.start(spec("city"))
    world.start(spec("chengguan"))
    ticket = to_message(dict(demo_tickets())["gym"], intake_pb2.NewTicket)
    with world.officer("chengguan") as handler:
        ticket_id = handler.register(uuid.uuid4().hex, ticket).ticket_id
    world.sync("chengguan")
    return world["chengguan"], world["city"], ticket_id


def _signed_by(
    county: InProcessNode, ticket_id: str, steps: Sequence[tuple[int, DomainEvent]]
) -> list[SealedEvent]:
    """The county's next events on the ticket, recorded at the given times (ms)."""
    with county.node.db.read() as conn:
        head = EventLog(conn).chain_after(county.node.identity.node_id, 0, 10_000)[-1]
    officer = head.officer
    events = []
    seq, prev = head.origin_seq, head.hash
    for at_ms, event in steps:
        seq += 1
        sealed = seal(
            county.node.identity,
            event_id=uuid.uuid4().hex,
            seq=seq,
            prev_hash=prev,
            ticket_id=ticket_id,
            event=event,
            hlc=hlc.from_millis(at_ms),
            officer=officer,
            ticket_version=seq,
        )
        events.append(sealed)
        prev = sealed.hash
    return events


def _verdicts(node: InProcessNode, events: Sequence[SealedEvent]) -> list[str]:
    e = schema.events.c
    with node.node.db.read() as conn:
        held = dict(
            conn.execute(
                select(e.event_id, e.verdict).where(e.event_id.in_([x.event_id for x in events]))
            ).all()
        )
    return [held[x.event_id] for x in events]


def _publish(node: InProcessNode, crl: x509.CertificateRevocationList) -> None:
    with node.client() as admin:
        added = admin.publish_trust(
            sync_pb2.TrustBundle(revocation_lists=[crl.public_bytes(serialization.Encoding.DER)])
        )
    assert added.revocation_lists_added == 1


def _a_moment_ahead() -> int:
    """Half a second past a whole second, far enough ahead that the county can still connect."""
    return (int(time.time()) + 60) * 1000 + 500


def test_learning_a_revocation_discounts_a_held_event_at_its_millisecond_but_not_297_ms_before(
    world: World, hierarchy: Hierarchy
) -> None:
    county, city, ticket_id = _county_with_a_ticket_at_the_city(world)
    revoked_from = _a_moment_ahead()
    events = _signed_by(
        county,
        ticket_id,
        [(revoked_from - 297, ComplaintAccepted()), (revoked_from, MediationPaused("送检"))],
    )
    summary = push_raw(county, city, events)
    assert (summary.accepted, summary.rejected) == (2, 0)

    certificate = county.node.identity.credentials.certificate  # type: ignore[union-attr]
    _publish(city, hierarchy.revoke(certificate, revoked_from, int(time.time() * 1000)))

    before, at = _verdicts(city, events)
    assert before == ""
    assert at == f"signer not trusted: certificate revoked since {revoked_from} (ms)"
    # An inspector's audit reads the same millisecond from the list the city keeps: the event
    # 297 ms before it is rightly counted.
    with city.node.db.read() as conn:
        report = audit_log(conn, load_trust_store(conn, hierarchy.root.certificate))
    assert report.ok, format_report(report)


def test_an_event_297_ms_before_a_known_revocation_is_taken_in_and_one_at_it_is_not(
    world: World, hierarchy: Hierarchy
) -> None:
    county, city, ticket_id = _county_with_a_ticket_at_the_city(world)
    revoked_from = _a_moment_ahead()
    certificate = county.node.identity.credentials.certificate  # type: ignore[union-attr]
    _publish(city, hierarchy.revoke(certificate, revoked_from, int(time.time() * 1000)))

    events = _signed_by(
        county,
        ticket_id,
        [(revoked_from - 297, ComplaintAccepted()), (revoked_from, MediationPaused("送检"))],
    )
    summary = push_raw(county, city, events)
    assert (summary.accepted, summary.rejected) == (1, 1)
    before, at = _verdicts(city, events)
    assert before == ""
    assert "revoked since" in at
