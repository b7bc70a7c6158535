"""Routing through a real hub: language, capacity, fairness, grace periods, the queue,
transfers, offline tickets, plans and overflow (DESIGN.md, "Routing rules")."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.domain.clock import ShiftedClock
from console.routing.state import PREFIX
from console.web.keys import HUB
from tests.support.harness import HubFactory, LiveHub, Peer, start_chat


@pytest.fixture
async def hub(make_hub: HubFactory, database_url: str) -> LiveHub:
    """Routing rules hold on both stores: every test here runs on SQLite and PostgreSQL."""
    return await make_hub(database_url=database_url)


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


def presence(agent: dict[str, Any], status: str, *, load: int) -> dict[str, Any]:
    return {
        "agent_id": agent["id"],
        "status": status,
        "load": load,
        "max_chats": agent["max_chats"],
    }


async def grace_started(hub: LiveHub, deadline: str) -> None:
    """Wait until the hub has noticed a disconnect and started its grace period."""
    redis = hub.app[HUB].state.redis
    for _ in range(200):
        if await redis.zscore(f"{PREFIX}deadlines", deadline) is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no grace period started for {deadline}")


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
    # history shows an agent their own chats only; the tenant's queue is a supervisor's
    supervisor = await hub.agent(tenant, languages=["es"], role="supervisor")
    queued = await chats_with_status(hub, supervisor, "queued")
    assert ids[3:] == sorted((c["id"] for c in queued), key=ids.index)


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
    # online in this order, so Ana has been idle longest, then Ben, then Cruz
    peers = [await hub.agent_peer(agent) for agent in (ana, ben, cruz)]
    names: dict[str, str] = {a["id"]: a["name"] for a in (ana, ben, cruz)}

    async def owner_of_next_chat() -> str:
        [chat_id] = (await queued_chats(hub, tenant, 1, language="es"))[1]
        return names[(await get_chat(hub, ana, chat_id))["agent_id"]]

    owners = [await owner_of_next_chat() for _ in range(4)]
    bens_chat = (await peers[1].wait_for("chat_assigned"))["chat"]["id"]
    assert {"ok": True} == await peers[1].call("close_chat", {"chat_id": bens_chat})
    owners += [await owner_of_next_chat() for _ in range(3)]

    # loads after each: 1-0-0, 1-1-0, 1-1-1, then all equal so Ana (idle longest) gets a
    # second; Ben closes one (0 chats, but active just now) and still comes first, being
    # least loaded; then Cruz (1 chat, idle since the third), then Ben again (1 vs 2-2).
    assert ["Ana", "Ben", "Cruz", "Ana", "Ben", "Cruz", "Ben"] == owners


# -- grace periods -----------------------------------------------------------------------


async def test_agent_keeps_chats_within_grace_and_after_it_they_go_to_the_front_of_the_queue(
    make_hub: HubFactory,
    database_url: str,
) -> None:
    hub = await make_hub(database_url=database_url, agent_grace_s=1.0)
    tenant = await hub.tenant(plan="premium", languages=["es", "en"])
    john = await hub.agent(tenant, languages=["en"], max_chats=1, name="John")
    ana = await hub.agent(tenant, languages=["es"], max_chats=1, name="Ana")
    ben = await hub.agent(tenant, languages=["es"], max_chats=1, name="Ben")
    await hub.agent_peer(john)
    ana_peer = await hub.agent_peer(ana)
    ben_peer = await hub.agent_peer(ben)
    english, [_, english_waiting] = await queued_chats(hub, tenant, 2, ENGLISH, language="en")
    spanish, [anas_chat, bens_chat, spanish_waiting] = await queued_chats(
        hub, tenant, 3, language="es"
    )
    assert anas_chat == (await ana_peer.wait_for("chat_assigned"))["chat"]["id"]
    assert bens_chat == (await ben_peer.wait_for("chat_assigned"))["chat"]["id"]
    await spanish[2].wait_for("queue_position")

    await ana_peer.close()
    await ben_peer.wait_for("agent_status", lambda d: d == presence(ana, "away", load=1))
    ana_again = await hub.agent_peer(ana, online=False)
    await ben_peer.close()

    assert anas_chat == (await ana_again.wait_for("chat_assigned"))["chat"]["id"]
    bens_now = await get_chat(hub, ana, bens_chat)
    assert ("active", ben["id"]) == (bens_now["status"], bens_now["agent_id"])
    # Ben's grace ran out after Ana's would have: only his chat is back, ahead of the
    # English chat that had been waiting since before he took it
    queue = await ana_again.wait_for("queue", lambda d: bens_chat in waiting_ids(d))
    assert [bens_chat, english_waiting, spanish_waiting] == waiting_ids(queue)
    await spanish[2].wait_for("queue_position", lambda d: d["position"] == 2)
    assert [1] == positions_seen(spanish[1], bens_chat)
    cruz = await hub.agent(tenant, languages=["es", "en"], max_chats=1, name="Cruz")
    cruz_peer = await hub.agent_peer(cruz)
    assigned = await cruz_peer.wait_for("chat_assigned")
    assert bens_chat == assigned["chat"]["id"]
    assert {"chat_id": bens_chat, "agent": {"name": "Cruz"}} == await spanish[1].wait_for(
        "agent_joined", count=2
    )
    await spanish[2].wait_for("queue_position", lambda d: d["position"] == 1, count=2)
    assert [1, 2, 1] == positions_seen(spanish[2], spanish_waiting)
    assert [1] == positions_seen(english[1], english_waiting)
    anas_now = await get_chat(hub, ana, anas_chat)
    assert ("active", ana["id"]) == (anas_now["status"], anas_now["agent_id"])
    assert [] == ana_again.seen("chat_closed")
    assert [] == spanish[0].seen("queue_position")


async def test_queued_visitor_keeps_their_place_within_grace_and_is_abandoned_after_it(
    make_hub: HubFactory,
    database_url: str,
) -> None:
    hub = await make_hub(database_url=database_url, visitor_grace_s=0.5)
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"], max_chats=1)
    await hub.agent_peer(ana)
    await queued_chats(hub, tenant, 1, language="es")
    visitors, (first, second, third) = await queued_chats(hub, tenant, 3, language="es")
    await visitors[2].wait_for("queue_position", lambda d: d["position"] == 3)
    returning_id = (await visitors[1].wait_for("session"))["visitor_id"]

    # the returning visitor's grace starts first: had reconnecting not cancelled it, it
    # would run out before the other one's
    await visitors[1].close()
    await grace_started(hub, f"chat|{tenant['id']}|{second}")
    await visitors[0].close()
    await grace_started(hub, f"chat|{tenant['id']}|{first}")
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


# -- queue positions ---------------------------------------------------------------------


async def test_each_queued_visitor_sees_their_position_on_enqueue_and_on_every_change(
    make_hub: HubFactory,
    database_url: str,
) -> None:
    hub = await make_hub(database_url=database_url, visitor_grace_s=0.3)
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"], max_chats=1)
    ana_peer = await hub.agent_peer(ana)
    _, [served] = await queued_chats(hub, tenant, 1, language="es")
    visitors, ids = await queued_chats(hub, tenant, 4, language="es")
    queue = await ana_peer.wait_for("queue", lambda d: waiting_ids(d) == ids)
    assert [("es", 1), ("es", 2), ("es", 3), ("es", 4)] == [
        (w["language"], w["position"]) for w in queue["waiting"]
    ]
    last = await visitors[3].wait_for("queue_position")
    assert {"chat_id": ids[3], "position": 4, "estimated_wait_s": 4 * DEFAULT_HANDLE_S} == last

    assert {"ok": True} == await visitors[1].call("end_chat", {"chat_id": ids[1]})
    await visitors[3].wait_for("queue_position", lambda d: d["position"] == 3)
    await visitors[2].close()  # abandoned once the visitor grace runs out
    await visitors[3].wait_for("queue_position", lambda d: d["position"] == 2)
    assert {"ok": True} == await ana_peer.call("close_chat", {"chat_id": served})
    await visitors[0].wait_for("agent_joined")
    last = await visitors[3].wait_for("queue_position", lambda d: d["position"] == 1)

    assert {"chat_id": ids[3], "position": 1, "estimated_wait_s": DEFAULT_HANDLE_S} == last
    assert [1] == positions_seen(visitors[0], ids[0])
    assert [2] == positions_seen(visitors[1], ids[1])
    assert [3, 2] == positions_seen(visitors[2], ids[2])
    assert [4, 3, 2, 1] == positions_seen(visitors[3], ids[3])
    await ana_peer.wait_for("queue", lambda d: waiting_ids(d) == [ids[3]])
    assert [served, ids[0]] == assigned_ids(ana_peer)


# -- transfers ---------------------------------------------------------------------------


async def test_transfer_to_an_agent_hands_over_the_chat_with_its_history(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"], name="Ana")
    ben = await hub.agent(tenant, languages=["es"], name="Ben")
    ana_peer = await hub.agent_peer(ana)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, SPANISH, language="es")
    await ana_peer.wait_for("chat_assigned")
    reply = {"chat_id": chat["id"], "text": "¡Hola! ¿Qué año buscas?", "client_msg_id": "a-1"}
    assert True is (await ana_peer.call("message", reply))["ok"]
    ben_peer = await hub.agent_peer(ben)

    ack = await ana_peer.call("transfer", {"chat_id": chat["id"], "agent_id": ben["id"]})

    assert {"ok": True, "chat": {"id": chat["id"], "status": "active", "agent_id": ben["id"]}} == (
        ack
    )
    assigned = await ben_peer.wait_for("chat_assigned")
    assert chat["id"] == assigned["chat"]["id"]
    assert [
        ("visitor", SPANISH),
        ("agent", "¡Hola! ¿Qué año buscas?"),
        ("system", "La conversación fue transferida a Ben."),
    ] == [(m["author"], m["text"]) for m in assigned["chat"]["messages"]]
    assert {"chat_id": chat["id"], "reason": "transferred"} == await ana_peer.wait_for(
        "chat_closed"
    )
    assert {"chat_id": chat["id"], "agent": {"name": "Ben"}} == await visitor.wait_for(
        "agent_joined", count=2
    )
    assert ben["id"] == (await get_chat(hub, ben, chat["id"]))["agent_id"]


async def test_transfer_to_a_full_agent_is_a_conflict_and_to_an_offline_one_unavailable(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"])
    ben = await hub.agent(tenant, languages=["es"], max_chats=1)
    cruz = await hub.agent(tenant, languages=["es"])
    ana_peer = await hub.agent_peer(ana)
    _, [anas_chat] = await queued_chats(hub, tenant, 1, language="es")
    ben_peer = await hub.agent_peer(ben)
    _, [bens_chat] = await queued_chats(hub, tenant, 1, language="es")
    await ben_peer.wait_for("chat_assigned")
    await hub.agent_peer(cruz, online=False)

    to_full = await ana_peer.call("transfer", {"chat_id": anas_chat, "agent_id": ben["id"]})
    to_offline = await ana_peer.call("transfer", {"chat_id": anas_chat, "agent_id": cruz["id"]})

    assert (False, "conflict") == (to_full["ok"], to_full["error"]["code"])
    assert (False, "unavailable") == (to_offline["ok"], to_offline["error"]["code"])
    assert ana["id"] == (await get_chat(hub, ana, anas_chat))["agent_id"]
    assert ben["id"] == (await get_chat(hub, ana, bens_chat))["agent_id"]
    assert [] == ana_peer.seen("chat_closed")


async def test_transfer_to_a_language_queue_puts_the_chat_first_in_that_language(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant(plan="premium")
    ana = await hub.agent(tenant, languages=["es"], name="Ana")
    john = await hub.agent(tenant, languages=["en"], max_chats=1, name="John")
    ana_peer = await hub.agent_peer(ana)
    john_peer = await hub.agent_peer(john)
    _, [johns_chat, english_waiting] = await queued_chats(hub, tenant, 2, ENGLISH, language="en")
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, SPANISH, language="es")
    await ana_peer.wait_for("chat_assigned")

    ack = await ana_peer.call("transfer", {"chat_id": chat["id"], "language": "en"})

    assert {"ok": True, "chat": {"id": chat["id"], "status": "queued", "language": "en"}} == ack
    assert {"chat_id": chat["id"], "reason": "transferred"} == await ana_peer.wait_for(
        "chat_closed"
    )
    queue = await john_peer.wait_for("queue", lambda d: chat["id"] in waiting_ids(d))
    assert [chat["id"], english_waiting] == waiting_ids(queue)
    assert {"chat_id": chat["id"], "position": 1, "estimated_wait_s": DEFAULT_HANDLE_S} == (
        await visitor.wait_for("queue_position")
    )
    assert {"ok": True} == await john_peer.call("close_chat", {"chat_id": johns_chat})
    assigned = await john_peer.wait_for("chat_assigned", count=2)
    assert (chat["id"], "en") == (assigned["chat"]["id"], assigned["chat"]["language"])
    assert {"chat_id": chat["id"], "agent": {"name": "John"}} == await visitor.wait_for(
        "agent_joined", count=2
    )


async def test_basic_plan_cannot_transfer_to_a_queue_in_another_language(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="basic")
    ana = await hub.agent(tenant, languages=["es", "en"])
    ana_peer = await hub.agent_peer(ana)
    _, [chat_id] = await queued_chats(hub, tenant, 1)
    await ana_peer.wait_for("chat_assigned")

    ack = await ana_peer.call("transfer", {"chat_id": chat_id, "language": "en"})

    assert (False, "plan_required") == (ack["ok"], ack["error"]["code"])
    stored = await get_chat(hub, ana, chat_id)
    assert ("active", ana["id"]) == (stored["status"], stored["agent_id"])


# -- offline: tickets instead of a queue -------------------------------------------------


def hours_that_exclude_now() -> dict[str, list[list[str]]]:
    """One hour a day, every day, twelve hours away from San Juan's time now."""
    hour = datetime.now(SAN_JUAN).hour
    start = 20 if hour < 12 else 3
    return {
        day: [[f"{start:02d}:00", f"{start + 1:02d}:00"]]
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }


