"""A dispatch run records the chats it gives in one transaction and reads their histories
in one query of each kind (console/hub/dispatch.py, issue 25): a burst of starts gives a
run many chats, and a transaction and four reads per chat kept a hub's core busy (200
starts in a second: p99 from `start_chat` to `chat_assigned` 0.6 s). Counted on the
hub's own engine and its hot statements (asyncpg's own on PostgreSQL, store/hot.py), the
statements that name a run's chats or visitors: as many for twelve chats as for three.
And each chat's `chat_assigned` still carries its own history."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from console.domain.leads import LeadIn
from console.domain.types import Chat, Tenant
from console.hub import Hub
from console.store.hot import Hot, HotConnection
from console.web.keys import HUB
from tests.support.harness import HubFactory, chat_is
from tests.support.store import new_chat


async def queued_chats(core: Hub, tenant: Tenant, count: int) -> list[Chat]:
    chats = []
    for n in range(count):
        chat = await new_chat(core.store, tenant, text=f"Hola, soy el visitante {n}")
        await core.dispatcher.enqueue(chat)
        chats.append(chat)
    return chats


async def test_a_dispatch_run_reads_and_writes_once_for_all_the_chats_it_gives(
    make_hub: HubFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = await make_hub(database_url=database_url)
    core: Hub = hub.app[HUB]
    statements: list[str] = []
    watched: set[str] = set()

    def seen(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if any(key in str(params) for key in watched):
            statements.append(statement)

    event.listen(core.store.engine.sync_engine, "before_cursor_execute", seen)
    hot_rows = HotConnection.rows

    async def counted(self: HotConnection, hot: Hot, **params: Any) -> list[Any]:
        if self.pg is not None:  # asyncpg's own (on SQLite SQLAlchemy runs it: seen above)
            seen(None, None, str(hot.statement), params)
        return await hot_rows(self, hot, **params)

    monkeypatch.setattr(HotConnection, "rows", counted)

    counts = {}
    for count in (3, 12):
        tenant = await hub.tenant()
        store_tenant = await core.store.get_tenant(tenant["id"])
        assert store_tenant is not None
        agent = await hub.agent(tenant, languages=["es"], max_chats=20)
        peer = await hub.agent_peer(agent, online=False)
        chats = await queued_chats(core, store_tenant, count)
        await core.store.add_page_view(
            chats[0].visitor_id, url="https://dealer.example/tacoma", title="Tacoma", referrer=None
        )
        await core.store.leads.save(
            store_tenant,
            chats[1],
            LeadIn(first_name="Ana", phone="787-555-0101"),
            source="bot",
            agent_id=None,
        )
        watched.clear()
        watched.update(c.id for c in chats)
        watched.update(c.visitor_id for c in chats)
        statements.clear()

        # the agent comes online: one run gives them every waiting chat
        assert {"ok": True, "status": "online"} == await peer.call(
            "set_status", {"status": "online"}
        )
        wires = [await peer.wait_for("chat_assigned", chat_is(c.id)) for c in chats]
        counts[count] = len(statements)

        for n, (chat, wire) in enumerate(zip(chats, wires, strict=True)):
            assert "active" == wire["chat"]["status"]
            assert [f"Hola, soy el visitante {n}"] == [m["text"] for m in wire["chat"]["messages"]]
            assert chat.visitor_id == wire["chat"]["visitor"]["id"]
        assert ["https://dealer.example/tacoma"] == [
            p["url"] for p in wires[0]["chat"]["visitor"]["pages"]
        ]
        assert [] == wires[1]["chat"]["visitor"]["pages"]
        assert "Ana" == wires[1]["chat"]["lead"]["first_name"]
        assert all("lead" not in w["chat"] for n, w in enumerate(wires) if n != 1)
        for chat in chats:
            stored = await core.store.get_chat(chat.id)
            assert stored is not None
            assert ("active", agent["id"]) == (stored.status, stored.agent_id)

    # the assignment's update, then the visitors, their pages, the transcripts and the
    # leads: a handful for three chats, and the same handful for twelve
    assert counts[3] == counts[12], counts
    assert 5 == counts[12], counts
