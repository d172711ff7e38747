"""trust: certificates, revocations, verdicts, alerts, forks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:07:47.532967
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raised_ms", sa.BigInteger(), nullable=False),
        sa.Column("cleared_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_table(
        "fork_evidence",
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("origin_seq", sa.BigInteger(), nullable=False),
        sa.Column("other_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("held_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("peer", sa.String(length=64), nullable=False),
        sa.Column("seen_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "origin_node", "origin_seq", "other_hash", name=op.f("pk_fork_evidence")
        ),
    )
    op.create_table(
        "quarantined_origins",
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("since_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("origin_node", name=op.f("pk_quarantined_origins")),
    )
    op.create_table(
        "revocation_lists",
        sa.Column("issuer", sa.String(length=64), nullable=False),
        sa.Column("last_update_ms", sa.BigInteger(), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("issuer", name=op.f("pk_revocation_lists")),
    )
    op.create_table(
        "trusted_certificates",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("node_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_trusted_certificates")),
    )
    with op.batch_alter_table("trusted_certificates", schema=None) as batch_op:
        batch_op.create_index("ix_trusted_certificates_key_id", ["key_id"], unique=False)

    op.drop_table("node_keys")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verdict", sa.String(length=300), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("verdict")

    op.create_table(
        "node_keys",
        sa.Column("key_id", sa.VARCHAR(length=64), nullable=False),
        sa.Column("node_id", sa.VARCHAR(length=64), nullable=False),
        sa.Column("unit_code", sa.VARCHAR(length=12), nullable=False),
        sa.Column("level", sa.VARCHAR(length=16), nullable=False),
        sa.Column("public_key", sa.BLOB(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_node_keys")),
    )
    with op.batch_alter_table("trusted_certificates", schema=None) as batch_op:
        batch_op.drop_index("ix_trusted_certificates_key_id")

    op.drop_table("trusted_certificates")
    op.drop_table("revocation_lists")
    op.drop_table("quarantined_origins")
    op.drop_table("fork_evidence")
    op.drop_table("alerts")
