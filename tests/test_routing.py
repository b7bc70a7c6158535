"""Routing through a real hub: language, capacity, fairness, grace periods, the queue,
transfers, offline tickets, plans and overflow (DESIGN.md, "Routing rules")."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from tests.conftest import HubFactory
from tests.harness import LiveHub, Peer, start_chat

SAN_JUAN = ZoneInfo("America/Puerto_Rico")
DEFAULT_HANDLE_S = 240  # Settings.default_handle_time_s: no chat has been handled yet
SPANISH = "Hola, busco una Tacoma 2022"
ENGLISH = "Hi, is the Civic still available?"


def assigned_ids(agent: Peer) -> list[str]:
    return [d["chat"]["id"] for d in agent.seen("chat_assigned")]


def positions_seen(visitor: Peer, chat_id: str) -> list[int]:
    """The places the visitor was shown, as a widget displays them (repeats collapsed)."""
    shown: list[int] = []
    for event in visitor.seen("queue_position", lambda d: d["chat_id"] == chat_id):
        if not shown or shown[-1] != event["position"]:
            shown.append(event["position"])
    return shown


def waiting_ids(queue: dict[str, Any]) -> list[str]:
    return [w["chat_id"] for w in queue["waiting"]]


async def get_chat(hub: LiveHub, agent: dict[str, Any], chat_id: str) -> dict[str, Any]:
    status, chat = await hub.request("GET", f"/api/chats/{chat_id}", token=agent["token"])
    assert 200 == status, chat
    return chat  # type: ignore[no-any-return]


async def chats_with_status(hub: LiveHub, agent: dict[str, Any], status: str) -> list[Any]:
    code, body = await hub.request("GET", f"/api/chats?status={status}", token=agent["token"])
    assert 200 == code, body
    return body["chats"]  # type: ignore[no-any-return]


async def queued_chats(
    hub: LiveHub, tenant: dict[str, Any], count: int, text: str = SPANISH, **fields: Any
) -> tuple[list[Peer], list[str]]:
    """`count` visitors who start chats one after the other (so arrival order is known)."""
    visitors, ids = [], []
    for _ in range(count):
        visitor = await hub.visitor_peer(tenant)
        chat = await start_chat(visitor, text, **fields)
        visitors.append(visitor)
        ids.append(chat["id"])
    return visitors, ids


# -- language ----------------------------------------------------------------------------


async def test_spanish_chat_waits_for_a_spanish_agent_while_only_an_english_one_is_free(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    maria = await hub.agent(tenant, languages=["es"], max_chats=1, name="María")
    john = await hub.agent(tenant, languages=["en"], max_chats=5, name="John")
    maria_peer = await hub.agent_peer(maria)
    john_peer = await hub.agent_peer(john)
    first = await start_chat(await hub.visitor_peer(tenant), SPANISH, language="es")
    await maria_peer.wait_for("chat_assigned")

    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, SPANISH, language="es")

    assert "queued" == chat["status"]
    assert {"chat_id": chat["id"], "position": 1, "estimated_wait_s": DEFAULT_HANDLE_S} == (
        await visitor.wait_for("queue_position")
    )
    luis = await hub.agent(tenant, languages=["es"], name="Luis")
    luis_peer = await hub.agent_peer(luis)
    assigned = await luis_peer.wait_for("chat_assigned")
    assert chat["id"] == assigned["chat"]["id"]
    assert {"chat_id": chat["id"], "agent": {"name": "Luis"}} == await visitor.wait_for(
        "agent_joined"
    )
    assert [first["id"]] == assigned_ids(maria_peer)
    assert [] == assigned_ids(john_peer)
    assert luis["id"] == (await get_chat(hub, john, chat["id"]))["agent_id"]


# -- capacity ----------------------------------------------------------------------------


async def test_agent_never_gets_more_than_max_chats_and_a_freed_slot_takes_the_oldest_waiting(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    maria = await hub.agent(tenant, languages=["es"], max_chats=2)
    maria_peer = await hub.agent_peer(maria)

    visitors, ids = await queued_chats(hub, tenant, 5, language="es")

    await maria_peer.wait_for("chat_assigned", count=2)
    queue = await maria_peer.wait_for("queue", lambda d: waiting_ids(d) == ids[2:])
    assert [1, 2, 3] == [w["position"] for w in queue["waiting"]]
    assert ids[:2] == assigned_ids(maria_peer)
    for chat_id in ids[2:]:
        assert "queued" == (await get_chat(hub, maria, chat_id))["status"]

    ack = await maria_peer.call("close_chat", {"chat_id": ids[0]})

    assert {"ok": True} == ack
    assigned = await maria_peer.wait_for("chat_assigned", count=3)
    assert ids[2] == assigned["chat"]["id"]
    await visitors[2].wait_for("agent_joined")
    await maria_peer.wait_for("queue", lambda d: waiting_ids(d) == ids[3:])
    assert ids[:3] == assigned_ids(maria_peer)
    assert ids[3:] == [c["id"] for c in await chats_with_status(hub, maria, "queued")]


async def test_fifty_simultaneous_chats_across_five_agents_are_each_assigned_exactly_once(
    make_hub: HubFactory, database_url: str
) -> None:
    hub = await make_hub(database_url=database_url)
    tenant = await hub.tenant()
    agents = [await hub.agent(tenant, languages=["es"], max_chats=10) for _ in range(5)]
    peers = [await hub.agent_peer(a) for a in agents]
    visitors = await asyncio.gather(*(hub.visitor_peer(tenant) for _ in range(50)))

    chats = await asyncio.gather(*(start_chat(v, SPANISH, language="es") for v in visitors))

    ids = {c["id"] for c in chats}
    assert 50 == len(ids)
    for peer in peers:
        await peer.wait_for("chat_assigned", count=10)
    await asyncio.gather(*(v.wait_for("agent_joined") for v in visitors))
    per_chat = Counter(chat_id for peer in peers for chat_id in assigned_ids(peer))
    assert dict.fromkeys(ids, 1) == dict(per_chat)
    assert [10] * 5 == [len(assigned_ids(p)) for p in peers]
    owners: dict[str, str] = {}
    for peer, agent in zip(peers, agents, strict=True):
        for chat_id in assigned_ids(peer):
            owners[chat_id] = agent["id"]
    stored = await asyncio.gather(*(get_chat(hub, agents[0], chat_id) for chat_id in ids))
    assert owners == {c["id"]: c["agent_id"] for c in stored}
    assert {"active"} == {c["status"] for c in stored}


# -- fairness ----------------------------------------------------------------------------


async def test_chats_go_to_the_least_loaded_agent_then_to_the_one_idle_longest(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    ana, ben, cruz = [
        await hub.agent(tenant, languages=["es"], max_chats=5, name=name)
        for name in ("Ana", "Ben", "Cruz")
    ]
    ben_peer = None
    for agent in (ana, ben, cruz):  # online in this order: Ana has been idle longest
        peer = await hub.agent_peer(agent)
        ben_peer = peer if agent is ben else ben_peer
    assert ben_peer is not None
    names = {a["id"]: a["name"] for a in (ana, ben, cruz)}

    async def owner_of_next_chat() -> str:
        [chat_id] = (await queued_chats(hub, tenant, 1, language="es"))[1]
        return names[(await get_chat(hub, ana, chat_id))["agent_id"]]

    owners = [await owner_of_next_chat() for _ in range(4)]
    bens_chat = assigned_ids(await _wait_assigned(ben_peer))[0]
    assert {"ok": True} == await ben_peer.call("close_chat", {"chat_id": bens_chat})
    owners += [await owner_of_next_chat() for _ in range(3)]

    # loads after each: 1-0-0, 1-1-0, 1-1-1, then all equal so Ana (idle longest) gets a
    # second; Ben closes one (0 chats, but active just now) and still comes first, being
    # least loaded; then Cruz (1 chat, idle since the third), then Ben again (1 vs 2-2).
    assert ["Ana", "Ben", "Cruz", "Ana", "Ben", "Cruz", "Ben"] == owners


async def _wait_assigned(peer: Peer) -> Peer:
    await peer.wait_for("chat_assigned")
    return peer


# -- grace periods -----------------------------------------------------------------------


async def test_agent_keeps_chats_within_grace_and_after_it_they_go_to_the_front_of_the_queue(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(agent_grace_s=1.0)
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"], max_chats=1, name="Ana")
    ben = await hub.agent(tenant, languages=["es"], max_chats=1, name="Ben")
    ana_peer = await hub.agent_peer(ana)
    ben_peer = await hub.agent_peer(ben)
    visitors, (anas_chat, bens_chat, waiting) = await queued_chats(hub, tenant, 3, language="es")
    assert [anas_chat] == assigned_ids(await _wait_assigned(ana_peer))
    assert [bens_chat] == assigned_ids(await _wait_assigned(ben_peer))
    assert [1] == positions_seen(await _wait_position(visitors[2]), waiting)

    await ana_peer.close()
    ana_again = await hub.agent_peer(ana, online=False)
    await ben_peer.close()

    assert [anas_chat] == assigned_ids(await _wait_assigned(ana_again))
    bens_now = await get_chat(hub, ana, bens_chat)
    assert ("active", ben["id"]) == (bens_now["status"], bens_now["agent_id"])
    # after Ben's grace (which ran out after Ana's would have), his chat is first in line
    queue = await ana_again.wait_for("queue", lambda d: bens_chat in waiting_ids(d))
    assert [bens_chat, waiting] == waiting_ids(queue)
    await visitors[2].wait_for("queue_position", lambda d: d["position"] == 2)
    assert [1] == positions_seen(visitors[1], bens_chat)
    cruz = await hub.agent(tenant, languages=["es"], max_chats=1, name="Cruz")
    cruz_peer = await hub.agent_peer(cruz)
    assigned = await cruz_peer.wait_for("chat_assigned")
    assert bens_chat == assigned["chat"]["id"]
    assert {"chat_id": bens_chat, "agent": {"name": "Cruz"}} == await visitors[1].wait_for(
        "agent_joined", count=2
    )
    await visitors[2].wait_for("queue_position", lambda d: d["position"] == 1, count=2)
    assert [1, 2, 1] == positions_seen(visitors[2], waiting)
    anas_now = await get_chat(hub, ana, anas_chat)
    assert ("active", ana["id"]) == (anas_now["status"], anas_now["agent_id"])
    assert [] == ana_again.seen("chat_closed")
    assert [] == visitors[0].seen("queue_position")


async def _wait_position(visitor: Peer) -> Peer:
    await visitor.wait_for("queue_position")
    return visitor


async def test_queued_visitor_keeps_their_place_within_grace_and_is_abandoned_after_it(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(visitor_grace_s=0.5)
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"], max_chats=1)
    await hub.agent_peer(ana)
    await queued_chats(hub, tenant, 1, language="es")
    visitors, (first, second, third) = await queued_chats(hub, tenant, 3, language="es")
    await visitors[2].wait_for("queue_position", lambda d: d["position"] == 3)
    returning_id = (await visitors[1].wait_for("session"))["visitor_id"]

    await visitors[0].close()
    await visitors[1].close()
    returned = await hub.visitor_peer(tenant, visitor_id=returning_id)

    back = await returned.wait_for("queue_position")
    assert (second, 2) == (back["chat_id"], back["position"])
    moved = await returned.wait_for("queue_position", lambda d: d["position"] == 1)
    assert second == moved["chat_id"]
    await visitors[2].wait_for("queue_position", lambda d: d["position"] == 2)
    abandoned = await get_chat(hub, ana, first)
    assert ("closed", "abandoned") == (abandoned["status"], abandoned["close_reason"])
    assert abandoned["abandoned_at"] is not None
    assert "queued" == (await get_chat(hub, ana, second))["status"]
    assert [2, 1] == positions_seen(returned, second)
    assert [3, 2] == positions_seen(visitors[2], third)
