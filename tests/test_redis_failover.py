"""Redis behind Sentinel: two `charla serve` processes find the primary through three
sentinels, and when the primary dies mid-chat (SIGKILL) and the sentinels promote the
replica, the chat goes on across the processes (routing state, and Socket.IO's fan-out
through the new primary) and the store lost nothing that was acknowledged."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import HubProcess, RemoteHub, migrate, remote
from tests.support.harness import ORIGIN, Peer, eventually, start_chat, text_is
from tests.support.postgres import PostgresCluster
from tests.support.sentinel import SentinelGroup

pytestmark = pytest.mark.postgres


@pytest.fixture
async def hubs(
    tmp_path: Path, postgres: PostgresCluster
) -> AsyncIterator[tuple[SentinelGroup, list[RemoteHub]]]:
    database = postgres.url(postgres.create_database(f"failover_{uuid.uuid4().hex}"))
    group = SentinelGroup(tmp_path / "redis")
    await asyncio.to_thread(group.start)
    await asyncio.to_thread(migrate, database, tmp_path / "migrate")
    processes = [
        HubProcess(tmp_path / name, database, "", env=group.env()).spawn() for name in "ab"
    ]
    remotes: list[RemoteHub] = []
    try:
        await asyncio.gather(*(asyncio.to_thread(p.wait_ready) for p in processes))
        remotes = [remote(p) for p in processes]
        yield group, remotes
    finally:
        for hub in remotes:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hub.close(), 5)
            await hub.http.close()
        for process in processes:
            process.kill()
        group.stop()


async def _origin_known(hub: RemoteHub) -> bool:
    async with hub.http.get(
        hub.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": ORIGIN}
    ) as response:
        return response.status == 200


async def _say(visitor: Peer, chat_id: str, text: str) -> bool:
    """Send one message as the widget would: True once acknowledged, False if refused or
    unanswered (the widget resends it with the same client id)."""
    try:
        ack = await visitor.call(
            "message", {"chat_id": chat_id, "text": text, "client_msg_id": text}, timeout_s=5
        )
    except Exception:
        return False
    if not ack["ok"]:
        assert ack["error"]["code"] in ("unavailable", "rate_limited"), ack
        await asyncio.sleep(0.2)
    return bool(ack["ok"])


async def test_a_chat_across_two_hubs_survives_the_primary_s_death_and_loses_nothing(
    hubs: tuple[SentinelGroup, list[RemoteHub]],
) -> None:
    group, (a, b) = hubs
    tenant = await a.tenant()
    await eventually(lambda: _origin_known(b), what="B knows the tenant's origin")
    agent = await a.agent(tenant, languages=["es"])
    agent_peer = await b.agent_peer(agent)  # the agent on B, the visitor on A
    visitor = await a.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola", language="es")
    await agent_peer.wait_for("chat_assigned")

    sent: list[str] = []
    for n in range(5):
        text = f"antes {n}"
        assert await _say(visitor, chat["id"], text)
        sent.append(text)
        await agent_peer.wait_for("message", text_is(text))  # A to B through the primary

    group.kill_primary()
    # messages keep being stored while the sentinels fail over; each is resent until acked
    for n in range(10):
        text = f"durante {n}"
        resend = functools.partial(_say, visitor, chat["id"], text)
        await eventually(resend, 60, f"{text!r} acknowledged")
        sent.append(text)
    await asyncio.to_thread(group.wait_for_failover)

    # live again across the processes: the fan-out found the new primary
    async def reaches_the_agent() -> bool:
        text = f"después {len(sent)}"
        if not await _say(visitor, chat["id"], text):
            return False
        sent.append(text)
        try:
            await agent_peer.wait_for("message", text_is(text), timeout_s=2)
        except AssertionError:
            return False
        return True

    await eventually(reaches_the_agent, 60, "a message from A reaching the agent on B")

    # nothing acknowledged was lost: the transcript, as either side syncs it
    expected = ["Hola", *sent]
    for peer in (visitor, agent_peer):
        synced = await peer.call("sync", {"chat_id": chat["id"]})
        assert expected == [m["text"] for m in synced["messages"]]

    # routing works on the new primary: a new visitor's chat reaches the agent
    other = await a.visitor_peer(tenant)
    second = await start_chat(other, "Buenas", language="es")
    assigned: dict[str, Any] = await agent_peer.wait_for(
        "chat_assigned", lambda e: e["chat"]["id"] == second["id"], timeout_s=15
    )
    assert "active" == assigned["chat"]["status"]
