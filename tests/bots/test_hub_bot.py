"""The bot inside a real hub (embedded Redis, SQLite, Socket.IO peers): a visitor's chat
goes bot -> queue -> agent with the lead visible to the agent; after hours it ends in a
lead and a ticket; the bot's state survives a restart of the hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bots.base import Bot, BotContext, BotEvent, BotResult
from bots.script import default_script
from console.web.keys import HUB, STORE
from tests.support.harness import HubFactory, LiveHub, Peer, start_chat

S = default_script()


def bot_texts(peer: Peer, chat_id: str) -> list[str]:
    return [
        d["message"]["text"]
        for d in peer.seen("message")
        if d["chat_id"] == chat_id and d["message"]["author"] == "bot"
    ]


async def say(visitor: Peer, chat_id: str, text: str, n: int) -> dict[str, Any]:
    """Send a message and wait until the bot has written `n` messages in all."""
    ack: dict[str, Any] = await visitor.call(
        "message", {"chat_id": chat_id, "text": text, "client_msg_id": f"v-{text}"}
    )
    assert ack["ok"] is True, ack
    await visitor.wait_for(
        "message", lambda d: d["chat_id"] == chat_id and d["message"]["author"] == "bot", count=n
    )
    return ack


async def test_chat_goes_from_bot_to_queue_to_agent_with_the_lead(hub: LiveHub) -> None:
    tenant = await hub.tenant(bot_enabled=True)
    agent = await hub.agent(tenant, languages=["es"], name="María")
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)

    chat = await start_chat(visitor, "Soy Ana, 787-555-0123, me interesa la Tacoma 2022")
    assert "bot" == chat["status"]
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    assert [
        S.text("greeting", "es", dealer=tenant["name"]),
        S.text("ask_trade_in", "es"),
    ] == bot_texts(visitor, chat["id"])
    assert {"chat_id": chat["id"], "author": "bot", "typing": True} == (
        await visitor.wait_for("typing")
    )
    assert [] == agent_peer.seen("chat_assigned")  # the bot has it, not the queue

    await say(visitor, chat["id"], "No", 3)
    await say(visitor, chat["id"], "este mes", 4)
    assert S.text("handoff", "es", name="Ana") == bot_texts(visitor, chat["id"])[-1]

    # saved as soon as it had a name and a phone, then again when an answer changed it
    # ("No" to the trade-in changes nothing of it)
    told = await agent_peer.wait_for("lead_saved", count=2)
    assigned = await agent_peer.wait_for("chat_assigned")
    assert chat["id"] == told["chat_id"] == assigned["chat"]["id"]
    assert [None, "this_month"] == [
        d["lead"].get("timeframe") for d in agent_peer.seen("lead_saved")
    ]
    assert 1 == len({d["lead"]["id"] for d in agent_peer.seen("lead_saved")})
    lead = told["lead"]
    assert (
        "bot",
        "Ana",
        "+17875550123",
        "buy",
        "this_month",
        True,
        {"year": 2022, "make": "Toyota", "model": "Tacoma"},
    ) == (
        lead["source"],
        lead["first_name"],
        lead["phone"],
        lead["interest"],
        lead["timeframe"],
        lead["qualified"],
        lead["vehicle"],
    )
    # the agent gets the bot's part of the transcript with the chat
    assert [
        ("visitor", "Soy Ana, 787-555-0123, me interesa la Tacoma 2022"),
        ("bot", S.text("greeting", "es", dealer=tenant["name"])),
        ("bot", S.text("ask_trade_in", "es")),
        ("visitor", "No"),
        ("bot", S.text("ask_timeframe", "es")),
        ("visitor", "este mes"),
        ("bot", S.text("handoff", "es", name="Ana")),
    ] == [(m["author"], m["text"]) for m in assigned["chat"]["messages"]]
    assert ("active", "es") == (assigned["chat"]["status"], assigned["chat"]["language"])
    assert {"chat_id": chat["id"], "agent": {"name": "María"}} == (
        await visitor.wait_for("agent_joined")
    )

    status, listed = await hub.request("GET", "/api/leads", token=agent["token"])
    assert 200 == status
    assert [(lead["id"], chat["id"], "bot")] == [
        (item["id"], item["chat_id"], item["source"]) for item in listed["leads"]
    ]
    # the agent talks to the visitor from here on; the bot stays quiet
    ack = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "¡Hola Ana!", "client_msg_id": "a1"}
    )
    assert ack["ok"] is True
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "agent")
    await say_nothing_more(hub, visitor, chat["id"])


async def say_nothing_more(hub: LiveHub, visitor: Peer, chat_id: str) -> None:
    before = len(bot_texts(visitor, chat_id))
    await visitor.call("message", {"chat_id": chat_id, "text": "gracias", "client_msg_id": "v-x"})
    await hub.app[HUB].bots.idle()
    assert before == len(bot_texts(visitor, chat_id))


async def test_asking_for_a_person_in_english_queues_in_english(hub: LiveHub) -> None:
    tenant = await hub.tenant(bot_enabled=True)
    john = await hub.agent(tenant, languages=["en"], name="John")
    john_peer = await hub.agent_peer(john)
    visitor = await hub.visitor_peer(tenant)

    chat = await start_chat(visitor, "Hi, I want to talk to a real person please")
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    assert [
        S.text("greeting", "en", dealer=tenant["name"]),
        S.text("handoff_requested", "en"),
    ] == bot_texts(visitor, chat["id"])
    assigned = await john_peer.wait_for("chat_assigned")
    assert (chat["id"], "en") == (assigned["chat"]["id"], assigned["chat"]["language"])
    assert [] == john_peer.seen("lead_saved")  # no name nor contact: no lead


async def test_after_hours_premium_saves_lead_and_ticket_and_closes_politely(
    hub: LiveHub,
) -> None:
    # no opening hours at all: always closed, so the callback is "as soon as we open"
    tenant = await hub.tenant(bot_enabled=True, hours={})
    agent = await hub.agent(tenant, languages=["en"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)

    chat = await start_chat(
        visitor, "Hi, I'm John Smith, I need brake service for my F-150", language="en"
    )
    assert "bot" == chat["status"]
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    opening = "as soon as we open"
    assert [
        S.text("greeting_after_hours", "en", dealer=tenant["name"], opening=opening),
        S.text("ask_timeframe", "en"),
    ] == bot_texts(visitor, chat["id"])
    await say(visitor, chat["id"], "this week", 3)
    await say(visitor, chat["id"], "john@example.com", 4)
    assert (
        S.text("after_hours_done", "en", name="John", opening=opening)
        == (bot_texts(visitor, chat["id"])[-1])
    )
    closed = await visitor.wait_for("chat_closed")
    assert {"chat_id": chat["id"], "reason": "after_hours"} == closed

    told = await agent_peer.wait_for("lead_saved")
    assert ("bot", "service", "john@example.com", True) == (
        told["lead"]["source"],
        told["lead"]["interest"],
        told["lead"]["email"],
        told["lead"]["qualified"],
    )
    status, tickets = await hub.request("GET", "/api/tickets", token=agent["token"])
    assert 200 == status
    assert [(chat["id"], "after_hours", "John Smith", "john@example.com")] == [
        (t["chat_id"], t["reason"], t.get("name"), t.get("email")) for t in tickets["tickets"]
    ]
    assert [] == agent_peer.seen("chat_assigned")


async def test_bot_tenants_below_premium_keep_the_offline_form_after_hours(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant(plan="proactive", bot_enabled=True, hours={})
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, ¿hay alguien?")
    assert "offline" == chat["status"]


async def test_basic_plan_has_no_bot_even_when_enabled(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="basic", bot_enabled=True)
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola")
    assert "active" == chat["status"]
    assigned = await agent_peer.wait_for("chat_assigned")
    assert ["visitor"] == [m["author"] for m in assigned["chat"]["messages"]]


async def test_nobody_online_during_hours_ends_in_a_ticket_once_qualified(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="proactive", bot_enabled=True)
    supervisor = await hub.agent(tenant, languages=["es"], role="supervisor")
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(
        visitor, "Soy Ana Rivera, quiero comprar una Tacoma este mes, no tengo trade in"
    )
    assert "bot" == chat["status"]
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    await say(visitor, chat["id"], "787-555-0123", 3)
    assert S.text("no_agents_done", "es", name="Ana") == bot_texts(visitor, chat["id"])[-1]
    assert {"chat_id": chat["id"], "reason": "no_agents"} == await visitor.wait_for("chat_closed")
    _status, tickets = await hub.request("GET", "/api/tickets", token=supervisor["token"])
    assert [(chat["id"], "no_agents", "+17875550123")] == [
        (t["chat_id"], t["reason"], t.get("phone")) for t in tickets["tickets"]
    ]
    _status, leads = await hub.request("GET", "/api/leads", token=supervisor["token"])
    assert [("+17875550123", "Ana", "Rivera")] == [
        (item["phone"], item["first_name"], item["last_name"]) for item in leads["leads"]
    ]


async def test_the_bot_carries_on_after_a_hub_restart(make_hub: HubFactory, tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    first = await make_hub(data_dir=data_dir)
    tenant = await first.tenant(bot_enabled=True)
    agent = await first.agent(tenant, languages=["es"])
    visitor = await first.visitor_peer(tenant)
    visitor_id = (await visitor.wait_for("session"))["visitor_id"]
    await first.agent_peer(agent)
    chat = await start_chat(visitor, "Hola, quiero comprar una Hilux 2021, soy Roberto")
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    await first.close()
    await first.server.close()

    second = await make_hub(data_dir=data_dir)
    agent_peer = await second.agent_peer(agent)
    again = await second.visitor_peer(tenant, visitor_id=visitor_id)
    # what the bot learned before the restart is still known: it asks the next question
    await say(again, chat["id"], "no", 1)
    assert [S.text("ask_timeframe", "es")] == bot_texts(again, chat["id"])
    await say(again, chat["id"], "roberto@example.com", 2)
    await say(again, chat["id"], "hoy", 3)
    assigned = await agent_peer.wait_for("chat_assigned")
    assert chat["id"] == assigned["chat"]["id"]
    lead = (await agent_peer.wait_for("lead_saved"))["lead"]
    assert (
        "Roberto",
        "roberto@example.com",
        {"year": 2021, "make": "Toyota", "model": "Hilux"},
    ) == (
        lead["first_name"],
        lead["email"],
        lead["vehicle"],
    )
    stored = await second.app[STORE].get_chat(chat["id"])
    assert stored is not None
    assert "active" == stored.status


async def test_a_visitor_who_leaves_the_bot_is_kept_as_a_lead_and_the_chat_closes(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(visitor_grace_s=0.2)
    tenant = await hub.tenant(bot_enabled=True)
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Soy Ana, 787-555-0123, me interesa la Tacoma 2022")
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    first = await agent_peer.wait_for("lead_saved")
    assert "notes" not in first["lead"]  # saved at once, while the visitor was there
    await visitor.close()

    told = await agent_peer.wait_for("lead_saved", count=2)
    assert first["lead"]["id"] == told["lead"]["id"]
    queues_before = len(agent_peer.seen("queue"))
    assert (
        chat["id"],
        "bot",
        "+17875550123",
        "El visitante se fue antes de hablar con un asesor.",
    ) == (
        told["chat_id"],
        told["lead"]["source"],
        told["lead"]["phone"],
        told["lead"]["notes"],
    )
    # the lead is saved before the chat closes, and closing tells the agents the queue
    await agent_peer.wait_for("queue", count=queues_before + 1)
    status, stored = await hub.request("GET", f"/api/chats/{chat['id']}", token=agent["token"])
    assert (200, "closed", "abandoned") == (status, stored["status"], stored["close_reason"])
    assert [] == agent_peer.seen("chat_assigned")


async def test_premium_spanish_visitor_with_only_english_agents_gets_a_ticket(hub: LiveHub) -> None:
    tenant = await hub.tenant(bot_enabled=True)
    john = await hub.agent(tenant, languages=["en"], role="admin")
    john_peer = await hub.agent_peer(john)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(
        visitor, "Soy Ana Rivera, quiero comprar una Tacoma este mes, no tengo trade in"
    )
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    await say(visitor, chat["id"], "787-555-0123", 3)
    assert {"chat_id": chat["id"], "reason": "no_agents"} == await visitor.wait_for("chat_closed")
    assert [] == john_peer.seen("chat_assigned")
    _status, tickets = await hub.request("GET", "/api/tickets", token=john["token"])
    assert [(chat["id"], "no_agents", "es")] == [
        (t["chat_id"], t["reason"], t["language"]) for t in tickets["tickets"]
    ]


async def test_a_bot_that_fails_hands_its_visitor_to_a_person(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken bot (a bug, a script it cannot read) must not strand the visitor."""

    class Broken(Bot):
        def respond(self, event: BotEvent, context: BotContext) -> BotResult:
            raise RuntimeError("the bot broke")

    monkeypatch.setattr("console.hub.bots.get_bot", lambda name: Broken())
    tenant = await hub.tenant(bot_enabled=True)
    agent_peer = await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, quiero una Tacoma")
    assert "bot" == chat["status"]
    assigned = await agent_peer.wait_for("chat_assigned")
    assert chat["id"] == assigned["chat"]["id"]
    assert ["visitor"] == [m["author"] for m in assigned["chat"]["messages"]]


