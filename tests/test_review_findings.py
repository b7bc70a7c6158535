"""Defects found in review: each test reproduces one, through the real hub."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio

from console.domain.types import Chat
from console.hub import Hub
from console.web import admin
from console.web.keys import HUB, ORIGINS, STORE
from tests.support.harness import HubFactory, LiveHub, Peer, active_chat, eventually, start_chat
from tests.support.postgres import PostgresCluster, require_postgres


async def _one_busy_agent(
    hub: LiveHub,
) -> tuple[dict[str, Any], dict[str, Any], Peer, dict[str, Any], Peer, dict[str, Any]]:
    """An agent with one slot, busy with a first chat, and a second chat queued behind it:
    (tenant, agent, agent's peer, first chat, second visitor, second chat)."""
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"], max_chats=1)
    agent_peer = await hub.agent_peer(agent)
    first = await start_chat(await hub.visitor_peer(tenant), "Hola", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == first["id"])
    second_visitor = await hub.visitor_peer(tenant)
    second = await start_chat(second_visitor, "¿Hay alguien?", language="es")
    assert "queued" == second["status"]
    return tenant, agent, agent_peer, first, second_visitor, second


async def test_ending_a_chat_assigned_meanwhile_frees_the_agents_slot(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """end_chat reads the chat while it is queued; it is assigned before the close lands.
    The close must release the agent who holds it then, and tell that agent."""
    core: Hub = hub.app[HUB]
    tenant, agent, agent_peer, first, visitor, second = await _one_busy_agent(hub)
    original = core.visitors.own_chat

    async def read_then_assign(tenant_id: str, visitor_id: str, chat_id: str) -> Chat:
        chat = await original(tenant_id, visitor_id, chat_id)
        if chat.id == second["id"]:
            first_chat = await core.store.get_chat(first["id"])
            assert first_chat is not None
            await core.chats.close(first_chat, reason="agent_closed")  # dispatches `second`
        return chat

    monkeypatch.setattr(core.visitors, "own_chat", read_then_assign)
    assert {"ok": True} == await visitor.call("end_chat", {"chat_id": second["id"]})

    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == second["id"])
    stored = await core.store.get_chat(second["id"])
    assert stored is not None
    assert "closed" == stored.status
    assert set() == await core.state.agent_chats(tenant["id"], agent["id"])
    await agent_peer.wait_for("chat_closed", lambda d: d["chat_id"] == second["id"])


async def test_message_stored_while_its_chat_is_assigned_reaches_the_agent(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The visitor's message is handled with a snapshot of the chat taken while it was
    queued; the chat is assigned (history sent) just before the message is stored."""
    core: Hub = hub.app[HUB]
    _tenant, _agent, agent_peer, first, visitor, second = await _one_busy_agent(hub)
    original = core.store.post_message

    async def assign_then_store(chat_id: str, **kwargs: Any) -> Any:
        if chat_id == second["id"] and kwargs.get("author") == "visitor":
            first_chat = await core.store.get_chat(first["id"])
            assert first_chat is not None
            await core.chats.close(first_chat, reason="agent_closed")  # dispatches `second`
        return await original(chat_id, **kwargs)

    monkeypatch.setattr(core.store, "post_message", assign_then_store)
    ack = await visitor.call(
        "message", {"chat_id": second["id"], "text": "Busco una Tacoma", "client_msg_id": "m1"}
    )
    assert ack["ok"] is True, ack
    assigned = await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == second["id"])

    async def agent_has_it() -> bool:
        in_history = "Busco una Tacoma" in [m["text"] for m in assigned["chat"]["messages"]]
        live = agent_peer.seen("message", lambda d: d["message"]["id"] == ack["message"]["id"])
        return in_history or bool(live)

    await eventually(agent_has_it, timeout_s=2)


async def test_same_client_msg_id_from_visitor_and_agent_stores_both_messages(
    hub: LiveHub,
) -> None:
    """client_msg_id is the sender's own: the agent reusing the visitor's id loses nothing."""
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub, text="Hola")
    mine = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "¿Precio?", "client_msg_id": "1"}
    )
    reply = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "$38,500", "client_msg_id": "1"}
    )
    again = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "¿Precio?", "client_msg_id": "1"}
    )
    replay = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "$38,500", "client_msg_id": "1"}
    )

    assert ("¿Precio?", "$38,500") == (mine["message"]["text"], reply["message"]["text"])
    assert (mine, reply) == (again, replay)  # each sender's resend stays idempotent
    _status, stored = await hub.request("GET", f"/api/chats/{chat['id']}", token=agent["token"])
    assert ["Hola", "¿Precio?", "$38,500"] == [m["text"] for m in stored["messages"]]


@pytest.mark.postgres
async def test_a_grace_deadline_that_fails_in_a_database_outage_is_retried(
    make_hub: HubFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's grace period ends while the database is down: once it is back, their
    chats must still go back to the queue, not stay forever with an agent who left."""
    require_postgres()
    with PostgresCluster() as cluster:
        hub = await make_hub(
            database_url=cluster.url(cluster.create_database("grace")), agent_grace_s=0.3
        )
        core: Hub = hub.app[HUB]
        monkeypatch.setattr(core.upkeep, "deadline_retry_s", 0.2)
        _tenant, _agent, agent_peer, _visitor, chat = await active_chat(hub, text="Hola")
        await asyncio.to_thread(cluster.pause)
        await agent_peer.close()
        await asyncio.sleep(0.8)  # the deadline passes, and fails, while the store is down
        await asyncio.to_thread(cluster.resume)

        async def requeued() -> bool:
            stored = await core.store.get_chat(chat["id"])
            return stored is not None and stored.status == "queued"

        await eventually(requeued)
        await hub.close()
        await hub.server.close()


async def test_typing_to_many_chat_ids_keeps_per_connection_state_bounded(
    hub: LiveHub,
) -> None:
    core: Hub = hub.app[HUB]
    tenant = await hub.tenant()
    visitor = await hub.visitor_peer(tenant)
    for n in range(300):
        await visitor.emit("typing", {"chat_id": f"made-up-{n}", "typing": True})
    assert {"ok": True} == await visitor.call("page_view", {"url": "https://dealer.example/"})
    assert len(core.conversation.typing._last_at) <= 100
    assert sum(len(keys) for keys in core.conversation.typing._by_sid.values()) <= 100


async def test_a_connect_that_fails_midway_leaves_no_ghost_socket(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second device's connect fails after the hub counted its socket; when the agent's
    real device then leaves, the agent must stop getting chats (grace, then requeue)."""
    core: Hub = hub.app[HUB]
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    first = await hub.agent_peer(agent)
    original = core.store.list_chats
    failures: list[str] = []

    async def fail_once(**kwargs: Any) -> list[Chat]:
        if kwargs.get("agent_id") == agent["id"] and not failures:
            failures.append("list_chats")
            raise ConnectionError("store went away")
        return await original(**kwargs)

    monkeypatch.setattr(core.store, "list_chats", fail_once)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await hub.agent_peer(agent, online=False)
    assert failures

    await first.close()

    async def suspended() -> bool:
        online = await core.state.redis.sismember(
            f"{core.state.prefix(tenant['id'])}online", agent["id"]
        )
        return not online and 0 == await core.state.socket_count("agent", agent["id"])

    await eventually(suspended)


async def test_reconcile_repairs_drift_between_redis_and_the_store_after_two_passes(
    hub: LiveHub,
) -> None:
    """Failures can leave Redis disagreeing with SQL; the reconciler puts SQL's truth back,
    but only for a drift seen on two passes (an assignment in flight is not a drift)."""
    core: Hub = hub.app[HUB]
    tenant, agent, agent_peer, _first, active = await active_chat(hub, text="Hola", max_chats=1)
    second = await hub.visitor_peer(tenant)
    other = await hub.agent(tenant, languages=["es"])
    await hub.agent_peer(other, online=False)  # known to Redis, never online
    queued = await start_chat(second, "¿Hay alguien?", language="es")
    assert ("active", "queued") == (active["status"], queued["status"])

    # The drift a crash between Redis and SQL can leave behind:
    state = core.state
    assert await state.dequeue(tenant["id"], queued["id"])  # a queued chat out of the queue
    await state.release(tenant["id"], agent["id"], active["id"], now_ms=0)  # a load lost
    await state.hold(tenant["id"], other["id"], "ghost-chat")  # a load for nothing

    assert 0 == await core.upkeep.reconcile()  # seen once: could be an assignment in flight
    assert 3 == await core.upkeep.reconcile()
    assert await state.is_waiting(tenant["id"], queued["id"])
    assert {active["id"]} == await state.agent_chats(tenant["id"], agent["id"])
    assert set() == await state.agent_chats(tenant["id"], other["id"])
    assert 0 == await core.upkeep.reconcile()

    assert {"ok": True} == await agent_peer.call("close_chat", {"chat_id": active["id"]})
    got = await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == queued["id"])
    assert "active" == got["chat"]["status"]


async def test_two_tabs_starting_a_chat_at_once_share_one_chat(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    await hub.agent_peer(agent)
    tab = await hub.visitor_peer(tenant)
    visitor_id = (await tab.wait_for("session"))["visitor_id"]
    other_tab = await hub.visitor_peer(tenant, visitor_id=visitor_id)
    acks = await asyncio.gather(
        tab.call("start_chat", {"text": "Hola", "language": "es"}),
        other_tab.call("start_chat", {"text": "Hola otra vez", "language": "es"}),
    )
    assert 1 == len({ack["chat"]["id"] for ack in acks})
    status, chats = await hub.request("GET", "/api/chats", token=agent["token"])
    assert (200, 1) == (status, len(chats["chats"]))


async def test_an_after_id_beyond_any_message_id_is_invalid_payload(hub: LiveHub) -> None:
    _tenant, _agent, _agent_peer, visitor, chat = await active_chat(hub, text="Hola")
    ack = await visitor.call("sync", {"chat_id": chat["id"], "after_id": "9" * 19})
    assert "invalid_payload" == ack["error"]["code"]


async def test_a_slow_periodic_origin_refresh_cannot_undo_a_new_tenants_origin(
    hub: LiveHub,
) -> None:
    store = hub.app[STORE]
    real_list = store.list_tenants
    read_done = asyncio.Event()
    release = asyncio.Event()

    async def slow_list(*args: Any, **kwargs: Any) -> Any:
        tenants = await real_list(*args, **kwargs)
        read_done.set()
        await release.wait()  # the periodic refresh read the tenants before the new one
        return tenants

    store.list_tenants = slow_list  # type: ignore[method-assign]
    periodic = asyncio.create_task(admin.refresh_origins(hub.app))
    await read_done.wait()
    store.list_tenants = real_list  # type: ignore[method-assign]
    creating = asyncio.create_task(hub.tenant(allowed_origins=["https://new-dealer.example"]))
    await asyncio.sleep(0.2)
    release.set()
    await periodic
    await creating

    assert "https://new-dealer.example" in hub.app[ORIGINS]
