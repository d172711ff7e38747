"""Access record anchors kept above the node (访问记录锚点): the parent holds each child's head.

A node's access record is chained and signed (``core.access.record``), but whoever holds the
node's database can cut its last rows and set its head row back: what is left is a whole chain.
So at every replication round the child sends the head of its record, the last row's ``seq``
and digest with the node's own signature of that digest, in its ``Hello``; the parent checks
the signature against the child's certificate (proven by mutual TLS) and keeps the newest head
of each child in ``access_anchors``. Another administrator's database now holds what the
child's record must still contain: ``hotline audit --parent-db`` checks it, and the parent
itself raises an ``access-record`` alert when a child's head comes back lower than, or
different at, the one it kept (its record was cut, or rewritten with the node's key).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

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


def held(conn: Connection, node_id: str) -> SignedHead | None:
    """The head of ``node_id``'s access record this node keeps, if any."""
    row = conn.execute(
        select(schema.access_anchors).where(schema.access_anchors.c.node_id == node_id)
    ).one_or_none()
    if row is None:
        return None
    return SignedHead(int(row.seq), bytes(row.digest), row.key_id, bytes(row.signature))


def keep(batch: LogBatch, *, child: NodeCertificate, head: SignedHead) -> None:
    """Keep a child's newest signed head (a writer job); alert when it went back or changed."""
    subject = child.node_id
    if head.key_id != child.key_id or not head.signed_by(child.event_public_key):
        batch.raise_alert(
            AlertKind.ACCESS_RECORD,
            subject,
            f"the head of its access record (row {head.seq}) does not verify under its key",
        )
        return
    conn = batch.conn
    before = held(conn, subject)
    table = schema.access_anchors
    values = {
        "seq": head.seq,
        "digest": head.digest,
        "key_id": head.key_id,
        "signature": head.signature,
        "received_ms": batch.now_ms(),
    }
    if before is None:
        conn.execute(insert(table).values(node_id=subject, **values))
        return
    if head.seq < before.seq or (head.seq == before.seq and head.digest != before.digest):
        batch.raise_alert(
            AlertKind.ACCESS_RECORD,
            subject,
            f"its access record now ends at row {head.seq} ({head.digest.hex()[:16]}…), but "
            f"it reached row {before.seq} ({before.digest.hex()[:16]}…) before: rows were cut "
            "or rewritten; the anchor kept is the earlier one",
        )
        return
    conn.execute(update(table).where(table.c.node_id == subject).values(**values))
