"""odr_applications, odr_roster_records, odr_roster_cursors: the ODR green channel's roster

Applications to join the ODR channel registered at a county (issue 13, item 1), the signed
roster records every node holds (item 2), and how far they were exchanged with the parent.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "odr_applications",
        sa.Column("application_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("submitted_ms", sa.BigInteger(), nullable=False),
        sa.Column("submitted_by", sa.String(length=32), nullable=False),
        sa.Column("reviewed_ms", sa.BigInteger(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_odr_applications")),
        sa.UniqueConstraint("request_id", name=op.f("uq_odr_applications_request_id")),
    )
    op.create_index("ix_odr_applications_credit_code", "odr_applications", ["credit_code"])
    op.create_table(
        "odr_roster_records",
        sa.Column("pos", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("issuer_unit", sa.String(length=12), nullable=False),
        sa.Column("issuer_node", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("signed", sa.LargeBinary(), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("received_from", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("pos", name=op.f("pk_odr_roster_records")),
        sa.UniqueConstraint("digest", name=op.f("uq_odr_roster_records_digest")),
    )
    op.create_index("ix_odr_roster_records_credit_code", "odr_roster_records", ["credit_code"])
    op.create_table(
        "odr_roster_cursors",
        sa.Column("peer", sa.String(length=80), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_odr_roster_cursors")),
    )


def downgrade() -> None:
    op.drop_table("odr_roster_cursors")
    op.drop_index("ix_odr_roster_records_credit_code", table_name="odr_roster_records")
    op.drop_table("odr_roster_records")
    op.drop_index("ix_odr_applications_credit_code", table_name="odr_applications")
    op.drop_table("odr_applications")
