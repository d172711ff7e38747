"""enterprises, enterprise_users, consumer_codes; sessions.kind / scope: people outside the bureau

Enterprise users sign in under the officers' rules to the county that enrolled their
enterprise; a consumer signs in with their ticket's id and the verification code issued at
registration (kept only as a keyed hash, on the registering node). A session now says whom it
stands for: an officer, an enterprise user (scope: the credit code) or a consumer (scope: the
ticket). Issue 11, item 5.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="officer", nullable=False)
        )
        batch.add_column(
            sa.Column("scope", sa.String(length=64), server_default="", nullable=False)
        )
    op.create_table(
        "enterprises",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("enrolled_ms", sa.BigInteger(), nullable=False),
        sa.Column("enrolled_by", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("credit_code", name=op.f("pk_enterprises")),
    )
    op.create_table(
        "enterprise_users",
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_code_step", sa.BigInteger(), nullable=False),
        sa.Column("set_ms", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("credit_code", "user_id", name=op.f("pk_enterprise_users")),
    )
    op.create_table(
        "consumer_codes",
        sa.Column("ticket_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("issued_ms", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_consumer_codes")),
    )


def downgrade() -> None:
    op.drop_table("consumer_codes")
    op.drop_table("enterprise_users")
    op.drop_table("enterprises")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("scope")
        batch.drop_column("kind")
