"""personal_seals.stored_ms indexed: the look-up job finds seals without look-ups by it

The look-up re-keying job (node.jobs.lookup_rekey) searched every round for the seals that
have no look-ups yet (those taken in by replication) with an anti-join of the whole seal table
against the whole look-up table: seconds of database work every 30 s at a million tickets,
with nothing to find. It now looks only at the seals stored since its last finished round
(less a margin), by this index; its first round after a start still looks at all of them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 14:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_personal_seals_stored_ms", "personal_seals", ["stored_ms"])


def downgrade() -> None:
    op.drop_index("ix_personal_seals_stored_ms", table_name="personal_seals")
