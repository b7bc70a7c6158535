"""Leads reach the dealer's CRM through the outbox: a live hub, its in-process worker, and the
fake Salesforce over TLS, a real SMTP server (aiosmtpd) and a real webhook receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import pytest
import structlog
from aiohttp import web
from lxml import etree

from console.settings import Outbox
from integrations.adf.config import Smtp
from integrations.webhooks.connector import verify
from tests.support.connectors import ADF_DTD
from tests.support.fakes.salesforce import FakeSalesforce
from tests.support.harness import HubFactory, LiveHub, active_chat, eventually, start_chat
from tests.support.leads import LEAD, connect_salesforce, lead_deliveries, save, settled
from tests.support.smtp import smtp_server

FAST = Outbox(
    backoff_s=0.05,
    backoff_cap_s=0.2,
    poll_s=0.2,
    max_attempts=3,
    lease_s=30,
    throttle_pause_s=0,
    allow_private=True,  # the fakes listen on 127.0.0.1
)


class Inbox:
    """What a real SMTP server (aiosmtpd) received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's handler name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.arrived.set()
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        yield inbox, port


async def test_a_premium_lead_reaches_salesforce_once_with_its_task(
    make_hub: HubFactory, salesforce: FakeSalesforce, database_url: str
) -> None:
    hub = await make_hub(outbox=FAST, database_url=database_url)
    tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    await connect_salesforce(hub, tenant, salesforce)
    await agent_peer.call(
        "message",
        {"chat_id": chat["id"], "text": "¡Hola! ¿Cuándo la quiere ver?", "client_msg_id": "a1"},
    )

    lead = await save(agent_peer, chat, LEAD)
    await salesforce.wait_for("Task", 1, timeout_s=5)

    [delivery] = await settled(hub, agent, lead["id"])
    [created] = salesforce.leads
    [task] = salesforce.tasks
    assert ("salesforce", "delivered", 1, created["Id"]) == (
        delivery["destination"],
        delivery["status"],
        delivery["attempts"],
        delivery["external_id"],
    )
    assert ("Rivera", "+17875550123", "Chat") == (
        created["LastName"],
        created["Phone"],
        created["LeadSource"],
    )
    assert created["Id"] == task["WhoId"]
    assert task["Description"].endswith(f"Agent ({agent['name']}): ¡Hola! ¿Cuándo la quiere ver?")
    assert "Visitor: Hola, busco una Tacoma" in task["Description"]

    # The returning visitor (same e-mail), in a new chat, updates the same Lead
    await visitor.call("end_chat", {"chat_id": chat["id"]})
    again = await start_chat(visitor, "Vuelvo por la Tacoma", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == again["id"])
    second = await save(agent_peer, again, {**LEAD, "phone": None, "timeframe": "today"})
    await settled(hub, agent, second["id"])
    assert 1 == len(salesforce.leads)
    assert "Timeframe: today" in salesforce.leads[0]["Description"]
    assert 2 == len(salesforce.tasks)


