"""ticket_signals.change_seq: the storing order of the rows; filer and business keys indexed

The province's claimant search (province_hub.claimants) and the city's group search
(city_node.group_complaints) looked at every row of their 30-day lookback each round; they now
look only at the filers or businesses of rows written since their last round (by
``change_seq``, ascending with every write) and read those rows by their keys. Rows written
before this revision have 0: a search's first round after a start is a full pass anyway.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_ticket_signals_change_seq": "change_seq",
    "ix_ticket_signals_phone_key": "phone_key",
    "ix_ticket_signals_id_key": "id_key",
    "ix_ticket_signals_respondent_key": "respondent_key",
    "ix_ticket_signals_name_key": "name_key",
}


def upgrade() -> None:
    op.add_column(
        "ticket_signals",
        sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0"),
    )
    for name, column in INDEXES.items():
        op.create_index(name, "ticket_signals", [column])


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="ticket_signals")
    with op.batch_alter_table("ticket_signals") as batch:  # SQLite drops a column by copying
        batch.drop_column("change_seq")
