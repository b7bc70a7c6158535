"""No lead left behind (issue 23), on the real components: a live hub (embedded Redis,
SQLite or PostgreSQL), Socket.IO visitors, the outbox worker, the fake Salesforce over TLS,
a real SMTP server (aiosmtpd) and a real webhook receiver."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from lxml import etree

from bots.testing import DEALER_HOURS
from console.domain.clock import ShiftedClock
from console.settings import Outbox
from console.store.repository import Store
from integrations.adf.config import Smtp
from integrations.webhooks.connector import verify
from tests.support.fakes.salesforce import FakeSalesforce
from tests.support.harness import HubFactory, LiveHub, Peer, eventually, start_chat
from tests.support.leads import connect_salesforce
from tests.support.smtp import smtp_server
from tests.support.store import new_chat, new_tenant

FAST = Outbox(
    backoff_s=0.05,
    backoff_cap_s=0.2,
    poll_s=0.2,
    max_attempts=3,
    lease_s=30,
    throttle_pause_s=0,
    allow_private=True,  # the fakes listen on 127.0.0.1
)
# Friday 4 December 2026, 22:00 in San Juan: the dealer (DEALER_HOURS) opens Saturday 9:00
NIGHT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
NEXT_OPENING = "2026-12-05T13:00:00.000Z"


class Inbox:
    """What a real SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's handler name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, Smtp]]:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        yield inbox, Smtp(host="127.0.0.1", port=port, starttls=False, sender="x@charla.example")


