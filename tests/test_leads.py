"""Leads: saved by the chat's agent through `save_lead`, validated, read back over HTTP, and
queued for delivery (one outbox row per destination) in the same transaction."""

from __future__ import annotations

import uuid
from typing import Any

from console.domain.leads import LeadIn
from console.domain.types import Tenant
from console.store.models import IntegrationRow, WebhookRow
from console.store.repository import Store
from tests.support.harness import LiveHub, active_chat, start_chat
from tests.support.store import new_chat, new_tenant

LEAD: dict[str, Any] = {
    "first_name": "Ana",
    "last_name": "Rivera",
    "phone": "787-555-0123",
    "email": "Ana.Rivera@Example.com",
    "interest": "buy",
    "vehicle": {"year": 2022, "make": "Toyota", "model": "Tacoma", "condition": "used"},
    "timeframe": "this month",
}


async def test_agent_saves_a_lead_that_the_tenant_reads_back(hub: LiveHub) -> None:
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)

    ack = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})

    assert ack["ok"] is True, ack
    lead = ack["lead"]
    assert "+17875550123" == lead["phone"]
    assert "Ana.Rivera@example.com" == lead["email"]
    assert {"year": 2022, "make": "Toyota", "model": "Tacoma", "condition": "used"} == (
        lead["vehicle"]
    )
    assert (chat["id"], "es", "buy", True, "agent") == (
        lead["chat_id"],
        lead["language"],
        lead["interest"],
        lead["qualified"],
        lead["source"],
    )
    told = await agent_peer.wait_for("lead_saved")
    assert {"chat_id": chat["id"], "lead": lead} == told

    status, listed = await hub.request("GET", "/api/leads", token=agent["token"])
    assert 200 == status
    assert [lead["id"]] == [item["id"] for item in listed["leads"]]
    status, one = await hub.request("GET", f"/api/leads/{lead['id']}", token=agent["token"])
    assert (200, lead) == (status, one)

    other = await hub.agent(await hub.tenant(), languages=["es"])
    status, body = await hub.request("GET", f"/api/leads/{lead['id']}", token=other["token"])
    assert (404, "not_found") == (status, body["error"]["code"])
    status, body = await hub.request("GET", "/api/leads", token=other["token"])
    assert (200, []) == (status, body["leads"])
    assert tenant["id"] != other["tenant_id"]


async def test_saving_again_updates_the_chats_one_lead(hub: LiveHub) -> None:
    _tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)
    first = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    second = await agent_peer.call(
        "save_lead",
        {"chat_id": chat["id"], "lead": {**LEAD, "timeframe": "today", "interest": "finance"}},
    )

    assert first["lead"]["id"] == second["lead"]["id"]
    assert ("today", "finance") == (second["lead"]["timeframe"], second["lead"]["interest"])
    status, listed = await hub.request("GET", "/api/leads", token=agent["token"])
    assert (200, 1) == (status, len(listed["leads"]))


async def test_an_unreachable_or_impossible_lead_says_what_to_fix(hub: LiveHub) -> None:
    _tenant, _agent, agent_peer, _visitor, chat = await active_chat(hub)
    cases = {
        "first_name": {"phone": "787-555-0123"},
        "phone or an e-mail": {"first_name": "Ana"},
        "phone": {"first_name": "Ana", "phone": "12"},
        "e-mail": {"first_name": "Ana", "email": "ana@"},
        "year": {**LEAD, "vehicle": {"year": 1066}},
        "interest": {**LEAD, "interest": "teleport"},
    }
    for hint, lead in cases.items():
        ack = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": lead})
        assert "invalid_payload" == ack["error"]["code"], (hint, ack)
        assert hint in ack["error"]["message"], (hint, ack)
    ack = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": "Ana"})
    assert "invalid_payload" == ack["error"]["code"]


async def test_only_the_chats_agent_or_a_supervisor_saves_its_lead(hub: LiveHub) -> None:
    tenant, _agent, _agent_peer, _visitor, chat = await active_chat(hub)
    colleague = await hub.agent_peer(await hub.agent(tenant, languages=["es"]), online=False)
    boss = await hub.agent_peer(
        await hub.agent(tenant, languages=["es"], role="supervisor"), online=False
    )
    stranger = await hub.agent_peer(
        await hub.agent(await hub.tenant(), languages=["es"], role="admin"), online=False
    )

    refused = await colleague.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    assert "forbidden" == refused["error"]["code"]
    unknown = await stranger.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    assert "not_found" == unknown["error"]["code"]
    saved = await boss.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    assert saved["ok"] is True


