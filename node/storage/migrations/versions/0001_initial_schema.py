"""initial schema: signed log, replication, projection, roster

Revision ID: 0001
Revises:
Create Date: 2026-11-23 09:37:25.047308
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "pos",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("origin_unit", sa.String(length=12), nullable=False),
        sa.Column("origin_seq", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("hlc", sa.BigInteger(), nullable=False),
        sa.Column("signer_key_id", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("received_from", sa.String(length=64), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
        sa.UniqueConstraint(
            "origin_node", "origin_seq", name=op.f("uq_events_origin_node_origin_seq")
        ),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_ticket_id", ["ticket_id"], unique=False)

    op.create_table(
        "feed",
        sa.Column(
            "pos",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("event_pos", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_feed")),
    )
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.create_index("ix_feed_unit_code_pos", ["unit_code", "pos"], unique=False)

    op.create_table(
        "node_keys",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_node_keys")),
    )
    op.create_table(
        "node_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_node_state")),
    )
    op.create_table(
        "officers",
        sa.Column("officer_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("roles", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("officer_id", name=op.f("pk_officers")),
    )
    op.create_table(
        "origin_heads",
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("origin_unit", sa.String(length=12), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("origin_node", name=op.f("pk_origin_heads")),
    )
    op.create_table(
        "peer_cursors",
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_peer_cursors")),
    )
    op.create_table(
        "sync_problems",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_problems")),
    )
    op.create_table(
        "ticket_fingerprints",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_ticket_fingerprints")),
    )
    op.create_table(
        "ticket_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_ticket_requests")),
    )
    op.create_table(
        "tickets",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holder_unit", sa.String(length=12), nullable=False),
        sa.Column("assigned_station", sa.String(length=12), nullable=False),
        sa.Column("registering_unit", sa.String(length=12), nullable=False),
        sa.Column("respondent_name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("dispatch_count", sa.Integer(), nullable=False),
        sa.Column("in_conflict", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_hlc", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_tickets")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_holder_unit", ["holder_unit"], unique=False)
        batch_op.create_index("ix_tickets_status", ["status"], unique=False)

    op.create_table(
        "units",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_units")),
    )


def downgrade() -> None:
    op.drop_table("units")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_status")
        batch_op.drop_index("ix_tickets_holder_unit")

    op.drop_table("tickets")
    op.drop_table("ticket_requests")
    op.drop_table("ticket_fingerprints")
    op.drop_table("sync_problems")
    op.drop_table("peer_cursors")
    op.drop_table("origin_heads")
    op.drop_table("officers")
    op.drop_table("node_state")
    op.drop_table("node_keys")
    with op.batch_alter_table("feed", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_unit_code_pos")

    op.drop_table("feed")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_ticket_id")

    op.drop_table("events")