async def test_a_basic_tenants_lead_never_leaves(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub = await make_hub(outbox=FAST)
    tenant, agent, agent_peer, _visitor, chat = await active_chat(
        hub, await hub.tenant(plan="basic")
    )
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    status, refused = await hub.request(
        "PUT",
        "/api/integrations/salesforce",
        token=admin["token"],
        json={
            "login_url": salesforce.base_url,
            "client_id": salesforce.client_id,
            "client_secret": salesforce.client_secret,
        },
    )
    assert (403, "plan_required") == (status, refused["error"]["code"])

    lead = await save(agent_peer, chat, LEAD)
    assert [] == lead["deliveries"]
    await asyncio.sleep(0.5)  # several polls of the worker
    assert ([], []) == (salesforce.requests, await lead_deliveries(hub, agent, lead["id"]))


async def test_a_refused_lead_is_parked_and_a_supervisor_retries_it(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub = await make_hub(outbox=FAST)
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)
    await connect_salesforce(hub, tenant, salesforce)
    salesforce.custom_fields["Lead"].add("Dealer_Code__c")
    salesforce.required["Lead"].append("Dealer_Code__c")

    lead = await save(agent_peer, chat, LEAD)
    [parked] = await settled(hub, agent, lead["id"])
    assert ("failed", 1) == (parked["status"], parked["attempts"])
    assert "REQUIRED_FIELD_MISSING" in parked["last_error"]
    assert "Dealer_Code__c" in parked["last_error"]
    assert 1 == sum(1 for _, what in salesforce.requests if what == "create:Lead")
    status, failed = await hub.request(
        "GET", "/api/leads?delivery_status=failed", token=agent["token"]
    )
    assert (200, [lead["id"]]) == (status, [item["id"] for item in failed["leads"]])

    path = f"/api/leads/{lead['id']}/deliveries/{parked['id']}/retry"
    status, refused = await hub.request("POST", path, token=agent["token"])
    assert (403, "forbidden") == (status, refused["error"]["code"])
    boss = await hub.agent(tenant, languages=["es"], role="supervisor")
    stranger = await hub.agent(await hub.tenant(), languages=["es"], role="supervisor")
    status, unknown = await hub.request("POST", path, token=stranger["token"])
    assert (404, "not_found") == (status, unknown["error"]["code"])

    salesforce.required["Lead"].remove("Dealer_Code__c")  # the dealer's admin fixes the org
    status, retried = await hub.request("POST", path, token=boss["token"])
    assert (200, "pending", 0) == (status, retried["status"], retried["attempts"])
    [delivered] = await settled(hub, agent, lead["id"])
    assert ("delivered", salesforce.leads[0]["Id"]) == (
        delivered["status"],
        delivered["external_id"],
    )
    status, again = await hub.request("POST", path, token=boss["token"])
    assert (409, "conflict") == (status, again["error"]["code"])


@pytest.mark.parametrize("kind", ["rate_limit", "unavailable", "expired_session"])
async def test_transient_failures_are_retried_with_backoff(
    make_hub: HubFactory, salesforce: FakeSalesforce, kind: str
) -> None:
    hub = await make_hub(outbox=FAST)
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)
    await connect_salesforce(hub, tenant, salesforce)
    salesforce.fail_next(kind, on="query")
    salesforce.fail_next(kind, on="query")

    lead = await save(agent_peer, chat, LEAD)
    [delivery] = await settled(hub, agent, lead["id"])
    assert (1, 1) == (len(salesforce.leads), len(salesforce.tasks))
    # two failures: the third attempt succeeds; an expired session is renewed within one
    expected_attempts = 2 if kind == "expired_session" else 3
    assert ("delivered", expected_attempts) == (delivery["status"], delivery["attempts"])


async def test_an_outage_longer_than_the_attempts_parks_the_delivery(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub = await make_hub(outbox=FAST)
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)
    await connect_salesforce(hub, tenant, salesforce)
    for _ in range(FAST.max_attempts):
        salesforce.fail_next("unavailable", on="query")

    lead = await save(agent_peer, chat, LEAD)
    [parked] = await settled(hub, agent, lead["id"])
    assert ("failed", 3) == (parked["status"], parked["attempts"])
    assert (
        "Salesforce is unavailable (HTTP 503) for the Lead (gave up after 3 attempts)"
        == parked["last_error"]
    )
    assert [] == salesforce.leads


async def test_the_client_secret_is_never_returned_nor_logged(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub = await make_hub(outbox=FAST)
    tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)
    with structlog.testing.capture_logs() as logs:
        admin = await connect_salesforce(
            hub, tenant, salesforce, field_map={"Model__c": "vehicle.model"}
        )
        salesforce.custom_fields["Lead"].add("Model__c")
        lead = await save(agent_peer, chat, LEAD)
        await settled(hub, agent, lead["id"])
    status, listed = await hub.request("GET", "/api/integrations", token=admin["token"])
    assert 200 == status
    assert {
        "kind": "salesforce",
        "login_url": salesforce.base_url,
        "client_id": salesforce.client_id,
        "ca_bundle": str(salesforce.certificates.ca_pem),
        "field_map": {"Model__c": "vehicle.model"},
        "has_secret": True,
    } == {k: v for k, v in listed["integrations"]["salesforce"].items() if k != "updated_at"}
    assert "Tacoma" == salesforce.leads[0]["Model__c"]
    assert salesforce.client_secret not in json.dumps(listed)
    assert salesforce.client_secret not in repr(logs)
    assert "maria.rivera" not in repr(logs)

    # Changing the mapping alone keeps the stored secret
    status, kept = await hub.request(
        "PUT",
        "/api/integrations/salesforce",
        token=admin["token"],
        json={"login_url": salesforce.base_url, "client_id": salesforce.client_id},
    )
    assert (200, True) == (status, kept["has_secret"])
    status, kept = await hub.request(
        "PUT",
        "/api/integrations/salesforce",
        token=admin["token"],
        json={"login_url": salesforce.base_url, "client_id": "x", "client_secret": ""},
    )
    assert (200, True, "x") == (status, kept["has_secret"], kept["client_id"])


