"""PgBouncer in transaction pooling mode in front of PostgreSQL (CHARLA_DB_PGBOUNCER=true):
the schema migrates through it and a burst of concurrent store work succeeds, though every
transaction may run on another server connection. Without the mode, asyncpg's prepared
statements meet each other on the shared server connections and fail: the control."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from console.domain.types import Chat, Tenant
from console.security.crypto import DataCipher
from console.settings import Database
from console.store.db import head_revision, make_engine, migrate, schema_revision
from console.store.repository import Store
from tests.support.pgbouncer import PgBouncer, require_pgbouncer
from tests.support.postgres import PostgresCluster
from tests.support.store import new_chat, new_tenant

pytestmark = pytest.mark.postgres
BURST = 40


@pytest.fixture
def bouncer(postgres: PostgresCluster) -> Iterator[PgBouncer]:
    binary = require_pgbouncer()
    with PgBouncer(postgres, binary) as running:
        yield running


async def _start(store: Store, tenant: Tenant, n: int) -> Chat:
    """A chat start's statements (store/hot.py: asyncpg's own, reads outside a transaction)."""
    chat = await new_chat(store, tenant, text=f"m{n}")
    assert tenant == await store.get_tenant(tenant.id)
    visitor = await store.get_visitor(chat.visitor_id)
    assert visitor is not None
    assert () == visitor.pages
    assert [chat.id] == [c.id for c in await store.list_chats(visitor_id=chat.visitor_id)]
    return chat


async def _burst(store: Store) -> list[str]:
    tenant = await new_tenant(store)
    chats = await asyncio.gather(*(_start(store, tenant, n) for n in range(BURST)))
    return sorted(c.id for c in chats)


async def _bursts(store: Store, rounds: int) -> None:
    for _round in range(rounds):
        await _burst(store)


async def test_through_pgbouncer_s_transaction_pooling_the_store_works(
    postgres: PostgresCluster, bouncer: PgBouncer
) -> None:
    name = postgres.create_database(f"bouncer_{uuid.uuid4().hex[:12]}")
    engine = make_engine(bouncer.url(name), Database(pool_size=10, pgbouncer=True))
    store = Store(engine, DataCipher(DataCipher.new_key()))
    try:
        await migrate(engine)  # its advisory lock is a transaction's: PgBouncer keeps it
        assert head_revision() == await schema_revision(engine)
        for _round in range(3):
            assert BURST == len(set(await _burst(store)))
    finally:
        await store.close()


async def test_without_the_mode_asyncpg_s_prepared_statements_break_behind_pgbouncer(
    postgres: PostgresCluster, bouncer: PgBouncer
) -> None:
    name = postgres.create_database(f"bouncer_{uuid.uuid4().hex[:12]}")
    await migrate_directly(postgres.url(name))
    engine = make_engine(bouncer.url(name), Database(pool_size=10, pgbouncer=False))
    store = Store(engine, DataCipher(DataCipher.new_key()))
    try:
        with pytest.raises(Exception, match="prepared statement"):
            await _bursts(store, 3)
    finally:
        await store.close()


async def migrate_directly(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
