"""Several `charla serve` processes on one Redis and one PostgreSQL: chats across processes,
atomic routing, and no acknowledged message lost when a process is SIGKILLed, when Redis
restarts empty, or when the database goes away for a while."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from console.hub.cluster import EPOCH_KEY
from console.realtime.holders import HOLDERS_PREFIX, held_key, holders_key
from console.realtime.rooms import AGENT_NS, VISITOR_NS, agent_room, visitor_room
from tests.support.cluster import HubProcess, RedisServer, RemoteHub, migrate, remote
from tests.support.harness import ORIGIN, Peer, Sender, chat_is, eventually, start_chat, text_is
from tests.support.postgres import PostgresCluster, require_postgres

pytestmark = pytest.mark.postgres


@dataclass
class Deployment:
    redis: RedisServer
    processes: list[HubProcess]
    hubs: list[RemoteHub]
    client: Redis
    extra: list[RemoteHub] = field(default_factory=list)

    async def tenant(self, **fields: Any) -> dict[str, Any]:
        """A tenant made through A, once every process accepts its origin (processes
        learn other processes' new tenants' origins within a heartbeat)."""
        tenant = await self.a.tenant(**fields)
        for hub in self.hubs:
            await eventually(functools.partial(origin_accepted, hub), what="origin known")
        return tenant

    async def chat_across(
        self, text: str = "Hola", max_chats: int = 3
    ) -> tuple[dict[str, Any], dict[str, Any], Peer, Peer, dict[str, Any]]:
        """A tenant whose visitor, on A, chats with its one agent, on B: (tenant, agent,
        agent's peer, visitor's peer, chat), as the harness's `active_chat` on one hub."""
        tenant = await self.tenant()
        agent = await self.a.agent(tenant, languages=["es"], max_chats=max_chats)
        agent_peer = await self.b.agent_peer(agent)
        visitor = await self.a.visitor_peer(tenant)
        chat = await start_chat(visitor, text, language="es")
        await agent_peer.wait_for("chat_assigned", chat_is(chat["id"]))
        return tenant, agent, agent_peer, visitor, chat

    async def members(self, key: str) -> set[str]:
        """A Redis set of ids (sockets, agents online) as text."""
        found = await self.client.smembers(key)
        return {m.decode() if isinstance(m, bytes) else m for m in found}

    async def rooms_held_by(self, process: str) -> set[str]:
        """The fan-out's room sets (console/realtime/holders.py) that name `process`."""
        return {
            key.decode()
            async for key in self.client.scan_iter(match=f"{HOLDERS_PREFIX}*")
            if process in await self.members(key.decode())
        }

    @property
    def a(self) -> RemoteHub:
        return self.hubs[0]

    @property
    def b(self) -> RemoteHub:
        return self.hubs[1]


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, since the test stops it."""
    require_postgres()
    with PostgresCluster() as cluster:
        yield cluster


@pytest.fixture
async def deploy(tmp_path: Path) -> AsyncIterator[Any]:
    """Two hub processes (A and B) on a Redis of their own and the given database."""
    made: list[Deployment] = []

    async def factory(database_url: str) -> Deployment:
        redis = RedisServer(tmp_path / "redis").start()
        await asyncio.to_thread(migrate, database_url, tmp_path / "migrate")
        processes = [HubProcess(tmp_path / name, database_url, redis.url).spawn() for name in "ab"]
        await asyncio.gather(*(asyncio.to_thread(p.wait_ready) for p in processes))
        deployment = Deployment(
            redis=redis,
            processes=processes,
            hubs=[remote(p) for p in processes],
            client=Redis.from_url(redis.url),
        )
        made.append(deployment)
        return deployment

    yield factory
    for deployment in made:
        for hub in deployment.hubs:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hub.close(), 5)
            await hub.http.close()
        for process in deployment.processes:
            process.kill()
        await deployment.client.aclose()
        deployment.redis.kill()


@pytest.fixture
def database(postgres: PostgresCluster) -> str:
    return postgres.url(postgres.create_database(f"scale_{uuid.uuid4().hex}"))


async def origin_accepted(hub: RemoteHub) -> bool:
    """Does Engine.IO's handshake accept the harness's origin on this process?"""
    async with hub.http.get(
        hub.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": ORIGIN}
    ) as response:
        return response.status == 200


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


async def test_visitor_on_one_process_and_agent_on_the_other_chat_normally(
    deploy: Any, database: str
) -> None:
    d: Deployment = await deploy(database)
    tenant, agent, agent_peer, visitor, chat = await d.chat_across(
        "Hola, ¿tienen la Tacoma?", max_chats=1
    )
    assigned = await agent_peer.wait_for("chat_assigned")
    assert (chat["id"], ["Hola, ¿tienen la Tacoma?"]) == (
        assigned["chat"]["id"],
        texts(assigned["chat"]["messages"]),
    )
    joined = await visitor.wait_for("agent_joined")
    assert {"chat_id": chat["id"], "agent": {"name": agent["name"]}} == joined

    ack = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "Sí, una 2022", "client_msg_id": "a1"}
    )
    got = await visitor.wait_for("message", lambda e: e["message"]["author"] == "agent")
    assert ack["message"] == got["message"]
    ack = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "¿Precio?", "client_msg_id": "v1"}
    )
    got = await agent_peer.wait_for("message", lambda e: e["message"]["author"] == "visitor")
    assert ack["message"] == got["message"]
    await visitor.emit("typing", {"chat_id": chat["id"], "typing": True})
    typing = await agent_peer.wait_for("typing")
    assert {"chat_id": chat["id"], "author": "visitor", "typing": True} == typing

    # A second visitor, on process B, waits: its place reaches it, and the queue reaches
    # the agent, whichever process each of them is connected to.
    waiting = await d.b.visitor_peer(tenant)
    queued = await start_chat(waiting, "¿Hay alguien?", language="es")
    assert "queued" == queued["status"]
    place = await waiting.wait_for("queue_position")
    assert (queued["id"], 1) == (place["chat_id"], place["position"])
    queue = await agent_peer.wait_for("queue", lambda q: len(q["waiting"]) == 1)
    assert queued["id"] == queue["waiting"][0]["chat_id"]

    assert {"ok": True} == await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    closed = await visitor.wait_for("chat_closed")
    assert {"chat_id": chat["id"], "reason": "agent_closed"} == closed
    taken = await agent_peer.wait_for("chat_assigned", lambda e: e["chat"]["id"] == queued["id"])
    assert "active" == taken["chat"]["status"]


async def test_routing_stays_atomic_across_processes(deploy: Any, database: str) -> None:
    d: Deployment = await deploy(database)
    tenant = await d.tenant(plan="basic", languages=["es"])
    agents = [await d.a.agent(tenant, languages=["es"], max_chats=2) for _ in range(4)]
    agent_peers = [await d.hubs[n % 2].agent_peer(agent) for n, agent in enumerate(agents)]
    visitors = [await d.hubs[n % 2].visitor_peer(tenant) for n in range(16)]

    chats = await asyncio.gather(*(start_chat(v, f"Hola {n}") for n, v in enumerate(visitors)))
    assert 16 == len({c["id"] for c in chats})

    async def assignments() -> list[tuple[str, str]]:
        return [
            (agent["id"], event["chat"]["id"])
            for agent, peer in zip(agents, agent_peers, strict=True)
            for event in peer.seen("chat_assigned")
        ]

    await eventually(lambda: _at_least(assignments, 8), what="8 assignments")
    await asyncio.sleep(0.5)  # time for a double assignment to show, if there were one
    given = await assignments()
    assert 8 == len(given)
    assert 8 == len({chat_id for _, chat_id in given}), "a chat was given twice"
    per_agent = {agent["id"]: sum(1 for a, _ in given if a == agent["id"]) for agent in agents}
    assert {agent["id"]: 2 for agent in agents} == per_agent

    waiting = {c["id"] for c in chats} - {chat_id for _, chat_id in given}
    assert 8 == len(waiting)

    def places() -> dict[str, int]:
        last: dict[str, int] = {}
        for visitor in visitors:
            for event in visitor.seen("queue_position"):
                last[event["chat_id"]] = event["position"]
        return {chat_id: place for chat_id, place in last.items() if chat_id in waiting}

    try:
        await eventually(lambda: sorted(places().values()) == list(range(1, 9)))
    except AssertionError:
        raise AssertionError(f"the waiting visitors' last positions: {places()}") from None
    assert waiting == set(places())


async def _at_least(source: Callable[[], Any], count: int) -> Any:
    items = await source()
    return items if len(items) >= count else None


async def test_sigkilled_process_loses_no_acknowledged_message(deploy: Any, database: str) -> None:
    d: Deployment = await deploy(database)
    tenant = await d.tenant()
    agent = await d.b.agent(tenant, languages=["es"])
    agent_peer = await d.a.agent_peer(agent)
    visitor = await d.a.visitor_peer(tenant)
    visitor_id = (await visitor.wait_for("session"))["visitor_id"]
    old_sids = {visitor.sio.get_sid("/visitor"), agent_peer.sio.get_sid("/agent")}
    chat = await start_chat(visitor, "Hola", language="es")
    await agent_peer.wait_for("chat_assigned")
    # A holds the visitor's room: emits to it are addressed to A, by its process id
    [process_a] = await d.members(holders_key(VISITOR_NS, visitor_room(visitor_id)))
    assert await d.rooms_held_by(process_a)

    acked: list[str] = []
    unsure: list[str] = []

    async def talk() -> None:
        n = 0
        while True:
            text = f"mensaje {n}"
            try:
                ack = await visitor.call(
                    "message",
                    {"chat_id": chat["id"], "text": text, "client_msg_id": text},
                    timeout_s=2,
                )
            except Exception:
                unsure.append(text)  # no ack: stored or not, the widget will resend it
                return
            if ack == {"ok": False, "error": ack.get("error")} and (
                ack["error"]["code"] == "rate_limited"
            ):
                await asyncio.sleep(0.2)  # a widget backs off and resends the same message
                continue
            assert ack["ok"] is True, ack
            acked.append(text)
            n += 1

    talking = asyncio.create_task(talk())
    await eventually(lambda: len(acked) >= 20, what="20 acknowledged messages")
    d.processes[0].kill()  # SIGKILL process A mid-conversation
    await asyncio.wait_for(talking, 10)
    assert len(acked) >= 20

    # Both reconnect to process B, as the load balancer would send them there.
    again = await d.b.visitor_peer(tenant, visitor_id=visitor_id)
    agent_again = await d.b.agent_peer(agent, online=False)
    mine = await agent_again.wait_for("chat_assigned")
    assert chat["id"] == mine["chat"]["id"]
    for text in unsure:  # the resend of what got no ack: stored once whatever happened
        ack = await again.call(
            "message", {"chat_id": chat["id"], "text": text, "client_msg_id": text}
        )
        assert ack["ok"] is True, ack

    synced = texts((await again.call("sync", {"chat_id": chat["id"]}))["messages"])
    assert ["Hola", *acked, *unsure] == synced
    agent_synced = texts((await agent_again.call("sync", {"chat_id": chat["id"]}))["messages"])
    assert synced == agent_synced

    # Process B released the dead process's sockets once its heartbeat expired.
    async def stale() -> set[str]:
        keys = [f"charla:socks:visitor:{visitor_id}", f"charla:socks:agent:{agent['id']}"]
        return {m for key in keys for m in await d.members(key)} & old_sids

    await eventually(lambda: _none(stale), what="the dead process's sockets released")
    # ...and removed A from every room's holders: emits no longer address the dead process
    await eventually(
        lambda: _none(lambda: d.rooms_held_by(process_a)), what="A out of every room's holders"
    )
    assert 0 == await d.client.exists(held_key(process_a))
    assert process_a not in await d.members(holders_key(AGENT_NS, agent_room(agent["id"])))
    # The agent is still online on B: a new chat goes to them.
    other = await d.b.visitor_peer(tenant)
    await agent_again.call("set_status", {"status": "online"})
    new_chat = await start_chat(other, "Buenas", language="es")
    taken = await agent_again.wait_for("chat_assigned", lambda e: e["chat"]["id"] == new_chat["id"])
    assert "active" == taken["chat"]["status"]


async def _none(source: Callable[[], Any]) -> bool:
    return not await source()


async def test_redis_restart_rebuilds_queue_and_presence_and_loses_nothing(
    deploy: Any, database: str
) -> None:
    d: Deployment = await deploy(database)
    tenant, _agent, agent_peer, visitor, chat = await d.chat_across(max_chats=1)
    waiting = await d.b.visitor_peer(tenant)
    queued = await start_chat(waiting, "¿Hay alguien?", language="es")
    assert "queued" == queued["status"]

    sender = Sender(chat["id"])
    acked, refused = sender.acked, sender.refused

    async def send(text: str) -> None:
        await sender.send(visitor, text)

    await send("antes")
    await asyncio.to_thread(d.redis.kill)
    await send("sin redis")
    stored_while_down = list(acked)
    await asyncio.to_thread(d.redis.start)  # empty: every key is gone
    await eventually(lambda: d.client.exists(EPOCH_KEY), what="routing state rebuilt")
    # The agent's process sends the chat again with its transcript: what the fan-out
    # dropped while Redis was away reaches the console without a reconnect.
    again = await agent_peer.wait_for(
        "chat_assigned", lambda e: e["chat"]["id"] == chat["id"], count=2, timeout_s=10
    )
    assert set(stored_while_down) <= set(texts(again["chat"]["messages"]))
    for text in refused:
        await send(text)

    # Fan-out resumes once python-socketio's listener has subscribed again (it retries
    # after 1 s, then 2 s, ...): until then a live event may not cross processes.
    for n in range(40):
        await send(f"después {n}")
        with contextlib.suppress(AssertionError):
            await agent_peer.wait_for("message", text_is(f"después {n}"), timeout_s=0.5)
            break
    else:
        raise AssertionError("live messages never crossed processes again after the restart")

    synced = texts((await agent_peer.call("sync", {"chat_id": chat["id"]}))["messages"])
    assert set(acked) <= set(synced), "an acknowledged message is missing"
    assert ["Hola", *sorted(set(acked), key=synced.index)] == synced, "stored once, in order"
    assert agent_peer.sio.connected
    assert visitor.sio.connected

    # The agent stayed online and busy, and the queued chat came back from the database:
    # closing the active chat hands the queued one to the same agent.
    assert {"ok": True} == await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    taken = await agent_peer.wait_for("chat_assigned", lambda e: e["chat"]["id"] == queued["id"])
    assert ["¿Hay alguien?"] == texts(taken["chat"]["messages"])


async def test_database_outage_refuses_messages_on_every_process_and_loses_nothing(
    deploy: Any, own_postgres: PostgresCluster
) -> None:
    d: Deployment = await deploy(own_postgres.url(own_postgres.create_database("outage")))
    _tenant, _agent, agent_peer, visitor, chat = await d.chat_across()

    sender = Sender(chat["id"])
    refused = sender.refused
    send = sender.send

    await send(visitor, "antes")
    await asyncio.to_thread(own_postgres.pause)
    await send(visitor, "durante visitante")
    await send(agent_peer, "durante agente")
    await asyncio.to_thread(own_postgres.resume)
    await send(visitor, "después")
    for text in list(refused):
        await send(agent_peer if "agente" in text else visitor, text)

    assert ["durante visitante", "durante agente"] == refused
    assert visitor.sio.connected
    assert agent_peer.sio.connected
    synced = texts((await visitor.call("sync", {"chat_id": chat["id"]}))["messages"])
    assert ["Hola", "antes", "después", "durante visitante", "durante agente"] == synced


async def test_a_paused_process_that_was_reaped_registers_its_sockets_again(
    deploy: Any, database: str
) -> None:
    d: Deployment = await deploy(database)
    tenant = await d.tenant()
    agent = await d.a.agent(tenant, languages=["es"])
    agent_peer = await d.a.agent_peer(agent)
    sid = agent_peer.sio.get_sid("/agent")
    sockets = f"charla:socks:agent:{agent['id']}"
    online = f"charla:t:{{{tenant['id']}}}:online"

    assert {sid} == await d.members(sockets)
    agents_room = holders_key(AGENT_NS, agent_room(agent["id"]))
    [process_a] = await d.members(agents_room)
    rooms_of_a = await d.rooms_held_by(process_a)
    assert agents_room in rooms_of_a
    process = d.processes[0].process
    assert process is not None
    process.send_signal(signal.SIGSTOP)  # a stall longer than three heartbeats
    try:
        # Process B takes A for dead and releases its sockets: the agent is suspended.
        await eventually(lambda: _none(lambda: d.members(sockets)), what="A's sockets reaped")
        # (a socket's record is popped before its agent is released: a moment apart)
        await eventually(lambda: _lacks(d.members(online), agent["id"]), what="the agent suspended")
        # and B's upkeep took A out of the rooms' holders: nothing is addressed to it
        await eventually(
            lambda: _none(lambda: d.rooms_held_by(process_a)), what="A's rooms forgotten"
        )
        assert 0 == await d.client.exists(held_key(process_a))
    finally:
        process.send_signal(signal.SIGCONT)

    # A wakes up, finds itself reaped and registers its socket and its agent's status again.
    await eventually(lambda: _has(d.members(sockets), sid), what="A's socket registered again")
    await eventually(lambda: _has(d.members(online), agent["id"]), what="the agent online again")
    # ...and its rooms, so that emits made on B reach its sockets again
    await eventually(
        lambda: _same(d.rooms_held_by(process_a), rooms_of_a), what="A's rooms recorded again"
    )
    visitor = await d.b.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola", language="es")
    taken = await agent_peer.wait_for("chat_assigned", lambda e: e["chat"]["id"] == chat["id"])
    assert "active" == taken["chat"]["status"]


async def _has(members: Any, item: str) -> bool:
    return item in await members


async def _lacks(members: Any, item: str) -> bool:
    return item not in await members


async def _same(found: Any, expected: set[str]) -> bool:
    return bool(await found == expected)


async def test_a_burst_of_chats_on_both_processes_is_all_assigned(
    deploy: Any, database: str
) -> None:
    """Chats started together on both processes, fewer than the agents' free slots: every
    one is assigned, once, and none is left waiting."""
    d: Deployment = await deploy(database)
    tenant = await d.tenant(plan="basic", languages=["es"])
    agents = [await d.a.agent(tenant, languages=["es"], max_chats=8) for _ in range(4)]
    agent_peers = [await d.hubs[n % 2].agent_peer(agent) for n, agent in enumerate(agents)]
    visitors = [await d.hubs[n % 2].visitor_peer(tenant) for n in range(24)]

    chats = await asyncio.gather(*(start_chat(v, f"Hola {n}") for n, v in enumerate(visitors)))
    ids = {c["id"] for c in chats}
    assert 24 == len(ids)

    async def assigned() -> list[str]:
        return [e["chat"]["id"] for p in agent_peers for e in p.seen("chat_assigned")]

    await eventually(lambda: _at_least(assigned, 24), what="24 assignments")
    await asyncio.sleep(0.3)  # time for a double assignment to show, if there were one
    given = await assigned()
    assert sorted(ids) == sorted(given), "every chat assigned, and once"
    assert 0 == await d.client.zcard(f"charla:t:{{{tenant['id']}}}:queue")
    for visitor, chat in zip(visitors, chats, strict=True):
        joined = await visitor.wait_for("agent_joined")
        assert chat["id"] == joined["chat_id"]


async def test_a_transfer_and_an_agents_reconnect_to_the_other_process(
    deploy: Any, database: str
) -> None:
    """Ana (on A) hands a chat to Ben (on B); Ben's console then reconnects to A (a balancer
    sending the new connection elsewhere) and carries on, and closes the chat."""
    d: Deployment = await deploy(database)
    tenant = await d.tenant()
    ana = await d.a.agent(tenant, languages=["es"], name="Ana")
    ben = await d.a.agent(tenant, languages=["es"], name="Ben")
    ana_peer = await d.a.agent_peer(ana)
    visitor = await d.a.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola", language="es")
    await ana_peer.wait_for("chat_assigned", chat_is(chat["id"]))
    ben_peer = await d.b.agent_peer(ben)

    ack = await ana_peer.call("transfer", {"chat_id": chat["id"], "agent_id": ben["id"]})
    assert {"ok": True, "chat": {"id": chat["id"], "status": "active", "agent_id": ben["id"]}} == (
        ack
    )
    moved = await ben_peer.wait_for("chat_assigned", chat_is(chat["id"]))
    assert "Hola" == moved["chat"]["messages"][0]["text"]
    assert {"chat_id": chat["id"], "reason": "transferred"} == await ana_peer.wait_for(
        "chat_closed"
    )
    joined = await visitor.wait_for("agent_joined", count=2)
    assert {"chat_id": chat["id"], "agent": {"name": "Ben"}} == joined
    await ben_peer.call(
        "message", {"chat_id": chat["id"], "text": "Soy Ben, en B", "client_msg_id": "b1"}
    )
    await visitor.wait_for("message", text_is("Soy Ben, en B"))

    # Ben's console loses B and reconnects to A: the chat is his there, both ways
    await ben_peer.close()
    ben_on_a = await d.a.agent_peer(ben)
    again = await ben_on_a.wait_for("chat_assigned", chat_is(chat["id"]))
    assert ["Hola", "Soy Ben, en B"] == [
        m["text"] for m in again["chat"]["messages"] if m["author"] != "system"
    ]
    await visitor.call(
        "message", {"chat_id": chat["id"], "text": "¿Sigues ahí?", "client_msg_id": "v1"}
    )
    await ben_on_a.wait_for("message", text_is("¿Sigues ahí?"))
    await ben_on_a.call(
        "message", {"chat_id": chat["id"], "text": "Sí, desde A", "client_msg_id": "b2"}
    )
    await visitor.wait_for("message", text_is("Sí, desde A"))
    assert {"ok": True} == await ben_on_a.call("close_chat", {"chat_id": chat["id"]})
    closed = await visitor.wait_for("chat_closed")
    assert {"chat_id": chat["id"], "reason": "agent_closed"} == closed
