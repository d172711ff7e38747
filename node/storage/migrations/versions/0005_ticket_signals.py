"""ticket_signals: comparable facts and marks of each ticket, for incident detection and queues

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_signals",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("holder_unit", sa.String(length=12), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("respondent_key", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("respondent_name", sa.String(length=200), nullable=False),
        sa.Column("phone_key", sa.String(length=32), nullable=False),
        sa.Column("id_key", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=64), nullable=False),
        sa.Column("incident_key", sa.String(length=300), nullable=False),
        sa.Column("incident_to", sa.String(length=12), nullable=False),
        sa.Column("emergency_to", sa.String(length=12), nullable=False),
        sa.Column("emergency_reasons", sa.String(length=500), nullable=False),
        sa.Column("claimant", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_signals")),
    )
    op.create_index("ix_ticket_signals_received_ms", "ticket_signals", ["received_ms"])
    op.create_index("ix_ticket_signals_incident_to", "ticket_signals", ["incident_to"])
    op.create_index("ix_ticket_signals_emergency_to", "ticket_signals", ["emergency_to"])
    # The view is filled from the tickets already held: a node upgraded in place computes it
    # with ``hotline projection rebuild`` (tickets registered from now on get their rows at once).


def downgrade() -> None:
    op.drop_index("ix_ticket_signals_emergency_to", table_name="ticket_signals")
    op.drop_index("ix_ticket_signals_incident_to", table_name="ticket_signals")
    op.drop_index("ix_ticket_signals_received_ms", table_name="ticket_signals")
    op.drop_table("ticket_signals")