class Receiver:
    """A dealer's webhook endpoint that checks signatures."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(self.secret, body, request.headers.get("X-Charla-Signature", "")):
            return web.Response(status=401)
        self.received.append(json.loads(body))
        return web.Response(status=204)


async def said(visitor: Peer, chat_id: str, text: str, n: int) -> None:
    """The visitor writes; wait until the bot has written `n` messages in all."""
    ack = await visitor.call(
        "message", {"chat_id": chat_id, "text": text, "client_msg_id": f"v-{text}"}
    )
    assert ack["ok"] is True, ack
    await visitor.wait_for(
        "message", lambda d: d["chat_id"] == chat_id and d["message"]["author"] == "bot", count=n
    )


async def listed(hub: LiveHub, token: str, what: str, count: int = 1) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        _status, body = await hub.request("GET", f"/api/{what}", token=token)
        return body[what] if len(body[what]) >= count else None

    return await eventually(found, what=what)  # type: ignore[no-any-return]


async def night_visitor(hub: LiveHub, tenant: dict[str, Any]) -> tuple[Peer, str]:
    """The issue's visitor: wants a Tacoma, no trade-in, then gives a name and a cell
    phone while the bot asks when."""
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, quiero comprar una Tacoma 2022")
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    await said(visitor, chat["id"], "no", 3)
    await said(visitor, chat["id"], "Soy Luis Pérez, mi celular es 787-555-0199", 4)
    return visitor, chat["id"]


async def test_the_night_visitor_who_leaves_mid_flow_leaves_a_lead_and_a_ticket(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(clock=ShiftedClock(NIGHT), visitor_grace_s=0.2)
    tenant = await hub.tenant(bot_enabled=True, hours=DEALER_HOURS, holidays="PR")
    supervisor = await hub.agent(tenant, languages=["es"], role="supervisor")
    token = supervisor["token"]

    visitor, chat_id = await night_visitor(hub, tenant)
    # saved the moment it was valid, before the visitor left
    [lead] = await listed(hub, token, "leads")
    assert ("bot", "Luis", "Pérez", "+17875550199", "buy", True) == (
        lead["source"],
        lead["first_name"],
        lead["last_name"],
        lead["phone"],
        lead["interest"],
        lead["qualified"],
    )
    status, none_yet = await hub.request("GET", "/api/tickets", token=token)
    assert (200, []) == (status, none_yet["tickets"])
    await visitor.close()  # the page is closed; the grace period runs out

    [ticket] = await listed(hub, token, "tickets")
    assert (chat_id, "after_hours", "open", NEXT_OPENING, "+17875550199", "Luis Pérez") == (
        ticket["chat_id"],
        ticket["reason"],
        ticket["status"],
        ticket["callback_due_at"],
        ticket["phone"],
        ticket["name"],
    )
    [again] = await listed(hub, token, "leads")
    assert (lead["id"], "+17875550199") == (again["id"], again["phone"])
    _status, chat = await hub.request("GET", f"/api/chats/{chat_id}", token=token)
    assert ("closed", "abandoned") == (chat["status"], chat["close_reason"])

    # one who ends the chat from the widget leaves the same
    other, other_chat = await night_visitor(hub, tenant)
    assert {"ok": True} == await other.call("end_chat", {"chat_id": other_chat})
    tickets = await listed(hub, token, "tickets", count=2)
    assert {(chat_id, NEXT_OPENING), (other_chat, NEXT_OPENING)} == {
        (t["chat_id"], t["callback_due_at"]) for t in tickets
    }
    _status, chat = await hub.request("GET", f"/api/chats/{other_chat}", token=token)
    assert "visitor_ended" == chat["close_reason"]


async def test_a_lead_completed_later_updates_the_same_crm_records(
    make_hub: HubFactory,
    salesforce: FakeSalesforce,
    smtp: tuple[Inbox, Smtp],
    aiohttp_server: Any,
) -> None:
    inbox, relay = smtp
    receiver = Receiver("webhook-secret-0123456789")
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    server = await aiohttp_server(app)
    hub = await make_hub(outbox=FAST, smtp=relay)
    tenant = await hub.tenant(bot_enabled=True)
    agent = await hub.agent(tenant, languages=["es"])
    await hub.agent_peer(agent)
    await connect_salesforce(hub, tenant, salesforce)
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    for path, body in (
        ("/api/integrations/adf", {"to": "leads@crm.example", "vendor_name": "Autos PR"}),
        (
            "/api/webhooks",
            {
                "url": str(server.make_url("/hooks")),
                "secret": receiver.secret,
                "events": ["lead.qualified", "lead.updated"],
            },
        ),
    ):
        status, _ = await hub.request(
            "PUT" if "integrations" in path else "POST", path, token=admin["token"], json=body
        )
        assert status in (200, 201)

    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Soy Ana Rivera, 787-555-0123, quiero comprar una Tacoma")
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot", count=2)
    [lead] = await listed(hub, agent["token"], "leads")

    async def delivered(count: int) -> list[dict[str, Any]] | None:
        _status, found = await hub.request("GET", f"/api/leads/{lead['id']}", token=admin["token"])
        done = [d for d in found["deliveries"] if d["status"] == "delivered"]
        return found["deliveries"] if len(done) >= count else None

    first = await eventually(lambda: delivered(3), what="the first deliveries")
    assert {"lead.qualified"} == {d["event"] for d in first}
    await said(visitor, chat["id"], "no", 3)  # no trade-in: nothing of the lead changes
    await said(visitor, chat["id"], "este mes", 4)
    every = await eventually(lambda: delivered(6), what="the updates")
    assert ["lead.qualified"] * 3 + ["lead.updated"] * 3 == [d["event"] for d in every]

    # Salesforce: one Lead, created once and then updated by its Id
    [sf_lead] = salesforce.leads
    assert (1, 1) == (
        salesforce.requests.count(("POST", "create:Lead")),
        salesforce.requests.count(("PATCH", "update:Lead")),
    )
    assert "Timeframe: this_month" in sf_lead["Description"]
    assert {sf_lead["Id"]} == {d["external_id"] for d in every if d["destination"] == "salesforce"}
    # ADF: two e-mails for the same prospect, the second a resend
    documents = [
        etree.fromstring(
            next(p for p in m.walk() if p.get_content_type() == "text/plain").get_payload(
                decode=True
            )
        )
        for m in inbox.messages
    ]
    assert [(lead["id"], "new"), (lead["id"], "resend")] == [
        (d.findtext("prospect/id"), d.find("prospect").get("status")) for d in documents
    ]
    # webhooks: lead.qualified, then lead.updated of the same lead
    assert [("lead.qualified", lead["id"], None), ("lead.updated", lead["id"], "this_month")] == [
        (r["event"], r["data"]["lead"]["id"], r["data"]["lead"].get("timeframe"))
        for r in receiver.received
    ]


async def test_a_ticket_is_taken_noted_resolved_and_reopened_and_the_tenant_is_told(
    make_hub: HubFactory, smtp: tuple[Inbox, Smtp]
) -> None:
    inbox, relay = smtp
    hub = await make_hub(clock=ShiftedClock(NIGHT), smtp=relay)
    # a basic dealer, closed at night: the widget's form files the ticket
    tenant = await hub.tenant(plan="basic", hours=DEALER_HOURS, holidays="PR")
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    ana = await hub.agent(tenant, languages=["es"], name="Ana")
    beto = await hub.agent(tenant, languages=["es"], name="Beto")
    stranger = await hub.agent(await hub.tenant(), languages=["es"], role="supervisor")
    status, _ = await hub.request(
        "PUT", "/api/integrations/notify", token=admin["token"], json={"to": "bdc@dealer.example"}
    )
    assert 200 == status

    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(
        visitor, "Necesito cita de servicio", name="Luis Pérez", phone="787-555-0199"
    )
    assert "offline" == chat["status"]
    [ticket] = await listed(hub, ana["token"], "tickets")
    assert ("open", NEXT_OPENING, False) == (
        ticket["status"],
        ticket["callback_due_at"],
        ticket["overdue"],
    )
    # the notification e-mail, in the tenant's language (basic plans too)
    [mail] = await eventually(lambda: inbox.messages, what="the notification e-mail")
    assert ("bdc@dealer.example", f"Nuevo ticket: Luis Pérez - {tenant['name']}", "es") == (
        mail["To"],
        mail["Subject"],
        mail["Content-Language"],
    )
    text = mail.get_content()
    assert "Llamar antes de: sábado 5 diciembre 2026, 9:00 a. m." in text.replace("\u202f", " ")
    assert "Teléfono: +17875550199" in text
    assert "Necesito cita de servicio" in text

    path = f"/api/tickets/{ticket['id']}"

    async def patch(token: str, body: Any) -> tuple[int, Any]:
        return await hub.request("PATCH", path, token=token, json=body)

    status, taken = await patch(ana["token"], {"status": "in_progress"})
    assert (200, "in_progress", ana["id"]) == (status, taken["status"], taken["assignee_id"])
    status, noted = await patch(
        ana["token"], {"note": "Llamé: no contestó", "status": "no_contact"}
    )
    assert (200, "no_contact", ["Llamé: no contestó"], ["Ana"]) == (
        status,
        noted["status"],
        [n["text"] for n in noted["notes"]],
        [n["author_name"] for n in noted["notes"]],
    )
    status, reopened = await patch(beto["token"], {"status": "open"})
    assert (200, "open") == (status, reopened["status"])
    status, given = await patch(admin["token"], {"assignee_id": beto["id"]})
    assert (200, beto["id"]) == (status, given["assignee_id"])
    status, resolved = await patch(beto["token"], {"status": "resolved", "note": "Cita el lunes"})
    assert (200, "resolved", 2) == (status, resolved["status"], len(resolved["notes"]))

    status, body = await hub.request("GET", "/api/tickets?status=resolved", token=ana["token"])
    assert (200, [ticket["id"]]) == (status, [t["id"] for t in body["tickets"]])
    assert {"open": 0, "in_progress": 0, "resolved": 1, "no_contact": 0, "overdue": 0} == (
        body["counts"]
    )
    status, opened = await hub.request("GET", path, token=ana["token"])
    assert (200, ticket["id"], False) == (status, opened["ticket"]["id"], "lead" in opened)

    # bad input: each says why; another tenant's ticket does not exist for its agents
    for token, payload, expected in (
        (ana["token"], {"status": "closed"}, (400, "invalid_payload", "status")),
        (admin["token"], {"assignee_id": stranger["id"]}, (400, "invalid_payload", "assignee_id")),
        (ana["token"], {"note": "x" * 2001}, (400, "invalid_payload", "at most 2000")),
        (ana["token"], {}, (400, "invalid_payload", "at least one")),
        (ana["token"], {"assignee_id": beto["id"]}, (403, "forbidden", "supervisor")),
        (stranger["token"], {"status": "open"}, (404, "not_found", "no ticket")),
    ):
        status, refused = await patch(token, payload)
        assert expected[:2] == (status, refused["error"]["code"]), refused
        assert expected[2] in refused["error"]["message"]
    status, refused = await hub.request("GET", "/api/tickets?status=done", token=ana["token"])
    assert (400, "invalid_payload") == (status, refused["error"]["code"])
    status, _ = await hub.request("GET", path, token=stranger["token"])
    assert 404 == status


async def test_tickets_come_overdue_first_then_by_due_time_then_newest(store: Store) -> None:
    tenant = await new_tenant(store)
    now = store.clock.now()
    for text, due in (
        ("no due time", None),
        ("due later", now + timedelta(hours=2)),
        ("overdue", now - timedelta(hours=1)),
        ("longest overdue", now - timedelta(hours=3)),
    ):
        await store.add_ticket(
            tenant_id=tenant.id,
            chat_id=None,
            visitor_id=None,
            language="es",
            reason="after_hours",
            text=text,
            name=None,
            email=None,
            phone=None,
            callback_due_at=due,
        )
    tickets = await store.tickets.search(tenant.id)
    assert ["longest overdue", "overdue", "due later", "no due time"] == [t.text for t in tickets]
    assert [True, True, False, False] == [t.overdue(now) for t in tickets]
    worked = await store.tickets.update(
        tenant.id, tickets[0].id, agent_id="a-1", status="resolved", note="Llamado"
    )
    assert worked is not None
    assert ("resolved", ["Llamado"]) == (worked.status, [n.text for n in worked.notes])
    assert {"open": 3, "in_progress": 0, "resolved": 1, "no_contact": 0, "overdue": 1} == (
        await store.tickets.counts(tenant.id)
    )
    assert None is await store.tickets.get((await new_tenant(store)).id, tickets[0].id)


async def test_a_ticket_whose_announcement_a_crash_lost_is_announced_once_by_the_sweep(
    store: Store,
) -> None:
    """Issue 23: the ticket commits, the process dies before its ticket.created rows."""
    tenant = await new_tenant(store)
    quiet = await new_tenant(store)  # nowhere to send a notice: never looked at
    hook = await store.integrations.add_webhook(
        tenant.id, url="https://crm.example/t", secret="s" * 16, events=["ticket.created"]
    )
    await store.integrations.put(tenant.id, "notify", {"to": "bdc@dealer.example"}, None)
    told = await new_chat(store, tenant)
    announced = await store.add_ticket(**ticket_fields(tenant.id, told.id, "anunciado"))
    assert 2 == len(await store.tickets.announce(tenant, announced))
    lost_chat = await new_chat(store, tenant)
    lost = await store.add_ticket(**ticket_fields(tenant.id, lost_chat.id, "perdido"))
    by_phone = await store.add_ticket(**ticket_fields(tenant.id, None, "llamada"))
    await store.add_ticket(**ticket_fields(quiet.id, None, "sin destino"))

    assert 0 == await store.tickets.recover_announcements()  # too recent: the hub may be at it
    later = store.clock.now() + timedelta(minutes=1)
    assert 4 == await store.tickets.recover_announcements(now=later)
    assert 0 == await store.tickets.recover_announcements(now=later)
    # the hub's own call, late, adds nothing either
    assert [] == await store.tickets.announce(tenant, lost)
    # a day later the sweep no longer looks
    await store.add_ticket(**ticket_fields(tenant.id, None, "viejo"))
    assert 0 == await store.tickets.recover_announcements(now=later + timedelta(days=2))

    rows = await store.outbox.claim("w", limit=20, lease_s=60)
    by_ticket: dict[str, set[str]] = {}
    for row in rows:
        assert row.payload is not None
        by_ticket.setdefault(row.payload["ticket"]["text"], set()).add(row.destination)
    assert {
        "anunciado": {"webhook", "notify"},
        "perdido": {"webhook", "notify"},
        "llamada": {"webhook", "notify"},
    } == by_ticket
    assert {hook.id} == {r.target_id for r in rows if r.destination == "webhook"}
    assert by_phone.id in {r.payload["ticket"]["id"] for r in rows if r.payload}
    assert [] == await store.outbox.search(quiet.id)


def ticket_fields(tenant_id: str, chat_id: str | None, text: str) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "chat_id": chat_id,
        "visitor_id": None,
        "language": "es",
        "reason": "agent",
        "text": text,
        "name": None,
        "email": None,
        "phone": None,
    }
