"""Opening the store: engine creation and schema migrations (Alembic, applied at start)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from console.domain.clock import Clock, SystemClock
from console.security.crypto import DataCipher, load_or_create_secret
from console.settings import Database, Settings
from console.store.keycheck import verify_data_key
from console.store.repository import Store

MIGRATIONS = Path(__file__).parent / "migrations"
POOL_SIZE = Database.pool_size  # PostgreSQL connections per process, at most, by default
# pg_advisory_xact_lock's key for migrations ("charlamg"): one process migrates at a time
MIGRATION_LOCK = int.from_bytes(b"charlamg", "big")


def _pgbouncer_connect_args() -> dict[str, Any]:
    """asyncpg behind PgBouncer's transaction pooling: a prepared statement lives on one
    server connection, and the next transaction may get another, so no statement is kept
    (asyncpg's cache and SQLAlchemy's both off) and each one's name is unique."""
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__charla_{uuid.uuid4().hex}__",
    }


def make_engine(url: str, database: Database | None = None) -> AsyncEngine:
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
    # and stay, up to CHARLA_DB_POOL_SIZE per process (docs/deploy.md sizes max_connections
    # for it); a caller waits up to CHARLA_DB_POOL_TIMEOUT_S for one.
    database = database or Database()
    return create_async_engine(
        url,
        pool_size=database.pool_size,
        max_overflow=0,
        pool_timeout=database.pool_timeout_s,
        pool_recycle=3600,
        skip_autocommit_rollback=True,
        connect_args=_pgbouncer_connect_args() if database.pgbouncer else {},
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


@functools.cache
def head_revision() -> str:
    """The newest migration this code knows (what /readyz expects the database to be at)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations have one head"
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every migration this code knows: a database at another one was migrated by a newer
    release (an upgrade's migration ran before its hubs started)."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(script.revision for script in scripts.walk_revisions())


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at (one cheap read of alembic_version)."""
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


async def _lock_migrations(conn: AsyncConnection) -> None:
    """PostgreSQL: wait for any other process migrating this database, until this
    transaction ends (a transaction-level lock, so PgBouncer's transaction pooling keeps it).
    Alembic reads the version after it, so the second process finds nothing left to do.
    SQLite needs none: the transaction begins IMMEDIATE, a write lock already."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


async def run_locked(engine: AsyncEngine, work: Callable[[Connection], None]) -> None:
    """`work` on one connection in one transaction, alone among migrating processes."""
    async with engine.begin() as conn:
        await _lock_migrations(conn)
        await conn.run_sync(work)


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest migration; processes starting together on one
    database take turns (the first migrates, the others find the schema at head)."""

    def upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    await run_locked(engine, upgrade)


async def open_store(settings: Settings, clock: Clock | None = None) -> Store:
    """The deployment's store, its schema brought up to date: the database of
    CHARLA_DATABASE_URL with the data key of CHARLA_DATA_KEY (or the data dir's), which must
    read the database's key check (`DataKeyMismatchError`, a `ConfigError`, if not)."""
    data_key = load_or_create_secret(
        settings.data_dir, settings.data_key, "data.key", DataCipher.new_key
    )
    engine = make_engine(settings.resolved_database_url, settings.database)
    await migrate(engine)
    store = Store(engine, DataCipher(data_key), clock=clock or SystemClock())
    try:  # one data key for one database: refuse to start with another (store/keycheck.py)
        await verify_data_key(store, None if settings.data_key else settings.data_dir)
    except BaseException:
        await store.close()
        raise
    return store
