"""One visitor's data: the export holds all of it; erasure by id, e-mail or phone blanks
it at once, keeps timings, lists the CRM records to delete there too, and tells the
tenant's webhooks (`visitor.erased`, signed as Standard Webhooks)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from console.settings import Outbox
from integrations.webhooks.connector import verify_standard
from tests.support.fakes.salesforce import FakeSalesforce
from tests.support.harness import HubFactory, LiveHub, active_chat, eventually, start_chat
from tests.support.leads import LEAD, connect_salesforce, save, settled

FAST = Outbox(backoff_s=0.05, backoff_cap_s=0.2, poll_s=0.1, max_attempts=3, allow_private=True)
SECRET = "a-webhook-secret-of-the-dealer"


class Receiver:
    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        return web.json_response({"ok": True})


async def transcript(hub: LiveHub, token: str, chat_id: str) -> dict[str, Any]:
    status, chat = await hub.request("GET", f"/api/chats/{chat_id}", token=token)
    assert 200 == status, chat
    return chat  # type: ignore[no-any-return]


async def test_erasure_by_email_blanks_the_visitor_and_lists_the_crm_records(
    make_hub: HubFactory, salesforce: FakeSalesforce, aiohttp_server: Any
) -> None:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", receiver.handle)
    server = await aiohttp_server(app)
    hub = await make_hub(outbox=FAST)
    tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    admin = await connect_salesforce(hub, tenant, salesforce)
    status, _ = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={
            "url": str(server.make_url("/hooks")),
            "secret": SECRET,
            "events": ["visitor.erased"],
        },
    )
    assert 201 == status
    await visitor.call(
        "message", {"chat_id": chat["id"], "text": "Mi tablilla es ABC-123", "client_msg_id": "v1"}
    )
    lead = await save(agent_peer, chat, LEAD)
    [delivery] = await settled(hub, agent, lead["id"])
    session = await visitor.wait_for("session")
    visitor_id = session["visitor_id"]

    status, export = await hub.request(
        "GET", f"/api/visitors/{visitor_id}/export", token=admin["token"]
    )
    assert 200 == status, export
    assert "maria.rivera@example.com" == export["visitor"]["email"]
    assert "Mi tablilla es ABC-123" in [m["text"] for m in export["chats"][0]["messages"]]
    assert "Tacoma" == export["leads"][0]["vehicle"]["model"]
    status, elsewhere = await hub.request(
        "GET", f"/api/visitors/{visitor_id}/export", token=(await other_admin(hub))["token"]
    )
    assert 404 == status, elsewhere

    before = await transcript(hub, agent["token"], chat["id"])
    status, receipt = await hub.request(
        "POST",
        "/api/visitors/erase",
        token=admin["token"],
        json={"email": "MARIA.RIVERA@example.com"},
    )
    assert 200 == status, receipt
    assert {"visitors": 1, "chats": 1, "leads": 1} == {
        k: receipt["erased"][k] for k in ("visitors", "chats", "leads")
    }
    assert receipt["erased"]["messages"] >= 2
    assert [
        {"lead_id": lead["id"], "destination": "salesforce", "external_id": delivery["external_id"]}
    ] == receipt["crm_ids"]

    chat_after = await transcript(hub, agent["token"], chat["id"])
    assert {"[erased]"} == {m["text"] for m in chat_after["messages"]}
    assert "email" not in chat_after["visitor"]
    assert "name" not in chat_after["visitor"]
    assert [m["created_at"] for m in before["messages"]] == [
        m["created_at"] for m in chat_after["messages"]
    ]
    assert before["created_at"] == chat_after["created_at"]
    status, export = await hub.request(
        "GET", f"/api/visitors/{visitor_id}/export", token=admin["token"]
    )
    assert None is export["visitor"]["email"]
    assert "Mi tablilla" not in json.dumps(export)

    async def posted() -> Any:
        return receiver.posts

    [(headers, body)] = await eventually(posted, what="the visitor.erased webhook")
    assert verify_standard(SECRET, {k.lower(): v for k, v in headers.items()}, body)
    event = json.loads(body)
    assert ("visitor.erased", [visitor_id]) == (event["event"], event["data"]["visitor_ids"])
    assert receipt["crm_ids"] == event["data"]["crm_ids"]
    stale = {k.lower(): v for k, v in headers.items()}
    stale["webhook-timestamp"] = str(int(stale["webhook-timestamp"]) - 600)
    assert not verify_standard(SECRET, stale, body)  # a replay, ten minutes later

    status, audit = await hub.request("GET", "/api/audit", token=admin["token"])
    actions = [e["action"] for e in audit["events"]]
    assert {"visitor.exported", "visitor.erased"} <= set(actions)
    assert "tablilla" not in json.dumps(audit)


async def other_admin(hub: LiveHub) -> dict[str, Any]:
    return await hub.agent(await hub.tenant(), languages=["es"], role="admin")


async def test_erasure_by_phone_or_id_and_what_it_refuses(hub: LiveHub) -> None:
    tenant, _agent, _peer, visitor, _chat = await active_chat(hub)
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    caller = await hub.visitor_peer(tenant)
    ack = await caller.call(
        "start_chat", {"text": "Llámenme", "language": "es", "name": "Ana", "phone": "787-555-0199"}
    )
    assert ack["ok"], ack

    status, receipt = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"phone": "(787) 555-0199"}
    )
    assert (200, 1) == (status, receipt["erased"]["visitors"]), receipt
    status, nobody = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"email": "nadie@example.com"}
    )
    assert (200, 0, []) == (status, nobody["erased"]["visitors"], nobody["crm_ids"])
    status, unknown = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"visitor_id": "no-such"}
    )
    assert (404, "not_found") == (status, unknown["error"]["code"])
    for body in ({}, {"email": "a@b.example", "phone": "7875550100"}, {"email": "not mail"}):
        status, bad = await hub.request(
            "POST", "/api/visitors/erase", token=admin["token"], json=body
        )
        assert (400, "invalid_payload") == (status, bad["error"]["code"]), body
    session = await visitor.wait_for("session")
    status, done = await hub.request(
        "POST",
        "/api/visitors/erase",
        token=admin["token"],
        json={"visitor_id": session["visitor_id"]},
    )
    assert (200, 1) == (status, done["erased"]["chats"])


async def test_erasure_blanks_the_notes_agents_wrote_on_the_visitor_s_tickets(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin", name="Ana")
    # nobody online: each visitor's chat becomes a ticket, and Ana notes what she did
    notes = {"787-555-0199": "Llamé a Luis: quiere la Tacoma roja", "787-555-0123": "Marta: lunes"}
    tickets = {}
    for phone, note in notes.items():
        caller = await hub.visitor_peer(tenant)
        chat = await start_chat(caller, "Llámenme", name="Visitante", phone=phone)
        _status, listed = await hub.request("GET", "/api/tickets", token=admin["token"])
        [ticket] = [t for t in listed["tickets"] if t["chat_id"] == chat["id"]]
        status, noted = await hub.request(
            "PATCH", f"/api/tickets/{ticket['id']}", token=admin["token"], json={"note": note}
        )
        assert (200, [note]) == (status, [n["text"] for n in noted["notes"]]), noted
        tickets[phone] = ticket["id"]

    status, receipt = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"phone": "(787) 555-0199"}
    )
    assert (200, 1) == (status, receipt["erased"]["visitors"]), receipt

    async def ticket_notes(phone: str) -> list[tuple[str, str]]:
        status, body = await hub.request(
            "GET", f"/api/tickets/{tickets[phone]}", token=admin["token"]
        )
        assert 200 == status, body
        return [(n["text"], n["author_name"]) for n in body["ticket"]["notes"]]

    assert [("[erased]", "Ana")] == await ticket_notes("787-555-0199")
    assert [("Marta: lunes", "Ana")] == await ticket_notes("787-555-0123")