async def test_bad_integration_settings_say_what_to_fix(
    hub: LiveHub, salesforce: FakeSalesforce
) -> None:
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    agent = await hub.agent(tenant, languages=["es"])
    base = {
        "login_url": "https://dealer.my.salesforce.com",
        "client_id": "x",
        "client_secret": "long-enough",
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "login_url": salesforce.base_url}, "127.0.0.1 is not a public address"),
        ({**base, "login_url": "http://insecure.example"}, "https"),
        ({**base, "client_secret": None, "client_id": "y"}, "client_secret"),
        ({**base, "ca_bundle": "/etc/passwd"}, "ca_bundle"),
        ({**base, "ca_bundle": "/dev/zero"}, "ca_bundle"),
        ({**base, "ca_bundle": "ca.pem"}, "ca_bundle"),
        ({**base, "field_map": {"Email": "email"}}, "Email"),
        ({**base, "field_map": {"Bad Name": "email"}}, "API name"),
        ({**base, "field_map": {"X__c": "password"}}, "vehicle.vin"),
    ]
    for case, hint in cases:
        body = {k: v for k, v in case.items() if v is not None}
        status, error = await hub.request(
            "PUT", "/api/integrations/salesforce", token=admin["token"], json=body
        )
        assert (400, "invalid_payload") == (status, error["error"]["code"]), body
        assert hint in error["error"]["message"], (hint, error)
    status, error = await hub.request(
        "PUT",
        "/api/integrations/adf",
        token=admin["token"],
        json={"to": "nope", "vendor_name": "X"},
    )
    assert (400, "to") == (status, error["error"]["message"][:2])
    status, error = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={"url": "ftp://x", "secret": "s" * 16, "events": ["lead.qualified"]},
    )
    assert 400 == status
    status, error = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={"url": "http://hooks.example/x", "secret": "s" * 16, "events": ["chat.closed"]},
    )
    assert (400, "url must be an https:// URL") == (status, error["error"]["message"])
    status, error = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={"url": "https://x.example", "secret": "s" * 16, "events": ["lead.lost"]},
    )
    assert 400 == status
    status, error = await hub.request(
        "PUT",
        "/api/integrations/adf",
        token=agent["token"],
        json={"to": "a@b.co", "vendor_name": "X"},
    )
    assert (403, "forbidden") == (status, error["error"]["code"])
    for path in ("/api/integrations", "/api/deliveries"):
        status, error = await hub.request("GET", path, token=agent["token"])
        assert (403, "forbidden") == (status, error["error"]["code"]), path
    status, error = await hub.request("GET", "/api/deliveries?status=lost", token=admin["token"])
    assert (400, "invalid_payload") == (status, error["error"]["code"])


