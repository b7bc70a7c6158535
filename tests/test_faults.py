"""Faults on the way to the store: a message is acknowledged only once it is stored.

The database going away must give `unavailable` error acks (never a crash, a closed
connection, or an ack for a message that is then lost), and the hub must recover by itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.support.harness import HubFactory, Sender, active_chat
from tests.support.postgres import PostgresCluster, require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, since the test stops it."""
    require_postgres()
    with PostgresCluster() as cluster:
        yield cluster


async def test_database_outage_refuses_messages_then_recovers_without_loss(
    make_hub: HubFactory, own_postgres: PostgresCluster
) -> None:
    url = own_postgres.url(own_postgres.create_database("faults"))
    hub = await make_hub(database_url=url)
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub, text="Hola")

    sender = Sender(chat["id"])
    acked, refused = sender.acked, sender.refused

    async def send(text: str) -> None:
        await sender.send(visitor, text)

    await send("antes")
    await asyncio.to_thread(own_postgres.pause)
    for n in range(3):
        await send(f"durante {n}")
    status, health = await hub.request("GET", "/healthz")
    assert (503, "ok") == (status, health["checks"]["redis"])
    await asyncio.to_thread(own_postgres.resume)

    await send("después")
    for text in refused:  # the visitor's widget resends what was refused
        await send(text)

    assert visitor.sio.connected
    assert agent_peer.sio.connected
    assert ["durante 0", "durante 1", "durante 2"] == refused
    synced = await visitor.call("sync", {"chat_id": chat["id"]})
    stored = [m["text"] for m in synced["messages"]]
    assert ["Hola", "antes", "después", "durante 0", "durante 1", "durante 2"] == stored
    assert set(acked) <= set(stored)
    status, _ = await hub.request("GET", "/healthz")
    assert 200 == status


async def test_a_database_restart_between_messages_costs_the_visitor_nothing(
    make_hub: HubFactory, own_postgres: PostgresCluster
) -> None:
    """The pool's connections all died with the server; the next message is stored anyway
    (its batch is written again on a new connection), not refused."""
    url = own_postgres.url(own_postgres.create_database("restart"))
    hub = await make_hub(database_url=url)
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub, text="Hola")
    await asyncio.to_thread(own_postgres.pause)
    await asyncio.to_thread(own_postgres.resume)
    ack = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "después", "client_msg_id": "d"}, timeout_s=30
    )
    assert ack["ok"] is True, ack
    delivered = await agent_peer.wait_for("message", lambda d: d["message"]["text"] == "después")
    assert ack["message"]["id"] == delivered["message"]["id"]
    synced = await visitor.call("sync", {"chat_id": chat["id"]})
    assert ["Hola", "después"] == [m["text"] for m in synced["messages"]]


async def test_after_a_database_restart_a_chat_start_is_refused_at_most_once(
    make_hub: HubFactory, own_postgres: PostgresCluster
) -> None:
    """A start's statements run on asyncpg itself (console/store/hot.py): a pooled connection
    that died with the server still becomes SQLAlchemy's error, which answers `unavailable`
    and empties the pool of connections as old; the widget's retry then starts the chat."""
    url = own_postgres.url(own_postgres.create_database("restart_start"))
    hub = await make_hub(database_url=url)
    tenant, _agent, _agent_peer, _visitor, _chat = await active_chat(hub, text="Hola", max_chats=5)
    newcomer = await hub.visitor_peer(tenant)
    await asyncio.to_thread(own_postgres.pause)
    await asyncio.to_thread(own_postgres.resume)

    acks = []
    for _ in range(3):
        ack = await newcomer.call("start_chat", {"text": "Hola otra vez"}, timeout_s=30)
        acks.append(ack)
        if ack["ok"]:
            break
    assert acks[-1]["ok"] is True, acks
    assert len(acks) <= 2, acks
    assert all(a["error"]["code"] == "unavailable" for a in acks[:-1]), acks
    assert newcomer.sio.connected
    synced = await newcomer.call("sync", {"chat_id": acks[-1]["chat"]["id"]})
    assert ["Hola otra vez"] == [m["text"] for m in synced["messages"]]
