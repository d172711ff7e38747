"""The tables of the signed log and of replication (SQLAlchemy Core), and the shared MetaData.

``events`` is append-only: a row is never updated or deleted; ``pos`` is this node's local
arrival order, the rest is read out of the signed envelope that the row keeps verbatim.
An event that arrived with a good chain link but did not count (its signer revoked, no
authority for the step) is kept as evidence with a non-empty ``verdict``, so the chain stays
whole; everything that folds tickets reads only events whose verdict is empty.
``origin_heads`` records how far this node holds each complete chain (its own, and those of its
subtree, which flow up whole). ``feed`` is the jurisdiction feed that children pull: one row per
event a child unit must see, in the order the parent learnt it must. ``peer_cursors`` is where a
child records how far it has pulled, in the same transaction as the pulled events.
The node runtime keeps its own tables (views, roster, rule books) on its own ``MetaData``
(``node.storage.tables``); one Alembic history covers both.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}
"""How constraints and indexes are named, on every ``MetaData`` of a node's database."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""The log's and replication's tables."""

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants 64 bits.
AutoPosition = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("pos", AutoPosition, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False, unique=True),
    Column("origin_node", String(64), nullable=False),
    Column("origin_unit", String(12), nullable=False),
    Column("origin_seq", BigInteger, nullable=False),
    Column("prev_hash", LargeBinary(32), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("ticket_id", String(64), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("hlc", BigInteger, nullable=False),
    Column("signer_key_id", String(64), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("received_from", String(64), nullable=False, server_default=""),
    Column("verdict", String(300), nullable=False, server_default=""),
    UniqueConstraint("origin_node", "origin_seq"),
    Index("ix_events_ticket_id", "ticket_id"),
)

origin_heads = Table(
    "origin_heads",
    metadata,
    Column("origin_node", String(64), primary_key=True),
    Column("origin_unit", String(12), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
)

trusted_certificates = Table(
    "trusted_certificates",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("key_id", String(64), nullable=False, server_default=""),
    Column("node_id", String(64), nullable=False, server_default=""),
    Column("unit_code", String(12), nullable=False),
    Column("der", LargeBinary, nullable=False),
    Index("ix_trusted_certificates_key_id", "key_id"),
)

revocation_lists = Table(
    "revocation_lists",
    metadata,
    Column("issuer", String(64), primary_key=True),
    Column("last_update_ms", BigInteger, nullable=False),
    Column("der", LargeBinary, nullable=False),
)

node_state = Table(
    "node_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

peer_cursors = Table(
    "peer_cursors",
    metadata,
    Column("peer", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

feed = Table(
    "feed",
    metadata,
    Column("pos", AutoPosition, primary_key=True, autoincrement=True),
    Column("unit_code", String(12), nullable=False),
    Column("event_pos", BigInteger, nullable=False),
    Index("ix_feed_unit_code_pos", "unit_code", "pos"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", AutoPosition, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("raised_ms", BigInteger, nullable=False),
    Column("cleared_ms", BigInteger, nullable=False, server_default="0"),
    Column("repeats", Integer, nullable=False, server_default="1"),
    Column("last_ms", BigInteger, nullable=False, server_default="0"),
)

access_anchors = Table(
    "access_anchors",
    metadata,
    Column("node_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("digest", LargeBinary, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
)
"""Heads of each child's access record, signed by the child (``sync.access_anchors``): the
newest, and any earlier one the child has not shown its record still holds. What ``hotline
audit --parent-db`` checks the child's record against."""

fork_evidence = Table(
    "fork_evidence",
    metadata,
    Column("origin_node", String(64), primary_key=True),
    Column("origin_seq", BigInteger, primary_key=True),
    Column("other_hash", LargeBinary(32), primary_key=True),
    Column("held_hash", LargeBinary(32), nullable=False),
    Column("envelope", LargeBinary, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("peer", String(64), nullable=False),
    Column("seen_ms", BigInteger, nullable=False),
)

quarantined_origins = Table(
    "quarantined_origins",
    metadata,
    Column("origin_node", String(64), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("since_ms", BigInteger, nullable=False),
)

sync_problems = Table(
    "sync_problems",
    metadata,
    Column("id", AutoPosition, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False),
    Column("origin_node", String(64), nullable=False),
    Column("peer", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("recorded_ms", BigInteger, nullable=False),
    Column("repeats", Integer, nullable=False, server_default="1"),
    Column("last_ms", BigInteger, nullable=False, server_default="0"),
)

personal_seals = Table(
    # A ticket's personal data, sealed (个人信息密文), beside the log and never inside it: the
    # signed registration holds only a commitment, so deleting this row erases the data and
    # leaves every signature whole (docs/protocol.md, "Personal data"). The ticket's data key is
    # kept wrapped under one of this node's key-encryption keys (``kek_id``).
    "personal_seals",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("suite", String(24), nullable=False),
    Column("commitment", LargeBinary(32), nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("kek_id", String(32), nullable=False),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("stored_ms", BigInteger, nullable=False),
    Index("ix_personal_seals_kek_id", "kek_id"),
)

personal_lookups = Table(
    # Keyed digests of a ticket's filer (关联键: normalized phone and ID number under the
    # province's look-up key), for duplicate, group and claimant detection; written with the
    # seal, deleted with it, re-keyed when the key rotates (``key_id``).
    "personal_lookups",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("phone_key", String(32), nullable=False),
    Column("id_key", String(32), nullable=False),
    Index("ix_personal_lookups_key_id", "key_id"),
)
