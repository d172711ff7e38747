"""tickets.odr_credit_code: the enterprise of an ODR dispute, for its list (issue 13)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 22:20:00

No ticket was an ODR dispute before this revision (no ODR event existed), so every row takes
'' and nothing is backfilled.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tickets",
        sa.Column("odr_credit_code", sa.String(length=18), nullable=False, server_default=""),
    )
    op.create_index("ix_tickets_odr_credit_code", "tickets", ["odr_credit_code"])


def downgrade() -> None:
    op.drop_index("ix_tickets_odr_credit_code", table_name="tickets")
    op.drop_column("tickets", "odr_credit_code")
