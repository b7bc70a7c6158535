"""Supervisors' tiles: the arithmetic on its own, then over HTTP and pushed live on /agent,
with the plan and role gates, and any active chat of the tenant readable in progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.types import Agent, ChatDay
from console.routing.state import AgentPresence, Waiting
from console.store.models import ChatRow
from console.supervision.tiles import changed, start_of_day, tiles
from console.web.keys import STORE
from tests.support.harness import HubFactory, LiveHub, active_chat, start_chat

NOW = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 23:30 on the 24th in San Juan


def test_today_is_the_tenants_calendar_day() -> None:
    assert datetime(2026, 11, 24, 4, 0, tzinfo=UTC) == start_of_day(NOW, "America/Puerto_Rico")
    assert datetime(2026, 11, 25, 0, 0, tzinfo=UTC) == start_of_day(NOW, "UTC")


def test_tiles_count_the_floor() -> None:
    since = start_of_day(NOW, "America/Puerto_Rico")
    created = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    ana = Agent("a1", "t", "ana@x", "Ana", ("es",), 3, "agent", created)
    bob = Agent("a2", "t", "bob@x", "Bob", ("en",), 2, "agent", created)
    gone = Agent("a3", "t", "old@x", "Old", ("en",), 2, "agent", created, active=False)
    chats = [
        ChatDay("closed", created, created, created + timedelta(seconds=10), 5, created),
        ChatDay("active", created, created, created + timedelta(seconds=30), None, None),
        ChatDay("offline", created, None, None, None, None),
        ChatDay("closed", created, None, None, None, None, close_reason="abandoned"),
        # yesterday's chat, rated today: counts for CSAT, not for chats today
        ChatDay(
            "closed",
            since - timedelta(hours=1),
            since - timedelta(hours=1),
            None,
            3,
            created,
        ),
    ]
    waiting = [
        Waiting("c1", "es", int((NOW - timedelta(seconds=90)).timestamp() * 1000), False),
        Waiting("c2", "en", int((NOW - timedelta(seconds=20)).timestamp() * 1000), False),
    ]
    result = tiles(
        now=NOW,
        since=since,
        agents=[ana, bob, gone],
        presence=[
            AgentPresence("a1", "online", 2, 3, ("es",)),
            AgentPresence("a2", "away", 0, 2, ("en",)),
        ],
        waiting=waiting,
        chats=chats,
        active=[],
    )
    assert ["a1", "a2"] == [a["agent_id"] for a in result["agents"]]
    assert 1 == result["agents_online"]
    assert {"active_chats": 2, "capacity": 3} == result["load"]
    assert (2, 90, {"es": 1, "en": 1}) == (
        result["queue"]["length"],
        result["queue"]["longest_wait_s"],
        result["queue"]["by_language"],
    )
    assert (4, 2) == (result["chats_today"], result["missed_today"])
    assert 20.0 == result["avg_first_response_s"]
    assert {"average": 4.0, "count": 2} == result["csat_today"]


def test_only_a_real_change_is_pushed() -> None:
    base: dict[str, Any] = {
        "generated_at": "a",
        "queue": {"length": 1, "longest_wait_s": 5},
        "chats_today": 1,
    }
    ticked = {**base, "generated_at": "b", "queue": {"length": 1, "longest_wait_s": 6}}
    assert (True, False, True) == (
        changed(None, base),
        changed(base, ticked),
        changed(base, {**ticked, "chats_today": 2}),
    )


async def test_tiles_over_http_and_live_for_premium_supervisors(
    make_hub: HubFactory, database_url: str
) -> None:
    """On SQLite and on PostgreSQL."""
    hub = await make_hub(database_url=database_url)
    tenant = await hub.tenant(plan="premium")
    boss = await hub.agent(tenant, languages=["es"], role="supervisor")
    agent = await hub.agent(tenant, languages=["es"])
    watcher = await hub.agent_peer(boss, online=False)
    first = await watcher.wait_for("stats")
    assert (0, 0) == (first["chats_today"], first["queue"]["length"])

    status, refused = await hub.request("GET", "/api/supervisor/stats", token=agent["token"])
    assert (403, "forbidden") == (status, refused["error"]["code"])

    peer = await hub.agent_peer(agent)
    await watcher.wait_for("stats", lambda s: s["agents_online"] == 1)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, busco una guagua", language="es")
    await peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    live = await watcher.wait_for(
        "stats", lambda s: s["chats_today"] == 1 and s["load"]["active_chats"] == 1
    )
    assert [chat["id"]] == [c["chat_id"] for c in live["active_chats"]]

    ack = await peer.call(
        "message", {"chat_id": chat["id"], "text": "¡Hola!", "client_msg_id": "1"}
    )
    assert ack["ok"] is True, ack
    answered = await watcher.wait_for("stats", lambda s: s["avg_first_response_s"] is not None)
    assert answered["avg_first_response_s"] >= 0

    # The supervisor reads the chat in progress (sync and HTTP), without owning it.
    synced = await watcher.call("sync", {"chat_id": chat["id"]})
    assert ["Hola, busco una guagua", "¡Hola!"] == [m["text"] for m in synced["messages"]]
    status, body = await hub.request("GET", f"/api/chats/{chat['id']}", token=boss["token"])
    assert (200, "active") == (status, body["status"])

    status, stats = await hub.request("GET", "/api/supervisor/stats", token=boss["token"])
    assert 200 == status
    assert (1, 1) == (stats["chats_today"], stats["agents_online"])

    ack = await peer.call("close_chat", {"chat_id": chat["id"], "disposition": "sales_lead"})
    assert {"ok": True} == ack
    await watcher.wait_for("stats", lambda s: s["load"]["active_chats"] == 0)

    # The visitor rates the chat: CSAT today follows.
    rated = await visitor.call("rate", {"chat_id": chat["id"], "score": 4})
    assert rated["ok"] is True, rated
    csat = await watcher.wait_for("stats", lambda s: s["csat_today"]["count"] == 1)
    assert {"average": 4.0, "count": 1} == csat["csat_today"]


async def test_other_plans_get_plan_required_and_no_live_tiles(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="proactive")
    boss = await hub.agent(tenant, languages=["es"], role="supervisor")
    status, refused = await hub.request("GET", "/api/supervisor/stats", token=boss["token"])
    assert (403, "plan_required") == (status, refused["error"]["code"])
    assert "premium" in refused["error"]["message"]
    watcher = await hub.agent_peer(boss)
    await watcher.wait_for("queue")
    assert [] == watcher.seen("stats")


async def test_a_disposition_is_one_of_four(hub: LiveHub) -> None:
    _tenant, _agent, peer, _visitor, chat = await active_chat(hub, text="Hola")
    bad = await peer.call("close_chat", {"chat_id": chat["id"], "disposition": "angry"})
    assert (False, "invalid_payload") == (bad["ok"], bad["error"]["code"])
    assert bad["error"]["message"].startswith("disposition"), bad
    ok = await peer.call("close_chat", {"chat_id": chat["id"], "disposition": "spam"})
    assert {"ok": True} == ok
    async with hub.app[STORE].session() as s:
        row = await s.get(ChatRow, chat["id"])
        assert row is not None
        assert ("spam", "agent_closed") == (row.disposition, row.close_reason)
