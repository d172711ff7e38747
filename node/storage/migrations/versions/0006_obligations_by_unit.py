"""obligations keyed by (ticket, duty, unit): several units may owe a supervision report

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligations", recreate="always") as batch:
        batch.drop_constraint("pk_obligations", type_="primary")
        batch.create_primary_key("pk_obligations", ["ticket_id", "duty", "unit_code"])


def downgrade() -> None:
    op.execute("DELETE FROM obligations WHERE duty = 'supervision_report'")
    with op.batch_alter_table("obligations", recreate="always") as batch:
        batch.drop_constraint("pk_obligations", type_="primary")
        batch.create_primary_key("pk_obligations", ["ticket_id", "duty"])
