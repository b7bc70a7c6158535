"""A phone written after the bot handed the chat off corrects the lead the bot saved
(console/hub/bots.py, `listen`); on a plan without lead capture there is no bot lead, and a
visitor's message with a digit reads none (issue 25: the read was one SQL statement for every
such message)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from console.domain.leads import LeadIn
from console.hub import Hub
from console.web.keys import HUB
from tests.support.harness import HubFactory, LiveHub
from tests.support.store import new_chat


async def waiting_chat(hub: LiveHub, plan: str) -> tuple[Hub, Any, Any]:
    """A visitor of a tenant on `plan` whose chat waits for an agent, with the lead the bot
    saved before handing it off (on this plan or not: what `listen` does with it)."""
    core: Hub = hub.app[HUB]
    tenant = await hub.tenant(plan=plan)
    stored = await core.store.get_tenant(tenant["id"])
    assert stored is not None
    chat = await new_chat(core.store, stored, text="Hola")
    await core.store.leads.save(
        stored,
        chat,
        LeadIn(first_name="Luis", last_name="Pérez", phone="787-555-0199"),
        source="bot",
        agent_id=None,
    )
    peer = await hub.visitor_peer(tenant, visitor_id=chat.visitor_id)
    return core, chat, peer


async def test_a_phone_written_after_the_hand_off_corrects_the_bot_s_lead(hub: LiveHub) -> None:
    core, chat, peer = await waiting_chat(hub, "premium")
    ack = await peer.call(
        "message",
        {"chat_id": chat.id, "text": "Perdón, mi celular es 787-555-0123", "client_msg_id": "c-1"},
    )
    assert ack["ok"] is True, ack
    for _ in range(100):
        lead = await core.store.leads.for_chat(chat.tenant_id, chat.id)
        assert lead is not None
        if lead.data.get("phone") != "+17875550199":
            break
        await asyncio.sleep(0.05)
    assert lead is not None
    assert "+17875550123" == lead.data["phone"]


async def test_without_lead_capture_a_message_with_digits_reads_no_lead(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub()
    core, chat, peer = await waiting_chat(hub, "basic")
    leads_read: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM leads" in statement:
            leads_read.append(statement)

    event.listen(core.store.engine.sync_engine, "before_cursor_execute", seen)
    for n in range(3):
        ack = await peer.call(
            "message",
            {
                "chat_id": chat.id,
                "text": f"Mi celular es 787-555-012{n}",
                "client_msg_id": f"c-{n}",
            },
        )
        assert ack["ok"] is True, ack
    await asyncio.sleep(0.3)  # what `listen` would have started, done
    assert [] == leads_read
    lead = await core.store.leads.for_chat(chat.tenant_id, chat.id)
    assert lead is not None
    assert "+17875550199" == lead.data["phone"]