async def test_a_phone_corrected_after_the_hand_off_corrects_the_bots_lead(hub: LiveHub) -> None:
    tenant = await hub.tenant(bot_enabled=True)
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(
        visitor, "Soy Ana Rivera, 787-555-0191, quiero una Tacoma este mes, no tengo trade-in"
    )
    await agent_peer.wait_for("chat_assigned")
    first = await agent_peer.wait_for("lead_saved")
    assert "+17875550191" == first["lead"]["phone"]

    await say_to_agent(visitor, chat["id"], "perdón, me equivoqué, es 787-555-0192")
    corrected = await agent_peer.wait_for("lead_saved", count=2)
    assert ("+17875550192", "Ana", "bot") == (
        corrected["lead"]["phone"],
        corrected["lead"]["first_name"],
        corrected["lead"]["source"],
    )
    # what an agent wrote is the agent's: the bot leaves it alone
    saved = await agent_peer.call(
        "save_lead",
        {"chat_id": chat["id"], "lead": {**corrected["lead"], "phone": "+17875550193"}},
    )
    assert saved["ok"] is True, saved
    await say_to_agent(visitor, chat["id"], "o llámenme al 787-555-0194")
    await hub.app[HUB].bots.idle()
    _status, leads = await hub.request("GET", "/api/leads", token=agent["token"])
    assert ["+17875550193"] == [lead["phone"] for lead in leads["leads"]]


async def say_to_agent(visitor: Peer, chat_id: str, text: str) -> None:
    ack = await visitor.call(
        "message", {"chat_id": chat_id, "text": text, "client_msg_id": f"v-{text}"}
    )
    assert ack["ok"] is True, ack
