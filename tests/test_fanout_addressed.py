"""Process-addressed fan-out, on two real hub processes: an emit reaches, through Redis, only
the processes that hold a member of its room (console/realtime/holders.py). A process with
no member of a chat's rooms reads none of its traffic; once it holds one (the agent's second
tab), it gets that chat's events on its own channel, and nobody else does."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from console.realtime.holders import PROCESS_CHANNEL_PREFIX
from tests.support.cluster import HubProcess, RedisServer, RemoteHub, migrate, remote
from tests.support.harness import ORIGIN, chat_is, eventually, start_chat, text_is
from tests.support.postgres import PostgresCluster

pytestmark = pytest.mark.postgres


class Tap:
    """Every message published on the fan-out's channels, as (channel, payload)."""

    def __init__(self, url: str) -> None:
        self.client = Redis.from_url(url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.seen: list[tuple[str, str]] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.pubsub.psubscribe("charla:socketio*")
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "pmessage":
                self.seen.append((message["channel"].decode(), message["data"].decode()))

    def carrying(self, needle: str) -> list[str]:
        """The channels of the messages that carried `needle`."""
        return [channel for channel, payload in self.seen if needle in payload]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.pubsub.aclose()
        await self.client.aclose()


@pytest.fixture
async def two_hubs(
    postgres: PostgresCluster, tmp_path: Path
) -> AsyncIterator[tuple[RemoteHub, RemoteHub, Tap]]:
    url = postgres.url(postgres.create_database(f"addressed_{uuid.uuid4().hex}"))
    redis = RedisServer(tmp_path / "redis").start()
    processes: list[HubProcess] = []
    hubs: list[RemoteHub] = []
    tap = Tap(redis.url)
    try:
        await asyncio.to_thread(migrate, url, tmp_path / "migrate")
        processes = [HubProcess(tmp_path / name, url, redis.url).spawn() for name in "ab"]
        await asyncio.gather(*(asyncio.to_thread(p.wait_ready) for p in processes))
        hubs = [remote(p) for p in processes]
        await tap.start()
        yield hubs[0], hubs[1], tap
    finally:
        await tap.close()
        for hub in hubs:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hub.close(), 5)
            await hub.http.close()
        for process in processes:
            process.kill()
        redis.kill()


async def _origin_accepted(hub: RemoteHub) -> bool:
    async with hub.http.get(
        hub.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": ORIGIN}
    ) as response:
        return response.status == 200


async def test_a_process_with_no_member_of_a_room_reads_none_of_its_traffic(
    two_hubs: tuple[RemoteHub, RemoteHub, Tap],
) -> None:
    a, b, tap = two_hubs
    tenant = await a.tenant()
    await eventually(lambda: _origin_accepted(b), what="B knows the tenant's origin")
    agent = await a.agent(tenant, languages=["es"])
    agent_on_a = await a.agent_peer(agent)
    visitor = await a.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, solo en A", language="es")
    await agent_on_a.wait_for("chat_assigned", chat_is(chat["id"]))
    await agent_on_a.call(
        "message", {"chat_id": chat["id"], "text": "Respuesta en A", "client_msg_id": "a1"}
    )
    await visitor.wait_for("message", text_is("Respuesta en A"))
    await visitor.emit("typing", {"chat_id": chat["id"], "typing": True})
    await agent_on_a.wait_for("typing")
    await asyncio.sleep(0.3)  # anything published would have reached the tap by now
    # everyone in the chat's rooms is on A: nothing of it went through Redis at all
    assert [] == tap.carrying(chat["id"])

    # the agent opens a second tab, on B: B now holds the agent's room, and only B's own
    # channel carries the chat's events for it (A delivers to A's sockets itself)
    agent_on_b = await b.agent_peer(agent)
    await agent_on_b.wait_for("chat_assigned", chat_is(chat["id"]))  # its chats, resent
    await visitor.call(
        "message", {"chat_id": chat["id"], "text": "Ahora tambien en B", "client_msg_id": "v2"}
    )
    await agent_on_b.wait_for("message", text_is("Ahora tambien en B"))
    await agent_on_a.wait_for("message", text_is("Ahora tambien en B"))

    async def tapped() -> bool:  # the tap reads on this loop: on a busy machine, later
        return bool(tap.carrying("Ahora tambien en B"))

    await eventually(tapped, what="the tap saw the message B was sent")
    await asyncio.sleep(0.3)  # and nothing else carries it
    channels = set(tap.carrying("Ahora tambien en B"))
    assert 1 == len(channels), tap.seen
    assert next(iter(channels)).startswith(PROCESS_CHANNEL_PREFIX)

    # the tab on B closes: B leaves the room, and reads the chat's traffic no more
    await agent_on_b.close()
    await asyncio.sleep(0.3)
    await visitor.call(
        "message", {"chat_id": chat["id"], "text": "Solo A otra vez", "client_msg_id": "v3"}
    )
    await agent_on_a.wait_for("message", text_is("Solo A otra vez"))
    await asyncio.sleep(0.3)
    assert [] == tap.carrying("Solo A otra vez")
