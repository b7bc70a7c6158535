"""A chat start's statements (console/store/hot.py): on PostgreSQL they run on asyncpg itself,
past SQLAlchemy's execution layer (issue 25: a burst of 200 starts in a second), and read the
same records as SQLAlchemy does; on SQLite SQLAlchemy runs the same statements."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from console.security.crypto import DataCipher
from console.store.chats import INSERT_MESSAGE
from console.store.db import make_engine, migrate
from console.store.hot import Hot, param
from console.store.models import TENANTS
from console.store.records import read_tenant
from console.store.repository import Store
from tests.support.postgres import PostgresCluster
from tests.support.store import new_chat, new_tenant


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
