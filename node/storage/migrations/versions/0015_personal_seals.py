"""personal_seals and personal_lookups: personal data sealed beside the log (protocol 2)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_seals",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("suite", sa.String(length=24), nullable=False),
        sa.Column("commitment", sa.LargeBinary(length=32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("kek_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("stored_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_personal_seals")),
    )
    op.create_index("ix_personal_seals_kek_id", "personal_seals", ["kek_id"])
    op.create_table(
        "personal_lookups",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("phone_key", sa.String(length=32), nullable=False),
        sa.Column("id_key", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_personal_lookups")),
    )
    op.create_index("ix_personal_lookups_key_id", "personal_lookups", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_personal_lookups_key_id", table_name="personal_lookups")
    op.drop_table("personal_lookups")
    op.drop_index("ix_personal_seals_kek_id", table_name="personal_seals")
    op.drop_table("personal_seals")
