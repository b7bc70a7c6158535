"""Supervision over the protocol (PROTOCOL 1.2): `assign`, `join` (whisper and visible),
`leave`; and the property that a whisper never reaches the visitor by any path: the live
event, `sync`, the visitor's export, the transcript the outbox sends to the CRM."""

from __future__ import annotations

import json
from typing import Any

from console.domain.types import iso
from console.store.models import ChatRow
from console.web.keys import STORE
from tests.support.fakes.salesforce import FakeSalesforce
from tests.support.harness import HubFactory, LiveHub, Peer, active_chat, start_chat
from tests.support.leads import LEAD, connect_salesforce, save, settled
from tests.test_outbox import FAST

COACHING = "Ofrécele la prueba de manejo del sábado"


async def supervisor(hub: LiveHub, tenant: dict[str, Any]) -> tuple[dict[str, Any], Peer]:
    boss = await hub.agent(tenant, languages=["es", "en"], role="supervisor", name="Sofía Cruz")
    return boss, await hub.agent_peer(boss, online=False)


async def whisper(peer: Peer, chat_id: str, text: str, n: str) -> Any:
    return await peer.call(
        "message", {"chat_id": chat_id, "text": text, "client_msg_id": n, "whisper": True}
    )


async def test_a_whisper_reaches_the_agent_and_never_the_visitor_by_any_path(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub = await make_hub(outbox=FAST)
    tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    boss, boss_peer = await supervisor(hub, tenant)
    await connect_salesforce(hub, tenant, salesforce)

    # Nobody has joined: a whisper has nobody to hear it.
    refused = await whisper(agent_peer, chat["id"], "¿Me ayudas?", "w0")
    assert "conflict" == refused["error"]["code"]

    joined = await boss_peer.call("join", {"chat_id": chat["id"], "mode": "whisper"})
    assert (True, chat["id"]) == (joined["ok"], joined["chat"]["id"])
    ack = await whisper(boss_peer, chat["id"], COACHING, "w1")
    assert (True, True) == (ack["ok"], ack["message"]["whisper"])
    heard = await agent_peer.wait_for("message", lambda d: d["message"]["text"] == COACHING)
    assert (True, "Sofía Cruz") == (heard["message"]["whisper"], heard["message"]["author_name"])
    # the agent answers the supervisor, unseen too; the supervisor hears it and the visitor
    reply = await whisper(agent_peer, chat["id"], "Dale, se lo ofrezco", "w2")
    assert reply["ok"] is True, reply
    await boss_peer.wait_for("message", lambda d: d["message"]["text"] == "Dale, se lo ofrezco")
    said = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "¿Y el precio?", "client_msg_id": "v1"}
    )
    assert said["ok"] is True
    await boss_peer.wait_for("message", lambda d: d["message"]["text"] == "¿Y el precio?")
    # In whisper mode the supervisor's unflagged message is refused, not sent to the visitor.
    slip = await boss_peer.call(
        "message", {"chat_id": chat["id"], "text": "Hola, soy la gerente", "client_msg_id": "s"}
    )
    assert "conflict" == slip["error"]["code"]
    await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "Tenemos prueba el sábado", "client_msg_id": "a"}
    )

    # The agent's console sees the whispers in sync and in the transcript; the visitor never.
    agent_sync = await agent_peer.call("sync", {"chat_id": chat["id"]})
    assert {COACHING, "Dale, se lo ofrezco"} <= {m["text"] for m in agent_sync["messages"]}
    status, wire = await hub.request("GET", f"/api/chats/{chat['id']}", token=agent["token"])
    assert 200 == status
    assert 2 == sum(1 for m in wire["messages"] if m.get("whisper"))

    lead = await save(agent_peer, chat, LEAD)
    await salesforce.wait_for("Task", 1, timeout_s=5)
    await settled(hub, agent, lead["id"])
    await visitor.call("end_chat", {"chat_id": chat["id"]})
    visitor_sync = await visitor.call("sync", {"chat_id": chat["id"]})
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    status, export = await hub.request(
        "GET", f"/api/visitors/{wire['visitor']['id']}/export", token=admin["token"]
    )
    assert 200 == status, export

    outside = {
        "live events": json.dumps(visitor.events, ensure_ascii=False),
        "sync": json.dumps(visitor_sync, ensure_ascii=False),
        "export": json.dumps(export, ensure_ascii=False),
        "salesforce task": json.dumps(salesforce.tasks, ensure_ascii=False),
        "salesforce lead": json.dumps(salesforce.leads, ensure_ascii=False),
    }
    assert "Tenemos prueba el sábado" in outside["sync"]  # the paths carry the chat itself
    assert "Tenemos prueba el sábado" in outside["salesforce task"]
    leaked = {
        path
        for path, text in outside.items()
        for secret in (COACHING, "Dale, se lo ofrezco")
        if secret in text
    }
    assert set() == leaked
    # a whisper is no reply to the visitor: the first response is the agent's first message
    [answer] = [m for m in agent_sync["messages"] if m["text"] == "Tenemos prueba el sábado"]
    async with hub.app[STORE].session() as s:
        row = await s.get(ChatRow, chat["id"])
        assert row is not None
        # stamped when that message was committed, not at the whisper before it
        assert answer["created_at"] <= str(iso(row.first_agent_reply_at))
    assert boss["id"]


