"""The throwaway PostgreSQL cluster that the store tests run on."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from console.store.db import POOL_SIZE, make_engine
from tests.support.postgres import PostgresCluster, postgres_available, require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    require_postgres()
    with PostgresCluster() as started:
        yield started


def _accepts_tcp(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_available_or_says_why() -> None:
    reason = postgres_available()
    assert reason is None or reason.strip()


async def test_select_one(cluster: PostgresCluster) -> None:
    conn = await asyncpg.connect(cluster.dsn())
    try:
        assert await conn.fetchval("SELECT 1") == 1
        assert await conn.fetchval("SHOW server_encoding") == "UTF8"
        assert await conn.fetchval("SHOW fsync") == "off"
    finally:
        await conn.close()


async def test_sqlalchemy_url(cluster: PostgresCluster) -> None:
    name = cluster.create_database("sqlalchemy_url")
    assert cluster.url(name) == f"postgresql+asyncpg://postgres@127.0.0.1:{cluster.port}/{name}"
    engine = create_async_engine(cluster.url(name))
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT current_database()"))).scalar() == name
    finally:
        await engine.dispose()


async def test_databases_are_isolated(cluster: PostgresCluster) -> None:
    first = cluster.create_database("isolated_a")
    second = cluster.create_database("isolated_b")
    conn_a = await asyncpg.connect(cluster.dsn(first))
    conn_b = await asyncpg.connect(cluster.dsn(second))
    try:
        await conn_a.execute("CREATE TABLE chats (id text PRIMARY KEY)")
        await conn_a.execute("INSERT INTO chats VALUES ('c1')")
        assert await conn_a.fetchval("SELECT count(*) FROM chats") == 1
        assert await conn_b.fetchval("SELECT to_regclass('public.chats')") is None
        await conn_b.execute("CREATE TABLE chats (id text PRIMARY KEY)")
        assert await conn_b.fetchval("SELECT count(*) FROM chats") == 0
    finally:
        await conn_a.close()
        await conn_b.close()
    cluster.drop_database(second)
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await asyncpg.connect(cluster.dsn(second))


def test_rejects_unsafe_database_names(cluster: PostgresCluster) -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        cluster.create_database('x"; DROP DATABASE postgres; --')


def test_start_and_stop_leave_nothing_behind() -> None:
    require_postgres()
    cluster = PostgresCluster()
    started = time.monotonic()
    with cluster:
        elapsed = time.monotonic() - started
        root, port = cluster.root, cluster.port
        assert root is not None
        assert port is not None
        assert (root / "data" / "PG_VERSION").is_file()
        assert (root / "data" / "postmaster.pid").is_file()
        assert _accepts_tcp(port)
        # A second cluster runs beside the first, on its own port and dir.
        with PostgresCluster() as other:
            assert other.port != port
            assert other.root != root
        print(f"PostgreSQL cluster started in {elapsed:.2f} s")
    assert cluster.root is None
    assert cluster.port is None
    assert not Path(root).exists()
    assert not _accepts_tcp(port)
    cluster.stop()  # a second stop is harmless


def test_stop_without_start_is_harmless() -> None:
    PostgresCluster().stop()


async def test_a_burst_wider_than_the_pool_reuses_its_connections(
    cluster: PostgresCluster,
) -> None:
    """Three waves of twice the pool's size of concurrent statements: they queue for the
    pool's connections instead of opening (and closing) connections of their own."""
    engine = make_engine(cluster.url(cluster.create_database("pool_burst")))
    backends: set[int] = set()

    async def statement() -> None:
        async with engine.connect() as conn:
            pid = await conn.scalar(text("SELECT pg_backend_pid() FROM pg_sleep(0.02)"))
            backends.add(pid)

    try:
        for _ in range(3):
            await asyncio.gather(*(statement() for _ in range(2 * POOL_SIZE)))
    finally:
        await engine.dispose()
    assert len(backends) <= POOL_SIZE, f"{len(backends)} connections opened"
