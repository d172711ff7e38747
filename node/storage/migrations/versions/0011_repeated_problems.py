"""alerts.repeats / last_ms and sync_problems.repeats / last_ms: a problem counted, not copied

A problem that comes back on every replication round (a tampered event pushed again and again)
raised one alert and wrote one problem row per round. Now the open alert, and the problem row,
of the same problem counts how often it was seen and when it was last seen.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-21 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("alerts", "sync_problems"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("repeats", sa.Integer(), server_default="1", nullable=False))
            batch.add_column(
                sa.Column("last_ms", sa.BigInteger(), server_default="0", nullable=False)
            )


def downgrade() -> None:
    for table in ("alerts", "sync_problems"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("last_ms")
            batch.drop_column("repeats")
