"""Data protection in the hub: card numbers never stored nor delivered, no text in logs."""

from __future__ import annotations

import structlog
from structlog.testing import capture_logs

from console.runtime.logs import merge_event_ids
from tests.support.harness import LiveHub, active_chat, start_chat


async def test_card_number_is_redacted_before_it_is_stored_or_delivered(hub: LiveHub) -> None:
    _tenant, agent, agent_peer, visitor, chat = await active_chat(
        hub, text="Pago con 4111 1111 1111 1111"
    )
    assigned = await agent_peer.wait_for("chat_assigned")
    ack = await visitor.call(
        "message",
        {
            "chat_id": chat["id"],
            "text": "la otra es 5500-0000-0000-0004 gracias",
            "client_msg_id": "c",
        },
    )
    delivered = await agent_peer.wait_for("message")
    status, stored = await hub.request("GET", f"/api/chats/{chat['id']}", token=agent["token"])

    assert "Pago con [card redacted]" == assigned["chat"]["messages"][0]["text"]
    assert "la otra es [card redacted] gracias" == ack["message"]["text"]
    assert ack["message"] == delivered["message"]
    assert 200 == status
    assert ["Pago con [card redacted]", "la otra es [card redacted] gracias"] == [
        m["text"] for m in stored["messages"]
    ]


async def test_logs_carry_ids_but_never_chat_text_or_contact_details(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    with capture_logs() as logs:
        chat = await start_chat(
            visitor,
            "Secreto: mi presupuesto es 30 mil",
            language="es",
            name="Ana Rivera",
            email="ana@correo.example",
            phone="787-555-0123",
        )
        await agent_peer.wait_for("chat_assigned")
        await visitor.call(
            "message", {"chat_id": chat["id"], "text": "otro secreto", "client_msg_id": "x"}
        )
        await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    assert {"chat_started", "chat_assigned", "chat_closed"} <= {e["event"] for e in logs}
    assert all(e.get("chat_id") == chat["id"] for e in logs if e["event"] == "chat_assigned")
    dumped = repr(logs)
    for secret in ("Secreto", "otro secreto", "Ana Rivera", "ana@correo.example", "555-0123"):
        assert secret not in dumped


async def test_log_lines_of_an_event_carry_its_tenant_chat_and_agent(hub: LiveHub) -> None:
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub, text="Hola")
    merging = [structlog.contextvars.merge_contextvars, merge_event_ids]
    with capture_logs(processors=merging) as logs:
        await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    [closed] = [e for e in logs if e["event"] == "chat_closed"]
    assert (tenant["id"], chat["id"], agent["id"]) == (
        closed["tenant_id"],
        closed["chat_id"],
        closed["agent_id"],
    )
