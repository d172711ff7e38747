"""officer_credentials, sessions, access_record: officers sign in (issue 11)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officer_credentials",
        sa.Column("officer_id", sa.String(length=32), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_code_step", sa.BigInteger(), nullable=False),
        sa.Column("set_ms", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("officer_id", name=op.f("pk_officer_credentials")),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("officer_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("issued_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=False),
        sa.Column("end_reason", sa.String(length=32), nullable=False),
        sa.Column("peer", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_sessions")),
    )
    op.create_index("ix_sessions_officer_id", "sessions", ["officer_id"])
    op.create_table(
        "access_record",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("officer_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("peer", sa.String(length=200), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("previous", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_access_record")),
    )
    op.create_index("ix_access_record_at_ms", "access_record", ["at_ms"])
    op.create_index("ix_access_record_officer_id", "access_record", ["officer_id"])
    op.create_table(
        "access_record_head",
        sa.Column("name", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_access_record_head")),
    )
    op.bulk_insert(
        sa.table(
            "access_record_head",
            sa.column("name", sa.String()),
            sa.column("seq", sa.BigInteger()),
            sa.column("digest", sa.LargeBinary()),
        ),
        [{"name": "head", "seq": 0, "digest": bytes(32)}],
    )


def downgrade() -> None:
    op.drop_table("access_record_head")
    op.drop_index("ix_access_record_officer_id", table_name="access_record")
    op.drop_index("ix_access_record_at_ms", table_name="access_record")
    op.drop_table("access_record")
    op.drop_index("ix_sessions_officer_id", table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("officer_credentials")
