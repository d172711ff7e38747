"""Alembic environment: migrations run on the connection the node hands over."""

from __future__ import annotations

from alembic import context

from node.storage.tables import ALL_METADATA

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through node.storage.database.migrate(url)")
context.configure(connection=connection, target_metadata=list(ALL_METADATA), render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
