"""A chat start's statements (console/store/hot.py): on PostgreSQL they run on asyncpg itself,
past SQLAlchemy's execution layer (issue 25: a burst of 200 starts in a second), and read the
same records as SQLAlchemy does; on SQLite SQLAlchemy runs the same statements."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from console.security.crypto import DataCipher
from console.settings import Database
from console.store.chats import INSERT_MESSAGE
from console.store.db import make_engine, migrate
from console.store.hot import PREPARED_AT_START, Hot, param, raw_connection
from console.store.leads import LEADS_OF_CHATS
from console.store.models import TENANTS
from console.store.records import read_tenant
from console.store.repository import Store
from tests.support.postgres import PostgresCluster
from tests.support.store import new_agent, new_chat, new_tenant


async def test_a_start_s_statements_skip_sqlalchemy_on_postgresql_and_read_the_same(
    store: Store, database_url: str
) -> None:
    through_sqlalchemy: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        through_sqlalchemy.append(statement)

    tenant = await new_tenant(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    await store.add_page_view(visitor.id, url="https://dealer.example/a", title="A", referrer=None)
    await store.add_page_view(visitor.id, url="https://dealer.example/b", title=None, referrer=None)

    event.listen(store.engine.sync_engine, "before_cursor_execute", seen)
    read = await store.get_tenant(tenant.id)
    chat, message, _ = await store.start_chat(
        tenant_id=tenant.id,
        visitor_id=visitor.id,
        language="es",
        status="queued",
        text="Hola, ¿tienen la Tacoma?",
        client_msg_id="c-1",
    )
    seen_visitor = await store.get_visitor(visitor.id)
    open_chats = await store.list_chats(visitor_id=visitor.id)
    event.remove(store.engine.sync_engine, "before_cursor_execute", seen)

    if database_url.startswith("postgresql"):
        assert [] == through_sqlalchemy
    else:  # the same statements, through SQLAlchemy
        assert 5 <= len(through_sqlalchemy), through_sqlalchemy

    # the records are those SQLAlchemy reads: the tenant, the chat, the pages in order
    async with store.engine.connect() as conn:
        core = (await conn.execute(select(TENANTS).where(TENANTS.c.id == tenant.id))).one()
    assert read_tenant(core) == read
    assert [chat] == open_chats
    assert chat == await store.get_chat(chat.id)
    assert seen_visitor is not None
    assert ["https://dealer.example/a", "https://dealer.example/b"] == [
        p.url for p in seen_visitor.pages
    ]
    assert seen_visitor.pages[0].viewed_at.tzinfo is not None
    stored = await store.list_messages(chat.id)
    assert [(message.id, "Hola, ¿tienen la Tacoma?", "c-1")] == [
        (m.id, m.text, m.client_msg_id) for m in stored
    ]


async def test_a_hot_statement_without_one_of_its_parameters_names_it(store: Store) -> None:
    """Not a column's default filled in quietly: asyncpg's way says which parameter is
    missing, SQLite's refuses the NULL in the column."""
    chat = await new_chat(store, await new_tenant(store))
    with pytest.raises((KeyError, IntegrityError), match="whisper"):
        async with store.hot.transaction() as db:
            await db.row(
                INSERT_MESSAGE,
                chat_id=chat.id,
                author="visitor",
                sender="visitor",
                text_enc="x",
                client_msg_id=None,
                created_at=chat.created_at,
            )


async def test_a_hot_read_cancelled_mid_flight_leaves_no_task_and_a_working_pool(
    postgres: PostgresCluster,
) -> None:
    """A task stopped while its statement runs (the hub's background work at shutdown):
    asyncpg's cancel request must not outlive the connection, and the pool still serves."""
    engine = make_engine(postgres.url(postgres.create_database(f"hot_{uuid.uuid4().hex[:8]}")))
    await migrate(engine)
    store = Store(engine, DataCipher(DataCipher.new_key()))
    try:
        slow = Hot(select(func.pg_sleep(param("seconds"))))
        reading = asyncio.create_task(store.hot.rows(slow, seconds=5))
        await asyncio.sleep(0.3)  # the statement is running
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        for _ in range(3):  # a cancelled task's last turns, not a cancel request's round trips
            await asyncio.sleep(0)
        pending = [t for t in asyncio.all_tasks() if "Connection._cancel" in repr(t.get_coro())]
        assert [] == pending
        tenant = await new_tenant(store)
        assert tenant == await store.get_tenant(tenant.id)
    finally:
        await store.close()


async def _fresh_store(postgres: PostgresCluster, **engine: Any) -> Store:
    url = postgres.url(postgres.create_database(f"hot_{uuid.uuid4().hex[:8]}"))
    store = Store(make_engine(url, Database(**engine)), DataCipher(DataCipher.new_key()))
    await migrate(store.engine)
    await store.engine.dispose()  # the migration's connection gone: the pool starts empty
    return store


