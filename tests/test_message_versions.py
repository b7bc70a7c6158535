"""The message writer checks each message against its chat as last read, and on PostgreSQL
writes a batch in one statement only if the chat is unchanged since (console/store/
messages_pg.py): what another hub process did to the chat meanwhile is never missed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from console.domain.errors import ProtocolError
from console.hub.visitors import writable
from console.store.db import make_engine
from console.store.messages import TRIES
from console.store.messages_pg import AsyncpgRound
from console.store.repository import Store
from tests.test_store import dealer, new_agent, new_chat


@pytest.fixture
async def other_hub(store: Store, database_url: str) -> AsyncIterator[Store]:
    """A second process's store on the same database and data key."""
    other = Store(make_engine(database_url), store.cipher)
    yield other
    await other.close()


async def test_a_chat_assigned_by_another_process_is_seen_by_the_next_message(
    store: Store, other_hub: Store
) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    agent = await new_agent(store, tenant, "ana@d.example")
    chat, _, _ = await new_chat(store, tenant, visitor.id)
    _, _, before = await store.post_message(chat.id, author="visitor", text="uno")
    assert before is not None
    assert before.agent_id is None

    assert await other_hub.assign_chat(chat.id, agent.id, overflowed=False) is not None
    _, created, seen = await store.post_message(chat.id, author="visitor", text="dos")
    assert created
    assert seen is not None
    assert (agent.id, "active") == (seen.agent_id, seen.status), "delivered to whom has it"
    stale = store.messages.stale_chats
    await store.post_message(chat.id, author="visitor", text="tres")
    assert stale == store.messages.stale_chats, "read again once, then known"
    assert ["Hola", "uno", "dos", "tres"] == [m.text for m in await store.list_messages(chat.id)]


async def test_a_chat_closed_by_another_process_refuses_the_visitor_s_next_message(
    store: Store, other_hub: Store
) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    chat, _, _ = await new_chat(store, tenant, visitor.id)
    check = writable(tenant.id, visitor.id, chat.id)
    await store.post_message(chat.id, author="visitor", text="uno", check=check)

    await other_hub.close_chat(chat.id, "agent_closed")
    with pytest.raises(ProtocolError) as refused:
        await store.post_message(chat.id, author="visitor", text="dos", check=check)
    assert "closed" == refused.value.code
    assert ["Hola", "uno"] == [m.text for m in await store.list_messages(chat.id)]


async def test_an_agent_s_first_reply_is_marked_once_and_the_chat_stays_known(
    store: Store,
) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    agent = await new_agent(store, tenant, "ana@d.example")
    chat, _, _ = await new_chat(store, tenant, visitor.id)
    await store.assign_chat(chat.id, agent.id, overflowed=False)
    await store.post_message(
        chat.id, author="agent", text="susurro", agent_id=agent.id, whisper=True
    )
    quiet = await store.get_chat(chat.id)
    assert quiet is not None
    assert quiet.first_agent_reply_at is None, "a whisper is no reply"

    stale = store.messages.stale_chats
    _, _, first = await store.post_message(
        chat.id, author="agent", text="¡Hola!", agent_id=agent.id
    )
    _, _, second = await store.post_message(
        chat.id, author="agent", text="¿Cómo?", agent_id=agent.id
    )
    replied = await store.get_chat(chat.id)
    assert replied is not None
    assert replied.first_agent_reply_at is not None
    assert first is not None
    assert first.first_agent_reply_at is None, "the chat as the first reply's batch saw it"
    assert second is not None
    assert replied.first_agent_reply_at == second.first_agent_reply_at
    assert stale == store.messages.stale_chats, "its own update leaves the chat known"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_chat_that_changes_before_every_try_is_written_by_the_locked_last_one(
    store: Store, other_hub: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await dealer(store)
    visitor = await store.visitor_arrives(tenant.id, None)
    chat, _, _ = await new_chat(store, tenant, visitor.id)
    await store.post_message(chat.id, author="visitor", text="uno")
    write = AsyncpgRound.write
    tries: list[bool] = []

    async def changed_first(self: AsyncpgRound, rows: Any, at: Any) -> Any:
        tries.append(self.locked)
        if not self.locked:  # another process updates the chat between read and write
            async with other_hub.engine.begin() as conn:
                await conn.execute(
                    text("UPDATE chats SET priority = priority + 1 WHERE id = :id"),
                    {"id": chat.id},
                )
        return await write(self, rows, at)

    monkeypatch.setattr(AsyncpgRound, "write", changed_first)
    stale = store.messages.stale_chats
    message, created, seen = await store.post_message(
        chat.id, author="visitor", text="dos", client_msg_id="d"
    )
    assert [False] * (TRIES - 1) + [True] == tries
    assert TRIES - 1 == store.messages.stale_chats - stale
    assert created
    assert seen is not None
    assert TRIES - 1 == seen.priority, "the chat as the locked try read it"
    assert ["Hola", "uno", "dos"] == [m.text for m in await store.list_messages(chat.id)]
    assert message.id == (await store.list_messages(chat.id))[-1].id