async def test_an_adf_email_reaches_the_smtp_server_and_validates_against_the_dtd(
    make_hub: HubFactory, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    relay = Smtp(host="127.0.0.1", port=port, starttls=False, sender="leads@charla.example")
    hub = await make_hub(outbox=FAST, smtp=relay)
    tenant, agent, agent_peer, _visitor, chat = await active_chat(
        hub, await hub.tenant(plan="proactive")
    )
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    status, saved = await hub.request(
        "PUT",
        "/api/integrations/adf",
        token=admin["token"],
        json={"to": "leads@dealer-crm.example", "vendor_name": "Toyota de Bayamón"},
    )
    assert (200, "leads@dealer-crm.example") == (status, saved["to"])

    lead = await save(agent_peer, chat, {**LEAD, "notes": "Llamar <después> de las 5 & no antes"})
    await asyncio.wait_for(inbox.arrived.wait(), 10)
    [delivery] = await settled(hub, agent, lead["id"])
    [mail] = inbox.messages
    assert ("adf", "delivered") == (delivery["destination"], delivery["status"])
    assert ("leads@dealer-crm.example", "leads@charla.example") == (mail["To"], mail["From"])
    assert "Lead: María Rivera (buy) - Toyota de Bayamón" == mail["Subject"]
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    document = body.get_payload(decode=True)
    assert isinstance(document, bytes)
    root = etree.fromstring(document)
    dtd = etree.DTD(str(ADF_DTD))
    assert dtd.validate(root), dtd.error_log.filter_from_errors()
    assert ["2022", "Toyota", "Tacoma", "3TMCZ5AN1NM123456", "T1234"] == [
        root.findtext(f"prospect/vehicle[@interest='buy']/{tag}")
        for tag in ("year", "make", "model", "vin", "stock")
    ]
    assert "used" == root.find("prospect/vehicle[@interest='buy']").get("status")
    assert "82000" == root.findtext("prospect/vehicle[@interest='trade-in']/odometer")
    assert ["María", "Rivera", "maria.rivera@example.com", "+17875550123"] == [
        root.findtext("prospect/customer/contact/name[@part='first']"),
        root.findtext("prospect/customer/contact/name[@part='last']"),
        root.findtext("prospect/customer/contact/email"),
        root.findtext("prospect/customer/contact/phone"),
    ]
    comments = root.findtext("prospect/customer/comments")
    assert "Notes: Llamar <después> de las 5 & no antes" in comments
    assert "Visitor said: Hola, busco una Tacoma" in comments
    assert "Toyota de Bayamón" == root.findtext("prospect/vendor/vendorname")
    assert "Charla" == root.findtext("prospect/provider/name")
    assert lead["id"] == root.findtext("prospect/id")


class Receiver:
    """A dealer's webhook endpoint that verifies the signature like a receiver should."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict[str, Any]] = []
        self.rejected = 0
        self.arrived = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify(self.secret, body, request.headers.get("X-Charla-Signature", "")):
            self.rejected += 1
            return web.Response(status=401)
        async with self.arrived:
            self.received.append({"headers": dict(request.headers), "body": json.loads(body)})
            self.arrived.notify_all()
        return web.Response(status=204)

    async def wait(self, count: int) -> None:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: len(self.received) >= count), 10)


async def test_webhooks_are_signed_for_leads_and_closed_chats(
    make_hub: HubFactory, aiohttp_server: Any
) -> None:
    receiver = Receiver("webhook-secret-0123456789")
    app = web.Application()
    app.router.add_post("/hooks/charla", receiver.handle)
    server = await aiohttp_server(app)
    hub = await make_hub(outbox=FAST)
    tenant, _agent, agent_peer, _visitor, chat = await active_chat(
        hub, await hub.tenant(plan="proactive")
    )
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    url = str(server.make_url("/hooks/charla"))
    status, hook = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={"url": url, "secret": receiver.secret, "events": ["lead.qualified", "chat.closed"]},
    )
    assert (201, url, ["lead.qualified", "chat.closed"]) == (status, hook["url"], hook["events"])
    assert "secret" not in hook
    status, wrong = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={"url": url, "secret": "another-secret-0123456", "events": ["chat.closed"]},
    )
    assert 201 == status

    lead = await save(agent_peer, chat, LEAD)
    await receiver.wait(1)
    assert {"ok": True} == await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    await receiver.wait(2)

    first, second = receiver.received
    assert ("lead.qualified", lead["id"], "maria.rivera@example.com") == (
        first["body"]["event"],
        first["body"]["data"]["lead"]["id"],
        first["body"]["data"]["lead"]["email"],
    )
    assert first["headers"]["X-Charla-Delivery"] == first["body"]["id"]
    assert ("chat.closed", chat["id"], "agent_closed") == (
        second["body"]["event"],
        second["body"]["data"]["chat"]["id"],
        second["body"]["data"]["chat"]["reason"],
    )
    status, listed = await hub.request("GET", "/api/webhooks", token=admin["token"])
    assert [hook["id"], wrong["id"]] == [h["id"] for h in listed["webhooks"]]
    assert "another-secret-0123456" not in json.dumps(listed)
    boss = await hub.agent(tenant, languages=["es"], role="supervisor")

    async def failed_with(ending: str) -> dict[str, Any] | None:
        _, found = await hub.request("GET", "/api/deliveries?status=failed", token=boss["token"])
        return next((d for d in found["deliveries"] if d["last_error"].endswith(ending)), None)

    await eventually(lambda: failed_with("then retry"))
    assert 1 == receiver.rejected  # the other webhook signs with its own secret
    status, failed = await hub.request("GET", "/api/deliveries?status=failed", token=boss["token"])
    assert (200, ["chat.closed"]) == (status, [d["event"] for d in failed["deliveries"]])
    [parked] = failed["deliveries"]
    assert ("HTTP 401" in parked["last_error"], None) == (True, parked["lead_id"])

    # Retried, it fails again (the receiver still refuses that secret); then the admin
    # removes that webhook, and a retry fails at once saying so
    retry = f"/api/deliveries/{parked['id']}/retry"
    status, retried = await hub.request("POST", retry, token=boss["token"])
    assert (200, "pending") == (status, retried["status"])

    await eventually(lambda: failed_with("then retry"))
    assert 2 == receiver.rejected
    status, removed = await hub.request(
        "DELETE", f"/api/webhooks/{wrong['id']}", token=admin["token"]
    )
    assert (200, {"ok": True}) == (status, removed)
    status, again = await hub.request(
        "DELETE", f"/api/webhooks/{wrong['id']}", token=admin["token"]
    )
    assert (404, "not_found") == (status, again["error"]["code"])
    stranger = await hub.agent(await hub.tenant(), languages=["es"], role="admin")
    status, theirs = await hub.request(
        "DELETE", f"/api/webhooks/{hook['id']}", token=stranger["token"]
    )
    assert (404, "not_found") == (status, theirs["error"]["code"])
    status, retry_theirs = await hub.request("POST", retry, token=stranger["token"])
    assert (404, "not_found") == (status, retry_theirs["error"]["code"])

    status, retried = await hub.request("POST", retry, token=boss["token"])
    assert 200 == status
    gone = await eventually(lambda: failed_with("removed"))
    assert ("failed", 1, "the webhook was removed") == (
        gone["status"],
        gone["attempts"],
        gone["last_error"],
    )
    status, listed = await hub.request("GET", "/api/integrations", token=admin["token"])
    assert (200, {}, [hook["id"]]) == (
        status,
        listed["integrations"],
        [h["id"] for h in listed["webhooks"]],
    )


async def test_a_saved_lead_wakes_the_worker_at_once_without_waiting_for_its_poll(
    make_hub: HubFactory, salesforce: FakeSalesforce
) -> None:
    hub = await make_hub(outbox=Outbox(poll_s=60, allow_private=True))
    tenant, _agent, agent_peer, _visitor, chat = await active_chat(hub)
    await connect_salesforce(hub, tenant, salesforce)
    await asyncio.sleep(0.3)  # the worker is asleep on its 60 s poll

    loop = asyncio.get_running_loop()
    started = loop.time()
    await save(agent_peer, chat, LEAD)
    await salesforce.wait_for("Task", 1, timeout_s=10)
    assert loop.time() - started < 10  # woken by Redis, not by the 60 s poll


async def test_garbage_bodies_on_the_integration_endpoints_say_what_to_fix(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    headers = {"Authorization": f"Bearer {admin['token']}"}
    cases: list[tuple[str, str, bytes, int, str]] = [
        ("PUT", "/api/integrations/salesforce", b"{not json", 400, "JSON"),
        ("PUT", "/api/integrations/adf", b"[1, 2]", 400, "object"),
        ("POST", "/api/webhooks", b'{"url": 5, "secret": "s", "events": []}', 400, "url"),
        ("PUT", "/api/integrations/adf", b'{"to": "a@b.co", "vendor_name": "X", "x": 1}', 400, "x"),
        ("POST", "/api/webhooks", b'{"url": "https://h.example"}', 400, "secret"),
        ("PUT", "/api/integrations/adf", b'{"to": "' + b"a" * 70000 + b'"}', 413, "too large"),
    ]
    for method, path, body, status, hint in cases:
        async with hub.http.request(method, hub.url + path, data=body, headers=headers) as r:
            answer = await r.json(content_type=None)
        assert status == r.status, (path, body[:40], answer)
        assert hint in answer["error"]["message"], (path, answer)
    status, missing = await hub.request(
        "DELETE", "/api/integrations/salesforce", token=admin["token"]
    )
    assert (404, "not_found") == (status, missing["error"]["code"])
    status, unknown = await hub.request("DELETE", "/api/integrations/zapier", token=admin["token"])
    assert (404, "not_found") == (status, unknown["error"]["code"])