async def assert_offline_with_ticket(
    hub: LiveHub, tenant: dict[str, Any], agent: dict[str, Any], reason: str
) -> None:
    visitor = await hub.visitor_peer(tenant)

    chat = await start_chat(visitor, SPANISH, language="es", name="Rosa", email="rosa@example.com")

    assert ("offline", reason) == (chat["status"], chat["reason"])
    status, body = await hub.request("GET", "/api/tickets", token=agent["token"])
    assert 200 == status, body
    assert [(chat["id"], reason, SPANISH, "Rosa", "rosa@example.com")] == [
        (t["chat_id"], t["reason"], t["text"], t["name"], t["email"]) for t in body["tickets"]
    ]
    assert [] == visitor.seen("queue_position")


async def test_start_chat_is_offline_with_a_ticket_when_nobody_is_online(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    ana = await hub.agent(tenant, languages=["es"])
    await hub.agent_peer(ana, online=False)

    await assert_offline_with_ticket(hub, tenant, ana, "no_agents")


async def test_start_chat_is_offline_with_a_ticket_when_nobody_online_speaks_its_language(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    john = await hub.agent(tenant, languages=["en"], name="John")
    await hub.agent_peer(john)
    ana = await hub.agent(tenant, languages=["es"], name="Ana")
    await hub.agent_peer(ana, online=False)

    await assert_offline_with_ticket(hub, tenant, john, "no_agents")


async def test_start_chat_is_offline_with_a_ticket_outside_opening_hours(hub: LiveHub) -> None:
    tenant = await hub.tenant(hours=hours_that_exclude_now())
    ana = await hub.agent(tenant, languages=["es"])
    ana_peer = await hub.agent_peer(ana)

    await assert_offline_with_ticket(hub, tenant, ana, "after_hours")
    assert [] == ana_peer.seen("chat_assigned")


async def test_start_chat_is_offline_with_a_ticket_on_a_holiday(make_hub: HubFactory) -> None:
    # Three Kings' Day (Epiphany) in Puerto Rico, mid-morning in San Juan
    hub = await make_hub(clock=ShiftedClock(datetime(2027, 1, 6, 10, 30, tzinfo=SAN_JUAN)))
    tenant = await hub.tenant(holidays="PR")
    ana = await hub.agent(tenant, languages=["es"])
    ana_peer = await hub.agent_peer(ana)

    await assert_offline_with_ticket(hub, tenant, ana, "holiday")
    assert [] == ana_peer.seen("chat_assigned")


# -- plans and languages -----------------------------------------------------------------


@pytest.mark.parametrize("plan", ["basic", "proactive"])
async def test_below_premium_every_chat_is_routed_in_the_primary_language(
    hub: LiveHub, plan: str
) -> None:
    tenant = await hub.tenant(plan=plan, languages=["es", "en"])
    ana = await hub.agent(tenant, languages=["es"], max_chats=5)
    john = await hub.agent(tenant, languages=["en"], max_chats=5)
    ana_peer = await hub.agent_peer(ana)
    john_peer = await hub.agent_peer(john)

    chosen = await start_chat(await hub.visitor_peer(tenant), ENGLISH, language="en")
    detected = await start_chat(await hub.visitor_peer(tenant), ENGLISH)

    assert [("active", "es"), ("active", "es")] == [
        (c["status"], c["language"]) for c in (chosen, detected)
    ]
    await ana_peer.wait_for("chat_assigned", count=2)
    assert [chosen["id"], detected["id"]] == assigned_ids(ana_peer)
    assert [] == assigned_ids(john_peer)


async def test_premium_detects_the_language_and_routes_to_an_agent_who_speaks_it(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant(plan="premium", languages=["es", "en"])
    ana = await hub.agent(tenant, languages=["es"], max_chats=5)
    john = await hub.agent(tenant, languages=["en"], max_chats=5)
    ana_peer = await hub.agent_peer(ana)
    john_peer = await hub.agent_peer(john)

    english = await start_chat(await hub.visitor_peer(tenant), ENGLISH)
    spanish = await start_chat(await hub.visitor_peer(tenant), "Hola, me interesa la Tacoma 2022")

    assert ("en", "es") == (english["language"], spanish["language"])
    assert english["id"] == (await john_peer.wait_for("chat_assigned"))["chat"]["id"]
    assert spanish["id"] == (await ana_peer.wait_for("chat_assigned"))["chat"]["id"]
    assert [english["id"]] == assigned_ids(john_peer)
    assert [spanish["id"]] == assigned_ids(ana_peer)


async def test_premium_overflow_gives_a_long_waiting_chat_to_an_agent_of_another_language(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant(plan="premium", languages=["es", "en"], overflow_after_s=1)
    john = await hub.agent(tenant, languages=["en"], name="John")
    john_peer = await hub.agent_peer(john)
    visitor = await hub.visitor_peer(tenant)

    started = time.monotonic()
    chat = await start_chat(visitor, SPANISH, language="es")

    assert "queued" == chat["status"]
    assert 1 == (await visitor.wait_for("queue_position"))["position"]
    assigned = await john_peer.wait_for("chat_assigned", timeout_s=3)
    waited_s = time.monotonic() - started
    assert waited_s >= 1.0, waited_s
    assert {"chat_id": chat["id"], "agent": {"name": "John"}} == await visitor.wait_for(
        "agent_joined"
    )
    assert (chat["id"], True) == (assigned["chat"]["id"], assigned["chat"]["overflowed"])
    assert "es" == assigned["chat"]["language"]
    stored = await get_chat(hub, john, chat["id"])
    assert (john["id"], True) == (stored["agent_id"], stored["overflowed"])
    overflow_note = "No había un agente libre en su idioma; otro agente atiende la conversación."
    assert ("system", overflow_note) == (
        stored["messages"][-1]["author"],
        stored["messages"][-1]["text"],
    )
