"""Opening the store: engine creation and schema migrations (Alembic, applied at start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from console.domain.clock import Clock, SystemClock
from console.security.crypto import DataCipher, load_or_create_secret
from console.settings import Settings
from console.store.repository import Store

MIGRATIONS = Path(__file__).parent / "migrations"
POOL_SIZE = 30  # PostgreSQL connections per process, at most


def make_engine(url: str) -> AsyncEngine:
    """An engine tuned for the backend.

    SQLite: one pooled connection (the store serialises its own writes instead of meeting
    "database is locked"), WAL, and BEGIN IMMEDIATE so that a transaction that reads and then
    writes never fails to upgrade its lock.

    Never cancel a task while it is inside a store call (a timeout around it included): with
    aiosqlite the cancelled call's connection is abandoned still holding the write lock, and
    every other writer waits for busy_timeout and fails. Stop work cooperatively, or shield
    the call.
    """
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)
        _tune_sqlite(engine)
        return engine
    # No pre-ping: asyncpg's costs three round trips (BEGIN, a ping, ROLLBACK) at every
    # checkout. A connection that died with the server fails its statement once, which
    # answers `unavailable` and invalidates every connection of the pool made before it (the
    # message writer retries such a batch once at once on a fresh connection).
    # No overflow: the pool closes an overflow connection as it comes back, so bursts opened
    # and closed connections all the time (2,067 in one bench/scale.py run with 10 + 20
    # overflow; 31 with 30 kept), each a new PostgreSQL backend. Connections open as needed
    # and stay, up to POOL_SIZE per process (docs/deploy.md sizes max_connections for it).
    return create_async_engine(
        url,
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_recycle=3600,
        skip_autocommit_rollback=True,
    )


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)


async def open_store(settings: Settings, clock: Clock | None = None) -> Store:
    """The deployment's store, its schema brought up to date: the database of
    CHARLA_DATABASE_URL with the data key of CHARLA_DATA_KEY (or the data dir's)."""
    data_key = load_or_create_secret(
        settings.data_dir, settings.data_key, "data.key", DataCipher.new_key
    )
    engine = make_engine(settings.resolved_database_url)
    await migrate(engine)
    return Store(engine, DataCipher(data_key), clock=clock or SystemClock())
