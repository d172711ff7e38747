"""obligations: open duties with their due time and next action, for the escalation sweep

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:06:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "obligations",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("duty", sa.String(length=32), nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("due_ms", sa.BigInteger(), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("next_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("escalated_to", sa.String(length=12), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "duty", name=op.f("pk_obligations")),
    )
    op.create_index("ix_obligations_next_at_ms", "obligations", ["next_at_ms"])
    op.create_index("ix_obligations_unit_code_due_ms", "obligations", ["unit_code", "due_ms"])
    op.create_index("ix_obligations_escalated_to", "obligations", ["escalated_to"])


def downgrade() -> None:
    op.drop_index("ix_obligations_escalated_to", table_name="obligations")
    op.drop_index("ix_obligations_unit_code_due_ms", table_name="obligations")
    op.drop_index("ix_obligations_next_at_ms", table_name="obligations")
    op.drop_table("obligations")
