"""A lead's `appointment` through the real hub: an agent books one inside the dealer's
hours, bad ones are refused with the reason and the next opening, the bot books the one
a visitor asks for, and Salesforce gets a Task due that day, created once and updated.

The hub's clock: Tuesday 24 November 2026, 10:00 in San Juan; DEALER_HOURS (Monday to
Friday 9-18, Saturday 9-13) and Puerto Rico's holidays (Thursday 26: Thanksgiving).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bots.testing import DEALER_HOURS
from console.domain.clock import ShiftedClock
from console.domain.leads import LeadIn
from console.settings import Outbox
from console.web.keys import STORE
from tests.support.fakes.salesforce import FakeSalesforce
from tests.support.harness import HubFactory, LiveHub, active_chat, eventually, start_chat
from tests.support.leads import connect_salesforce, save

OPEN = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
FAST = Outbox(
    backoff_s=0.05,
    backoff_cap_s=0.2,
    poll_s=0.2,
    max_attempts=3,
    lease_s=30,
    throttle_pause_s=0,
    allow_private=True,  # the fake Salesforce listens on 127.0.0.1
)
LEAD: dict[str, Any] = {
    "first_name": "Ana",
    "last_name": "Rivera",
    "phone": "787-555-0123",
    "interest": "buy",
    "vehicle": {"year": 2025, "make": "Toyota", "model": "Tacoma"},
}


async def dealer_hub(make_hub: HubFactory, **changes: Any) -> tuple[LiveHub, dict[str, Any]]:
    hub = await make_hub(clock=ShiftedClock(OPEN), **changes)
    tenant = await hub.tenant(hours=DEALER_HOURS, holidays="PR")
    return hub, tenant


async def test_an_agent_books_a_test_drive_inside_the_dealers_hours(make_hub: HubFactory) -> None:
    hub, tenant = await dealer_hub(make_hub)
    _tenant, agent, agent_peer, _visitor, chat = await active_chat(hub, tenant)
    appointment = {"kind": "test_drive", "at": "2026-11-28T10:00", "notes": "la roja"}

    lead = await save(agent_peer, chat, {**LEAD, "appointment": appointment})

    assert appointment == lead["appointment"]
    status, read = await hub.request("GET", f"/api/leads/{lead['id']}", token=agent["token"])
    assert (200, appointment) == (status, read["appointment"])


@pytest.mark.parametrize(
    ("appointment", "problem"),
    [
        (
            {"kind": "test_drive", "at": "2026-11-24T09:30"},
            "lead.appointment.at: 2026-11-24T09:30 is in the past (it is 2026-11-24T10:00 at the "
            "dealer); pick a later time",
        ),
        (
            {"kind": "visit", "at": "2026-11-24T18:30"},
            "lead.appointment.at: 2026-11-24T18:30 is outside the dealer's hours (Tuesday: "
            "09:00-18:00); the next opening is 2026-11-25T09:00",
        ),
        (
            {"kind": "service", "at": "2026-11-29T10:00"},
            "lead.appointment.at: 2026-11-29T10:00 is on a Sunday, when the dealer is closed; the "
            "next opening is 2026-11-30T09:00",
        ),
        (
            {"kind": "order", "at": "2026-11-26T11:00"},
            "lead.appointment.at: 2026-11-26T11:00 falls on a holiday, when the dealer is closed; "
            "the next opening is 2026-11-27T09:00",
        ),
        (
            {"kind": "test_drive", "at": "sábado a las 10"},
            "lead.appointment.at: Value error, write the dealer's local date and time as \"YYYY-MM-"
            'DDTHH:MM", like "2026-12-12T10:00" (no seconds, no time zone)',
        ),
        (
            {"kind": "picnic", "at": "2026-11-28T10:00"},
            "lead.appointment.kind: Value error, unknown appointment kind 'picnic'; use one of "
            "test_drive, service, order, visit",
        ),
        ({"kind": "visit"}, "lead.appointment.at: is required"),
    ],
)
async def test_a_bad_appointment_is_refused_saying_why(
    make_hub: HubFactory, appointment: dict[str, Any], problem: str
) -> None:
    hub, tenant = await dealer_hub(make_hub)
    _tenant, agent, agent_peer, _visitor, chat = await active_chat(hub, tenant)

    ack = await agent_peer.call(
        "save_lead", {"chat_id": chat["id"], "lead": {**LEAD, "appointment": appointment}}
    )

    assert {"ok": False, "error": {"code": "invalid_payload", "message": problem}} == ack
    status, listed = await hub.request("GET", "/api/leads", token=agent["token"])
    assert (200, []) == (status, listed["leads"])  # nothing saved


async def test_a_lead_saved_again_keeps_an_appointment_whose_day_has_passed(
    make_hub: HubFactory,
) -> None:
    """Checked when new or changed: an agent correcting the phone a week later is not
    refused for a test drive that already took place."""
    hub, tenant = await dealer_hub(make_hub)
    _tenant, _agent, agent_peer, _visitor, chat = await active_chat(hub, tenant)
    store = hub.app[STORE]
    past = {"kind": "test_drive", "at": "2026-11-20T10:00"}
    stored_chat = await store.get_chat(chat["id"])
    stored_tenant = await store.get_tenant(tenant["id"])
    assert stored_chat is not None
    assert stored_tenant is not None
    await store.leads.save(
        stored_tenant,
        stored_chat,
        LeadIn.model_validate({**LEAD, "appointment": past}),
        source="agent",
        agent_id=None,
    )

    lead = await save(agent_peer, chat, {**LEAD, "phone": "939-555-0123", "appointment": past})
    assert ("+19395550123", past) == (lead["phone"], lead["appointment"])

    moved = {"kind": "test_drive", "at": "2026-11-21T10:00"}
    ack = await agent_peer.call(
        "save_lead", {"chat_id": chat["id"], "lead": {**LEAD, "appointment": moved}}
    )
    assert "invalid_payload" == ack["error"]["code"]


async def test_the_bot_books_the_test_drive_the_visitor_asks_for(make_hub: HubFactory) -> None:
    hub = await make_hub(clock=ShiftedClock(OPEN))
    tenant = await hub.tenant(bot_enabled=True, hours=DEALER_HOURS, holidays="PR")
    agent = await hub.agent(tenant, languages=["es"])
    await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)

    await start_chat(
        visitor,
        "Soy Ana Rivera, 787-555-0123, quiero una prueba de manejo de la Tacoma 2025 el "
        "sábado a las 10 de la mañana",
    )

    async def saved() -> dict[str, Any] | None:
        _status, body = await hub.request("GET", "/api/leads", token=agent["token"])
        return body["leads"][0] if body["leads"] else None

    lead = await eventually(saved, what="the bot's lead")
    assert ("bot", {"kind": "test_drive", "at": "2026-11-28T10:00"}) == (
        lead["source"],
        lead["appointment"],
    )


async def test_salesforce_gets_a_task_due_that_day_created_once_and_updated(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub, tenant = await dealer_hub(make_hub, outbox=FAST)
    await connect_salesforce(hub, tenant, salesforce)
    _tenant, agent, agent_peer, _visitor, chat = await active_chat(hub, tenant)

    async def delivered(count: int) -> bool:
        _status, leads = await hub.request("GET", "/api/leads", token=agent["token"])
        deliveries: list[dict[str, Any]] = leads["leads"][0]["deliveries"] if leads["leads"] else []
        return len([d for d in deliveries if d["status"] == "delivered"]) >= count

    def appointment_tasks() -> list[dict[str, Any]]:
        return [t for t in salesforce.tasks if t["Subject"].startswith("Appointment request")]

    await save(
        agent_peer, chat, {**LEAD, "appointment": {"kind": "test_drive", "at": "2026-11-28T10:00"}}
    )
    await eventually(lambda: delivered(1), what="the first delivery")
    [sf_lead] = salesforce.leads
    [task] = appointment_tasks()
    assert (sf_lead["Id"], "2026-11-28", "Not Started", "High") == (
        task["WhoId"],
        task["ActivityDate"],
        task["Status"],
        task["Priority"],
    )
    assert task["Description"].startswith("Test drive: 2026-11-28 10:00 (America/Puerto_Rico)")
    assert "Appointment: Test drive: 2026-11-28 10:00" in sf_lead["Description"]

    await save(
        agent_peer, chat, {**LEAD, "appointment": {"kind": "test_drive", "at": "2026-11-30T15:30"}}
    )
    await eventually(lambda: delivered(2), what="the update")
    [moved] = appointment_tasks()
    assert (task["Id"], "2026-11-30") == (moved["Id"], moved["ActivityDate"])
    assert moved["Description"].startswith("Test drive: 2026-11-30 15:30")
    assert 2 == salesforce.requests.count(("POST", "create:Task"))  # transcript + appointment
