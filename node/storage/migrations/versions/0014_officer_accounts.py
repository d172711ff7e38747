"""officer_accounts, account_cursors: officer accounts pushed down from a city or province

Signed officer account records (issue 11, item 4), every version a node holds, and how far
they were exchanged with the parent.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officer_accounts",
        sa.Column("pos", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("officer_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("issuer_unit", sa.String(length=12), nullable=False),
        sa.Column("issuer_node", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signed", sa.LargeBinary(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_from", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_officer_accounts")),
        sa.UniqueConstraint("digest", name=op.f("uq_officer_accounts_digest")),
    )
    op.create_index("ix_officer_accounts_officer_id", "officer_accounts", ["officer_id"])
    op.create_index("ix_officer_accounts_unit_code", "officer_accounts", ["unit_code"])
    op.create_table(
        "account_cursors",
        sa.Column("peer", sa.String(length=80), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_account_cursors")),
    )


def downgrade() -> None:
    op.drop_table("account_cursors")
    op.drop_index("ix_officer_accounts_unit_code", table_name="officer_accounts")
    op.drop_index("ix_officer_accounts_officer_id", table_name="officer_accounts")
    op.drop_table("officer_accounts")
