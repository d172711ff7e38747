"""A look-up row under no key for every seal held without look-ups

The look-up re-keying job (node.jobs.lookup_rekey) searched every round for the seals without
look-ups (those taken in by replication) with an anti-join of the whole seal table against the
whole look-up table: seconds of database work every 30 s at a million tickets, with nothing to
find. A seal taken in now gets a look-up row under no key (``sync.personal.shelf.UNKEYED``,
no digests), which the job finds by the index on ``key_id`` like a row under an old key; this
revision gives one to every seal already held without look-ups, once.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 14:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO personal_lookups (ticket_id, key_id, phone_key, id_key) "
            "SELECT s.ticket_id, '', '', '' FROM personal_seals s "
            "LEFT JOIN personal_lookups l ON l.ticket_id = s.ticket_id "
            "WHERE l.ticket_id IS NULL"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM personal_lookups WHERE key_id = ''"))
