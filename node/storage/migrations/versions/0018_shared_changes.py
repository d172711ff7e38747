"""shared_changes: a generation per kind of shared state, bumped by the database on PostgreSQL

Several processes of one hub on one PostgreSQL database each hold the roster, the province's
rule book and the trust store in memory (docs/scaling.md). Triggers on the tables those are read
from bump a generation here in the very transaction that changes them; each process compares
the generations at the start of its writer transactions and reloads what changed
(``node.storage.shared_changes``). Row-level triggers, and an update that changes nothing bumps
nothing, so a replication round re-sending the certificates a node already holds costs no
reload. SQLite gets the table but no triggers: one process serves a SQLite node.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

WATCHED = {
    "roster": ("officers", "units"),
    "rules": ("rule_books",),
    "trust": ("trusted_certificates", "revocation_lists"),
}
"""Each kind of shared state and the tables it is read from (node.storage.shared_changes)."""

_BUMP = """
CREATE OR REPLACE FUNCTION hotline_shared_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE shared_changes SET generation = generation + 1 WHERE name = TG_ARGV[0];
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    table = op.create_table(
        "shared_changes",
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_shared_changes")),
    )
    op.bulk_insert(table, [{"name": kind, "generation": 0} for kind in WATCHED])
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_BUMP)
    for kind, tables in WATCHED.items():
        for name in tables:
            op.execute(
                f"CREATE TRIGGER {name}_shared_change AFTER INSERT OR DELETE ON {name} "
                f"FOR EACH ROW EXECUTE FUNCTION hotline_shared_change('{kind}')"
            )
            op.execute(
                f"CREATE TRIGGER {name}_shared_update AFTER UPDATE ON {name} FOR EACH ROW "
                "WHEN (OLD.* IS DISTINCT FROM NEW.*) "
                f"EXECUTE FUNCTION hotline_shared_change('{kind}')"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for tables in WATCHED.values():
            for name in tables:
                op.execute(f"DROP TRIGGER IF EXISTS {name}_shared_change ON {name}")
                op.execute(f"DROP TRIGGER IF EXISTS {name}_shared_update ON {name}")
        op.execute("DROP FUNCTION IF EXISTS hotline_shared_change()")
    op.drop_table("shared_changes")
