"""Publishing trust is all or nothing (issue 9, item 3).

``hotline pki publish`` hands a node authorities and revocation lists in one bundle. A bundle
with one good and one bad revocation list is refused as a whole: the answer names the bad list,
and the node keeps nothing of the good one, neither on disk (no list stored, no event
re-judged, no alert) nor in memory (the trust store it judges events by).
"""

from __future__ import annotations

import threading
import time
import uuid
from functools import partial

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from node.devnet.hierarchy import Hierarchy
from node.devnet.samples import demo_tickets
from node.edge.client import CallError
from proto.hotline.v1 import intake_pb2, sync_pb2
from sync import schema
from sync.codec import to_message
from sync.log_store import EventLog
from sync.trust_sharing import learn_trust
from sync.writer import LogBatch
from tests.helpers.world import InProcessNode, World, spec


def register(node: InProcessNode, officer_id: str, label: str) -> str:
    """A sample ticket registered at ``node`` by ``officer_id``."""
    ticket = to_message(dict(demo_tickets())[label], intake_pb2.NewTicket)
    with node.client(officer_id) as centre:
        return str(centre.register(uuid.uuid4().hex, ticket).ticket_id)


def verdicts(node: InProcessNode) -> dict[str, str]:
    """Every stored event's verdict ("" for an event that counts)."""
    with node.node.db.read() as conn:
        rows = conn.execute(select(schema.events.c.event_id, schema.events.c.verdict))
        return {r.event_id: r.verdict for r in rows}


def stored_lists(node: InProcessNode) -> int:
    with node.node.db.read() as conn:
        return len(EventLog(conn).revocation_list_rows())


def alerts(node: InProcessNode) -> list[tuple[str, str]]:
    with node.client() as admin:
        return [(a.kind, a.subject) for a in admin.alerts()]


def der(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)


def forged_signature(good: bytes) -> bytes:
    """The list with its signature's last byte changed: it parses but does not verify."""
    forged = good[:-1] + bytes([good[-1] ^ 0xFF])
    x509.load_der_x509_crl(forged)  # still a revocation list
    return forged


@pytest.mark.parametrize("bad", ["unreadable", "unsigned"])
def test_a_bundle_with_one_bad_revocation_list_is_refused_whole_and_leaves_nothing(
    world: World, hierarchy: Hierarchy, bad: str
) -> None:
    province = world.start(spec("province"))
    revoked_from = (int(time.time()) - 60) * 1000
    register(province, spec("province").officers[0].officer_id, "gym")
    node = province.node
    credentials = node.identity.credentials
    assert credentials is not None
    # A good list: it revokes the node's own certificate from before its events were recorded.
    good = der(hierarchy.revoke(credentials.certificate, revoked_from, int(time.time() * 1000)))
    broken = b"not a revocation list" if bad == "unreadable" else forged_signature(good)
    before = (verdicts(province), alerts(province))
    assert before[0] and all(v == "" for v in before[0].values())

    with province.client() as admin, pytest.raises(CallError) as refused:
        admin.publish_trust(sync_pb2.TrustBundle(revocation_lists=[good, broken]))
    assert refused.value.code == "INVALID_ARGUMENT"
    assert "trust.revocation_lists[1]" in refused.value.message
    assert stored_lists(province) == 0
    assert node.trust.revocation_lists() == []
    assert node.trust.revoked_at(credentials.certificate.certificate) is None
    assert (verdicts(province), alerts(province)) == before

    # The good list alone is taken, and does re-judge the events (so the above could fail).
    with province.client() as admin:
        added = admin.publish_trust(sync_pb2.TrustBundle(revocation_lists=[good]))
    assert added.revocation_lists_added == 1
    assert stored_lists(province) == 1
    assert node.trust.revoked_at(credentials.certificate.certificate) is not None
    assert all(v != "" for v in verdicts(province).values())
    assert ("revoked-signer", node.identity.node_id) in alerts(province)


def test_what_a_bundle_teaches_counts_at_once_in_its_transaction_and_after_it_on_the_node(
    world: World, hierarchy: Hierarchy
) -> None:
    province = world.start(spec("province"))
    revoked_from = (int(time.time()) - 60) * 1000
    ticket_id = register(province, spec("province").officers[0].officer_id, "gym")
    node = province.node
    credentials = node.identity.credentials
    assert credentials is not None
    own = credentials.certificate.certificate
    crl = hierarchy.revoke(credentials.certificate, revoked_from, int(time.time() * 1000))
    bundle = sync_pb2.TrustBundle(revocation_lists=[der(crl)])
    started, release = threading.Event(), threading.Event()

    def hold(batch: LogBatch) -> None:
        started.set()
        release.wait(10)

    def look(batch: LogBatch) -> tuple[bool, bool, int]:
        assert batch.trust is not None
        return (
            batch.trust.revoked_at(own) is not None,
            node.trust.revoked_at(own) is not None,
            batch.state_of(ticket_id).version,
        )

    holder = node.writer.submit(hold)
    assert started.wait(10)
    published = node.writer.submit(partial(learn_trust, bundle=bundle))
    looked = node.writer.submit(look)
    release.set()
    holder.result(30)
    assert published.result(30) == (0, 1)
    # The later job judged by the new list, and folded the ticket without the discounted
    # events, while the node's own store did not know the list until the commit.
    assert looked.result(30) == (True, False, 0)
    assert node.trust.revoked_at(own) is not None