def _count_type_lookups(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The types asyncpg looks up in the catalog from now on (each a query of its own)."""
    lookups: list[Any] = []
    introspect = asyncpg.Connection._introspect_types

    async def counted(self: asyncpg.Connection, *args: Any, **kwargs: Any) -> Any:
        lookups.append(args[0])
        return await introspect(self, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "_introspect_types", counted)
    return lookups


async def test_a_list_of_ids_costs_a_fresh_connection_no_type_lookup(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatch run's lists of chat ids are text[]: asyncpg decodes that type by itself,
    where a varchar(36)[] took a catalog query on each new connection's first use (8-12 ms,
    paid again on every connection a burst of starts grew the pool to)."""
    store = await _fresh_store(postgres)
    try:
        tenant = await new_tenant(store)
        chats = [await new_chat(store, tenant) for _ in range(3)]
        agent = await new_agent(store, tenant)
        await store.engine.dispose()  # fresh connections from here on
        lookups = _count_type_lookups(monkeypatch)
        ids = [chat.id for chat in chats]
        first = await store.first_messages(ids, limit=5)
        assigned = await store.assign_chats([(chat_id, agent.id, False) for chat_id in ids])
        leads = await store.hot.rows(LEADS_OF_CHATS, ids=ids, tenant_id=tenant.id)
    finally:
        await store.close()
    assert [] == lookups
    assert set(ids) == set(first)
    assert all(["Hola"] == [m.text for m in first[i]] for i in ids)
    assert {(i, "active", agent.id) for i in ids} == {
        (chat.id, chat.status, chat.agent_id) for chat in assigned.values()
    }
    assert [] == leads


async def test_warming_opens_connections_with_every_hot_read_prepared(
    postgres: PostgresCluster,
) -> None:
    """Connections opened at the hub's start, each with the hot reads in asyncpg's statement
    cache: a burst right after the start finds them ready (docs/performance.md, issue 25)."""
    store = await _fresh_store(postgres, pool_size=4)
    try:
        assert 0 == store.engine.pool.checkedin()  # type: ignore[attr-defined]
        assert 3 == await store.hot.warm(3)
        assert 3 == store.engine.pool.checkedin()  # type: ignore[attr-defined]
        reads = {hot.compiled(store.engine.dialect).sql for hot in Hot.made if hot.reads}
        assert any("ANY ($1::TEXT[])" in sql for sql in reads)
        async with AsyncExitStack() as stack:
            held = [await stack.enter_async_context(raw_connection(store.engine)) for _ in range(3)]
            for _conn, pg in held:
                prepared = {r["statement"] for r in await pg.fetch(PREPARED)}
                assert reads <= prepared, reads - prepared
        assert 4 == await store.hot.warm(10)  # no more connections than the pool's
        tenant = await new_tenant(store)  # the warmed pool serves
        assert tenant == await store.get_tenant(tenant.id)
    finally:
        await store.close()


async def test_a_warmed_connection_writes_messages_with_no_type_lookup(
    postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message writer's statements are readied too: the first messages after a start
    wait for no catalog query (their timestamps' and booleans' arrays are looked up once
    per connection, at the warm-up)."""
    store = await _fresh_store(postgres, pool_size=1)
    try:
        chat = await new_chat(store, await new_tenant(store))
        await store.engine.dispose()
        assert 1 == await store.hot.warm(1)
        lookups = _count_type_lookups(monkeypatch)
        message, created, current = await store.post_message(
            chat.id, author="visitor", text="¿Y el precio?", client_msg_id="m-1"
        )
        again, created_again, _ = await store.post_message(
            chat.id, author="visitor", text="¿Y el precio?", client_msg_id="m-1"
        )
    finally:
        await store.close()
    assert [] == lookups
    assert (True, chat.id) == (created, current and current.id)
    assert (False, message.id) == (created_again, again.id)  # a resend: the stored copy


async def test_a_warmed_connection_parses_no_statement_for_its_first_messages(
    postgres: PostgresCluster,
) -> None:
    """Every statement a message's write runs is in asyncpg's cache from the warm-up: the
    first messages after a start add no prepared statement (a Parse round trip each) on the
    connection, and the warm-up's runs of the writes left no row behind."""
    store = await _fresh_store(postgres, pool_size=1)
    try:
        chat = await new_chat(store, await new_tenant(store))
        before = [m.id for m in await store.list_messages(chat.id)]
        await store.engine.dispose()
        assert 1 == await store.hot.warm(1)

        async def prepared() -> set[str]:
            async with raw_connection(store.engine) as (_conn, pg):
                return {r["statement"] for r in await pg.fetch(PREPARED)}

        ready = await prepared()
        assert set(PREPARED_AT_START) <= ready, set(PREPARED_AT_START) - ready
        for n in range(2):
            await store.post_message(
                chat.id, author="visitor", text="¿Y el precio?", client_msg_id=f"m-{n}"
            )
        assert set() == await prepared() - ready - {PREPARED}
        after = await store.list_messages(chat.id)
        assert before == [m.id for m in after][: len(before)]
        assert ["m-0", "m-1"] == [m.client_msg_id for m in after][len(before) :]
    finally:
        await store.close()


async def test_warming_is_nothing_on_sqlite(tmp_path: Path) -> None:
    store = Store(
        make_engine(f"sqlite+aiosqlite:///{tmp_path / 'w.sqlite3'}"),
        DataCipher(DataCipher.new_key()),
    )
    try:
        await migrate(store.engine)
        assert 0 == await store.hot.warm(10)
    finally:
        await store.close()


PREPARED = "SELECT statement FROM pg_prepared_statements WHERE NOT from_sql"