async def test_a_queued_chats_lead_can_be_saved_by_a_supervisor(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    visitor = await hub.visitor_peer(tenant)
    boss = await hub.agent_peer(
        await hub.agent(tenant, languages=["en"], role="supervisor"), online=False
    )
    chat = await start_chat(visitor, "Hola", language="es")
    saved = await boss.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    assert (True, "es") == (saved["ok"], saved["lead"]["language"])


# -- the outbox rows, on both databases -----------------------------------------------------


async def configure_everything(store: Store, tenant: Tenant) -> None:
    async with store.session() as s, s.begin():
        for kind in ("salesforce", "adf"):
            s.add(
                IntegrationRow(
                    tenant_id=tenant.id, kind=kind, config={}, updated_at=store.clock.now()
                )
            )
        for url, event in (("hook", "lead.qualified"), ("closed", "chat.closed")):
            s.add(
                WebhookRow(
                    id=str(uuid.uuid4()),
                    tenant_id=tenant.id,
                    url=f"https://crm.example/{url}",
                    secret_enc=store.cipher.encrypt("s3cret"),
                    events=[event],
                    created_at=store.clock.now(),
                )
            )


async def saved_destinations(store: Store, plan: str, **changes: Any) -> list[str]:
    tenant = await new_tenant(store, plan)
    await configure_everything(store, tenant)
    chat = await new_chat(store, tenant)
    lead, queued = await store.leads.save(
        tenant, chat, LeadIn.model_validate({**LEAD, **changes}), source="agent", agent_id=None
    )
    assert sorted(d.id for d in queued) == sorted(d.id for d in lead.deliveries)
    assert {"pending"} >= {d.status for d in queued}
    return sorted(d.destination for d in queued)


async def test_destinations_follow_the_plan(store: Store) -> None:
    assert ["adf", "salesforce", "webhook"] == await saved_destinations(store, "premium")
    assert ["adf", "webhook"] == await saved_destinations(store, "proactive")
    assert [] == await saved_destinations(store, "basic")


async def test_an_unqualified_lead_is_kept_but_not_sent(store: Store) -> None:
    assert [] == await saved_destinations(store, "premium", qualified=False)


async def test_a_pending_delivery_is_not_queued_twice(store: Store) -> None:
    tenant = await new_tenant(store)
    await configure_everything(store, tenant)
    chat = await new_chat(store, tenant, language="en", text="Hi")
    lead_in = LeadIn.model_validate(LEAD)
    first, queued = await store.leads.save(tenant, chat, lead_in, source="bot", agent_id=None)
    again, queued_again = await store.leads.save(
        tenant, chat, lead_in, source="agent", agent_id=None
    )

    assert 3 == len(queued)
    assert [] == queued_again
    assert first.id == again.id
    assert 3 == len(again.deliveries)
    assert "Ana" == (await store.leads.for_chat(tenant.id, chat.id)).data["first_name"]  # type: ignore[union-attr]
    assert None is await store.leads.get("another-tenant", first.id)


async def test_whoever_takes_the_chat_next_gets_its_lead_with_it(hub: LiveHub) -> None:
    tenant, _agent, agent_peer, _visitor, chat = await active_chat(hub)
    saved = await agent_peer.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    colleague = await hub.agent(tenant, languages=["es"])
    colleague_peer = await hub.agent_peer(colleague)

    moved = await agent_peer.call("transfer", {"chat_id": chat["id"], "agent_id": colleague["id"]})

    assert moved["ok"] is True, moved
    assigned = await colleague_peer.wait_for("chat_assigned")
    expected = {k: v for k, v in saved["lead"].items() if k != "deliveries"}
    assert expected == assigned["chat"]["lead"]
    status, body = await hub.request("GET", f"/api/chats/{chat['id']}", token=colleague["token"])
    assert (200, expected) == (status, body["lead"])
    # the visitor panel shows who the lead says the visitor is
    assert ("Ana Rivera", "Ana.Rivera@example.com", "+17875550123") == (
        body["visitor"]["name"],
        body["visitor"]["email"],
        body["visitor"]["phone"],
    )
