"""Alembic environment: migrations run on the connection the node hands over."""

from __future__ import annotations

from alembic import context

from node.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through node.database.migrate(url)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
