"""tickets listed by key: (received_ms, ticket_id), newest first

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_received_ms_ticket_id", "tickets", ["received_ms", "ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_tickets_received_ms_ticket_id", table_name="tickets")
