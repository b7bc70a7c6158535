"""Alembic environment.

Charla passes its own connection in (console.store.db.migrate, at each start and in `charla
migrate`), under the migrations' advisory lock. The standard `alembic` command (alembic.ini at
the repository's root) comes here without one: it opens the database of CHARLA_DATABASE_URL
(or the data dir's SQLite file) and takes the same lock.
"""

from __future__ import annotations

import asyncio
import logging.config

from alembic import context
from sqlalchemy.engine import Connection

from console.settings import Settings
from console.store.db import make_engine, run_locked
from console.store.models import Base


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone(url: str) -> None:
    engine = make_engine(url)
    try:
        await run_locked(engine, run_migrations)
    finally:
        await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
elif context.is_offline_mode():  # `alembic upgrade head --sql`: the SQL, for a DBA to run
    context.configure(
        url=Settings.from_env().resolved_database_url,
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    if context.config.config_file_name is not None:  # alembic.ini's loggers: say each step
        logging.config.fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    asyncio.run(run_standalone(Settings.from_env().resolved_database_url))