async def test_visible_join_speaks_to_the_visitor_with_the_supervisors_name(
    hub: LiveHub,
) -> None:
    tenant, _agent, agent_peer, visitor, chat = await active_chat(hub)
    _boss, boss_peer = await supervisor(hub, tenant)
    plain = await hub.agent(tenant, languages=["es"])
    plain_peer = await hub.agent_peer(plain, online=False)
    for event, payload in (
        ("join", {"chat_id": chat["id"], "mode": "visible"}),
        ("leave", {"chat_id": chat["id"]}),
        ("assign", {"chat_id": chat["id"], "agent_id": plain["id"]}),
    ):
        assert "forbidden" == (await plain_peer.call(event, payload))["error"]["code"]

    assert (await boss_peer.call("join", {"chat_id": chat["id"], "mode": "visible"}))["ok"]
    await visitor.wait_for("agent_joined", lambda d: d["agent"]["name"] == "Sofía Cruz")
    ack = await boss_peer.call(
        "message",
        {"chat_id": chat["id"], "text": "Soy la gerente, bienvenida", "client_msg_id": "b"},
    )
    assert ack["ok"] is True, ack
    got = await visitor.wait_for("message", lambda d: d["message"]["author"] == "agent")
    assert ("Soy la gerente, bienvenida", "Sofía Cruz") == (
        got["message"]["text"],
        got["message"]["author_name"],
    )
    await agent_peer.wait_for("message", lambda d: d["message"]["text"].startswith("Soy la"))
    assert {"ok": True} == await boss_peer.call("leave", {"chat_id": chat["id"]})
    after = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "Gracias", "client_msg_id": "x", "whisper": True}
    )
    assert "conflict" == after["error"]["code"]


async def test_a_supervisor_assigns_a_queued_chat_to_an_away_agent_by_the_rules(
    hub: LiveHub,
) -> None:
    tenant, _agent, _agent_peer, _visitor, _chat = await active_chat(hub, max_chats=1)
    _boss, boss_peer = await supervisor(hub, tenant)
    waiting = await hub.visitor_peer(tenant)
    queued = await start_chat(waiting, "Hola, ¿hay alguien?", language="es")
    assert "queued" == queued["status"]

    ana = await hub.agent(tenant, languages=["es"], max_chats=1, name="Ana Ortiz")
    ana_peer = await hub.agent_peer(ana, online=False)
    assert {"ok": True, "status": "away"} == await ana_peer.call("set_status", {"status": "away"})
    english = await hub.agent(tenant, languages=["en"])
    await hub.agent_peer(english)
    gone = await hub.agent(tenant, languages=["es"])  # never connected: offline

    for target, why in ((english, "does not speak"), (gone, "offline")):
        ack = await boss_peer.call("assign", {"chat_id": queued["id"], "agent_id": target["id"]})
        assert ("conflict", True) == (ack["error"]["code"], why in ack["error"]["message"]), ack

    ack = await boss_peer.call("assign", {"chat_id": queued["id"], "agent_id": ana["id"]})
    assert {"ok": True} == ack
    got = await ana_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == queued["id"])
    assert "active" == got["chat"]["status"]
    await waiting.wait_for("agent_joined", lambda d: d["agent"]["name"] == "Ana Ortiz")
    queue = await boss_peer.wait_for("queue", lambda d: not d["waiting"])
    assert [] == queue["waiting"]

    # Ana is full now; a second assignment to her is refused.
    other = await hub.visitor_peer(tenant)
    second = await start_chat(other, "Hola otra vez", language="es")
    full = await boss_peer.call("assign", {"chat_id": second["id"], "agent_id": ana["id"]})
    assert ("conflict", True) == (full["error"]["code"], "slot" in full["error"]["message"])
