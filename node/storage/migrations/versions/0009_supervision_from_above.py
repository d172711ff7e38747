"""obligations.escalate_at_ms: the next escalation a node above watches for (上级监督)

Supervision from above: a city records the escalation of a dark county's overdue duty when it
has not arrived in time, and finds those duties through this column's index. The rows already
there take their ``next_at_ms``, which is never later than their next escalation: a node above
reads such a row at most a little early, finds nothing due and leaves it; the projection writes
the exact instant at the ticket's next step.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

NOTHING_DUE = str(2**62)


def upgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.add_column(
            sa.Column("escalate_at_ms", sa.BigInteger(), server_default=NOTHING_DUE, nullable=False)
        )
    op.execute("UPDATE obligations SET escalate_at_ms = next_at_ms")
    op.create_index("ix_obligations_escalate_at_ms", "obligations", ["escalate_at_ms"])


def downgrade() -> None:
    op.drop_index("ix_obligations_escalate_at_ms", table_name="obligations")
    with op.batch_alter_table("obligations") as batch:
        batch.drop_column("escalate_at_ms")
