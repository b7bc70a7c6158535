"""Alembic environment: Charla passes its own connection in (see console.store.db.migrate)."""

from __future__ import annotations

from alembic import context

from console.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through console.store.db.migrate (charla migrate)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
