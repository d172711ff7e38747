"""Access record anchors kept above the node (访问记录锚点): the parent holds each child's head.

A node's access record is chained and signed (``core.access.record``), but whoever holds the
node's database can cut its last rows and set its head row back: what is left is a whole chain.
So at every replication round the child sends the head of its record, the last row's ``seq``
and digest with the node's own signature of that digest, in its ``Hello``; the parent checks
the signature against the child's certificate (proven by mutual TLS) and keeps it in
``access_anchors``, in another administrator's database.

A newer head replaces the one kept only when the child shows that its record still holds the
kept one: the Hello also carries the child's row at the ``seq`` the parent named in its last
answer (``access_anchor_seq``), and it must have the kept digest. Without that proof (the child
restarted and does not know what the parent keeps), both heads are kept; with a row that
differs, both are kept and an ``access-record`` alert is raised, as for a head that went back
below or changed at the one kept. So a record cut and grown again between two rounds is caught
too, and no head is dropped before the record is shown to hold it. ``hotline audit --parent-db``
checks every head kept against the child's database.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from core.access.record import ACCESS_CONTEXT
from proto.hotline.v1 import sync_pb2
from sync import schema
from sync.pki import NodeCertificate
from sync.reasons import AlertKind
from sync.signatures import verify
from sync.writer import LogBatch


@dataclass(frozen=True)
class SignedHead:
    """The last row of a node's access record: its ``seq``, digest, and the node's signature."""

    seq: int
    digest: bytes
    key_id: str
    signature: bytes

    def to_message(self) -> sync_pb2.AccessAnchor:
        """As sent in ``HelloRequest.access_anchor``."""
        return sync_pb2.AccessAnchor(
            seq=self.seq, digest=self.digest, key_id=self.key_id, signature=self.signature
        )

    @classmethod
    def from_message(cls, message: sync_pb2.AccessAnchor) -> SignedHead:
        """From ``HelloRequest.access_anchor``."""
        return cls(message.seq, bytes(message.digest), message.key_id, bytes(message.signature))

    def signed_by(self, public_key: bytes) -> bool:
        """True when the signature of the digest verifies under ``public_key``."""
        return verify(public_key, self.signature, ACCESS_CONTEXT + self.digest)


def held(conn: Connection, node_id: str) -> list[SignedHead]:
    """The heads of ``node_id``'s access record this node keeps, lowest ``seq`` first."""
    table = schema.access_anchors
    rows = conn.execute(select(table).where(table.c.node_id == node_id).order_by(table.c.seq))
    return [SignedHead(int(r.seq), bytes(r.digest), r.key_id, bytes(r.signature)) for r in rows]


def newest_seq(conn: Connection, node_id: str) -> int:
    """The ``seq`` of the newest head of ``node_id`` kept here (0: none): what the parent
    names in its answer, for the child to prove at the next round."""
    kept = held(conn, node_id)
    return kept[-1].seq if kept else 0


def _signed(head: SignedHead, child: NodeCertificate) -> bool:
    return head.key_id == child.key_id and head.signed_by(child.event_public_key)


def keep(
    batch: LogBatch, *, child: NodeCertificate, head: SignedHead, proof: SignedHead | None
) -> None:
    """Keep a child's newest signed head (a writer job); see the module docstring."""
    subject = child.node_id
    if not _signed(head, child):
        batch.raise_alert(
            AlertKind.ACCESS_RECORD,
            subject,
            f"the head of its access record (row {head.seq}) does not verify under its key",
        )
        return
    conn = batch.conn
    table = schema.access_anchors
    kept = held(conn, subject)
    newest = kept[-1] if kept else None
    if newest is not None and (
        head.seq < newest.seq or (head.seq == newest.seq and head.digest != newest.digest)
    ):
        batch.raise_alert(
            AlertKind.ACCESS_RECORD,
            subject,
            f"its access record now ends at row {head.seq} ({head.digest.hex()[:16]}…), but "
            f"it reached row {newest.seq} ({newest.digest.hex()[:16]}…) before: rows were cut "
            "or rewritten",
        )
        return
    if newest is not None and head.seq == newest.seq:
        return  # nothing new
    if newest is not None and proof is not None and proof.seq == newest.seq:
        if proof.digest == newest.digest and _signed(proof, child):
            conn.execute(delete(table).where(table.c.node_id == subject, table.c.seq == newest.seq))
        else:
            batch.raise_alert(
                AlertKind.ACCESS_RECORD,
                subject,
                f"its access record's row {newest.seq} is now {proof.digest.hex()[:16]}…, not "
                f"{newest.digest.hex()[:16]}… as it sent before: the record was rewritten",
            )
    conn.execute(
        insert(table).values(
            node_id=subject,
            seq=head.seq,
            digest=head.digest,
            key_id=head.key_id,
            signature=head.signature,
            received_ms=batch.now_ms(),
        )
    )
