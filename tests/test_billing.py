"""A month billed end to end through the hub (SQLite and PostgreSQL): usage from real chats
and leads delivered to a real SMTP server, the credit from the closed SLA month, IVU, the
issue's exact figures, the PDF, late fees on an injected clock, and bad input."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.demo import ensure_demo
from console.settings import Outbox
from console.web.keys import PASSWORDS, STORE
from integrations.adf.config import Smtp
from tests.support.harness import ADMIN_TOKEN, HubFactory, LiveHub, eventually, start_chat
from tests.support.leads import LEAD, save
from tests.support.smtp import smtp_server
from tests.support.tools import missing

PR = ZoneInfo("America/Puerto_Rico")
FAST = Outbox(
    backoff_s=0.05,
    backoff_cap_s=0.2,
    poll_s=0.1,
    max_attempts=3,
    lease_s=30,
    throttle_pause_s=0,
    allow_private=True,
)
PRICE_BOOK: dict[str, Any] = {
    "effective_from": "2026-01-01",
    "plans": {
        "basic": {
            "monthly_fee": "500.00",
            "included_chats": 300,
            "per_chat": "1.50",
            "per_lead": "0.00",
        },
        "proactive": {
            "monthly_fee": "1500.00",
            "included_chats": 1000,
            "per_chat": "1.25",
            "per_lead": "12.00",
        },
    },
}
PROFILE: dict[str, Any] = {
    "legal_name": "Autos del Este LLC",
    "address": "Carr. 3 km 12, Fajardo, PR 00738",
    "tax_status": "b2b",
    "certificate": {"number": "B2B-2291", "expires_on": "2027-06-30"},
    "terms_days": 15,
    "late_fee": {"grace_days": 10, "monthly_pct": "1.50"},
}
AGREEMENT: dict[str, Any] = {
    "effective_from": "2026-11-01",
    "answer_s": 30,
    "target_pct": "90.00",
    "credits": [
        {"below_pct": "90.00", "credit_pct": "5.00"},
        {"below_pct": "80.00", "credit_pct": "10.00"},
    ],
    "cap_pct": "25.00",
}


class SteppedClock:
    """Time that stands still until the test moves it."""

    def __init__(self, local: str) -> None:
        self.at = datetime.now(UTC)
        self.set(local)

    def now(self) -> datetime:
        return self.at

    def set(self, local: str) -> None:
        self.at = datetime.fromisoformat(local).replace(tzinfo=PR).astimezone(UTC)

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's handler name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
async def smtp_port() -> AsyncIterator[int]:
    async with smtp_server(Inbox()) as port:
        yield port


async def admin(hub: LiveHub, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    return await hub.request(method, path, token=ADMIN_TOKEN, json=body)


async def seed_month(hub: LiveHub, clock: SteppedClock) -> tuple[dict[str, Any], dict[str, Any]]:
    """November 2026 of one proactive dealer: 40 visitors who each leave a qualified lead
    (delivered by ADF e-mail), a 41st lead from a visitor seen 20 days before, and one
    chat answered after 45 s (the SLA month's only eligible chat: a miss, 10% credit)."""
    tenant = await hub.tenant(plan="proactive", languages=["es"])
    base = f"/api/admin/tenants/{tenant['id']}"
    assert 200 == (await admin(hub, "PUT", f"{base}/agreement", AGREEMENT))[0]
    tenant_admin = await hub.agent(tenant, languages=["es"], role="admin")
    status, body = await hub.request(
        "PUT",
        "/api/integrations/adf",
        token=tenant_admin["token"],
        json={"to": "leads@dealer-crm.example", "vendor_name": "Autos del Este"},
    )
    assert 200 == status, body
    agent = await hub.agent(tenant, languages=["es"], max_chats=5)
    floor = await hub.agent_peer(agent)
    clock.set("2026-11-04 10:00:00")
    first_visitor = ""
    for number in range(41):
        if number == 40:
            clock.set("2026-11-24 10:00:00")  # the first visitor again, 20 days later
        visitor = await hub.visitor_peer(tenant, visitor_id=first_visitor if number == 40 else None)
        chat = await start_chat(visitor, f"Hola {number}", language="es")
        first_visitor = first_visitor or visitor.seen("session")[0]["visitor_id"]
        await floor.wait_for("chat_assigned", assigned_to(chat["id"]))
        phone = f"787-555-{1000 + number}"
        await save(floor, chat, {**LEAD, "phone": phone, "email": f"v{number}@example.com"})
        assert (await floor.call("close_chat", {"chat_id": chat["id"]}))["ok"]
    clock.set("2026-11-25 11:00:00")
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, ¿tienen la Tacoma?", language="es")
    await floor.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    clock.advance(45)
    ack = await floor.call("message", {"chat_id": chat["id"], "text": "Sí", "client_msg_id": "a"})
    assert ack["ok"], ack
    assert (await floor.call("close_chat", {"chat_id": chat["id"]}))["ok"]

    async def delivered() -> bool:
        status, leads = await hub.request("GET", "/api/leads", token=tenant_admin["token"])
        assert 200 == status, leads
        found = leads["leads"] if isinstance(leads, dict) else leads
        states = [d["status"] for lead in found for d in lead.get("deliveries", [])]
        return len(states) == 41 and all(s == "delivered" for s in states)

    await eventually(delivered, timeout_s=30, what="41 leads delivered by e-mail")
    return tenant, tenant_admin


def assigned_to(chat_id: str) -> Callable[[Any], bool]:
    return lambda data: bool(data["chat"]["id"] == chat_id)


def lines(invoice: dict[str, Any]) -> list[tuple[str, Any, str]]:
    return [(line["kind"], line["quantity"], line["amount"]) for line in invoice["lines"]]


async def test_a_seeded_month_is_billed_with_the_issue_figures(
    make_hub: HubFactory, database_url: str, smtp_port: int, tmp_path: Path
) -> None:
    clock = SteppedClock("2026-11-02 09:00:00")
    relay = Smtp(host="127.0.0.1", port=smtp_port, starttls=False, sender="leads@charla.example")
    hub = await make_hub(database_url=database_url, clock=clock, outbox=FAST, smtp=relay)
    assert 200 == (await admin(hub, "PUT", "/api/admin/price-book", PRICE_BOOK))[0]
    tenant, tenant_admin = await seed_month(hub, clock)
    base = f"/api/admin/tenants/{tenant['id']}"
    status, body = await admin(hub, "PUT", f"{base}/billing-profile", PROFILE)
    assert 200 == status, body

    # December 1st: the preview uses the live SLA figures; the run waits for their close
    clock.set("2026-12-01 09:00:00")
    status, preview = await admin(hub, "GET", f"{base}/invoice-preview?period=2026-11")
    assert 200 == status, preview
    expected = [
        ("subscription", 1, "1500.00"),
        ("lead", 40, "480.00"),
        ("sla_credit", None, "-150.00"),
        ("ivu_b2b", None, "73.20"),
    ]
    assert expected == lines(preview)
    assert ("1980.00", "1830.00", "73.20", "1903.20", "USD") == (
        preview["subtotal"],
        preview["taxable_base"],
        preview["tax"],
        preview["total"],
        preview["currency"],
    )
    assert {"human_chats": 42, "leads": 40, "after_hours_chats": 0} == {
        k: preview["usage"][k] for k in ("human_chats", "leads", "after_hours_chats")
    }
    status, body = await admin(
        hub, "PUT", f"{base}/billing-profile", {**PROFILE, "tax_status": "standard"}
    )
    assert 200 == status, body
    status, standard = await admin(hub, "GET", f"{base}/invoice-preview?period=2026-11")
    assert [("ivu_state", "192.15"), ("ivu_municipal", "18.30")] == [
        (line["kind"], line["amount"]) for line in standard["lines"][-2:]
    ]
    assert ["IVU estatal 10.5%", "IVU municipal 1%"] == [
        line["description"] for line in standard["lines"][-2:]
    ]
    assert 200 == (await admin(hub, "PUT", f"{base}/billing-profile", PROFILE))[0]
    status, body = await admin(hub, "POST", "/api/admin/invoices/run", {"period": "2026-11"})
    assert (409, "conflict") == (status, body["error"]["code"]), body
    assert "not closed yet" in body["error"]["message"]

    # the third: the SLA month closes, and the run issues the invoice once
    clock.set("2026-12-03 08:00:00")
    assert 200 == (await admin(hub, "POST", "/api/admin/sla/freeze"))[0]
    status, run = await admin(hub, "POST", "/api/admin/invoices/run", {"period": "2026-11"})
    assert 200 == status, run
    [invoice] = run["invoices"]
    assert ("CH-000001", True, "2026-12-03", "2026-12-18", "issued") == (
        invoice["number"],
        invoice["issued_now"],
        invoice["issued_on"],
        invoice["due_on"],
        invoice["status"],
    )
    assert expected == lines(invoice)
    assert "1903.20" == invoice["total"]
    assert {"month": "2026-11", "status": "closed", "credit_pct": "10.00"} == {
        k: invoice["sla"][k] for k in ("month", "status", "credit_pct")
    }
    status, again = await admin(hub, "POST", "/api/admin/invoices/run", {"period": "2026-11"})
    assert [("CH-000001", False)] == [(i["number"], i["issued_now"]) for i in again["invoices"]]
    for period in ("2026-12", "2027-01"):
        status, body = await admin(hub, "POST", "/api/admin/invoices/run", {"period": period})
        assert (409, "conflict") == (status, body["error"]["code"]), period

    # the tenant's admin sees it, traced to its chats; nobody changes it
    token = tenant_admin["token"]
    status, mine = await hub.request("GET", "/api/invoices", token=token)
    assert [invoice["id"]] == [i["id"] for i in mine["invoices"]]
    status, traced = await hub.request("GET", f"/api/invoices/{invoice['id']}", token=token)
    assert (200, 42, 40) == (
        status,
        len(traced["trace"]["chat_ids"]),
        len(traced["trace"]["lead_ids"]),
    )
    status, chats = await hub.request(
        "GET", "/api/reports/chats?from=2026-11-01&to=2026-11-30", token=token
    )
    assert set(traced["trace"]["lead_ids"]) <= {c["lead_id"] for c in chats["chats"]}
    for path, who in (
        (f"/api/invoices/{invoice['id']}", token),
        (f"/api/admin/invoices/{invoice['id']}", ADMIN_TOKEN),
    ):
        status, body = await hub.request("PATCH", path, token=who, json={"total": "0.00"})
        assert (409, "conflict") == (status, body["error"]["code"]), path
    other = await hub.tenant(plan="basic", languages=["es"])
    other_admin = await hub.agent(other, languages=["es"], role="admin")
    status, body = await hub.request(
        "GET", f"/api/invoices/{invoice['id']}", token=other_admin["token"]
    )
    assert (404, "not_found") == (status, body["error"]["code"])

    # the PDF opens, and its text holds the totals
    await pdf_holds(hub, invoice["id"], tmp_path, ["1,903.20", "73.20", "CH-000001", "B2B-2291"])

    # late fees: overdue after the due date and 10 days of grace, once per 30 days
    async def fees_at(local: str) -> list[Any]:
        clock.set(local)
        status, body = await admin(hub, "POST", "/api/admin/billing/late-fees")
        assert 200 == status, body
        return [(c["charged_on"], c["amount"]) for c in body["charged"]]

    assert [] == await fees_at("2026-12-28 12:00:00")
    dispute = f"/api/admin/invoices/{invoice['id']}/dispute"
    assert 200 == (await admin(hub, "POST", dispute, {"disputed": True}))[0]
    assert [] == await fees_at("2026-12-29 12:00:00")  # overdue, but disputed
    assert 200 == (await admin(hub, "POST", dispute, {"disputed": False}))[0]
    assert [("2026-12-29", 2855)] == await fees_at("2026-12-29 12:00:00")
    assert [] == await fees_at("2027-01-20 12:00:00")
    payment = {"amount": "1000.00", "paid_on": "2027-01-20", "reference": "ACH 1"}
    status, paid = await admin(
        hub, "POST", f"/api/admin/invoices/{invoice['id']}/payments", payment
    )
    assert (200, "1000.00", "903.20", "overdue") == (
        status,
        paid["paid"],
        paid["balance_due"],
        paid["status"],
    )
    assert [("2027-01-28", 1355)] == await fees_at("2027-01-28 12:00:00")  # 1.5% of 903.20


async def pdf_holds(hub: LiveHub, invoice_id: str, tmp_path: Path, texts: list[str]) -> None:
    """The invoice's PDF renders (pdftoppm) and its text (pdftotext) holds `texts`."""
    for tool in ("pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            missing("poppler", f"{tool} is missing (apt-get install poppler-utils)")
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Accept": "application/pdf"}
    url = f"{hub.url}/api/admin/invoices/{invoice_id}"
    async with hub.http.get(url, headers=headers) as response:
        assert ("application/pdf", 200) == (response.content_type, response.status)
        body = await response.read()
    pages, text = await asyncio.to_thread(read_pdf, body, tmp_path)
    assert pages >= 1
    for expected in texts:
        assert expected in text, (expected, text)


def read_pdf(body: bytes, where: Path) -> tuple[int, str]:
    """How many pages pdftoppm rendered, and pdftotext's text."""
    pdf = where / "invoice.pdf"
    pdf.write_bytes(body)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(where / "page")], check=True)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return len(list(where.glob("page*.png"))), text


async def test_bad_billing_input_gets_a_clear_error_and_writes_nothing(hub: LiveHub) -> None:
    proactive = PRICE_BOOK["plans"]["proactive"]
    for price, said in (
        ({"per_lead": 12.0}, "plans.proactive.per_lead: write money as a decimal string"),
        ({"per_lead": "12.000"}, "plans.proactive.per_lead: '12.000' is not an amount"),
        ({"monthly_fee": "-1500.00"}, "plans.proactive.monthly_fee: -1500.00 is negative"),
    ):
        body = {**PRICE_BOOK, "plans": {"proactive": {**proactive, **price}}}
        status, error = await admin(hub, "PUT", "/api/admin/price-book", body)
        assert (400, "invalid_payload") == (status, error["error"]["code"]), price
        assert error["error"]["message"].startswith(said), error
    assert (200, []) == (
        200,
        (await admin(hub, "GET", "/api/admin/price-book"))[1]["price_books"],
    )
    tenant = await hub.tenant(plan="proactive")
    path = f"/api/admin/tenants/{tenant['id']}/billing-profile"
    for change, said in (
        ({"certificate": None}, "certificate: the b2b tax status needs the buyer's certificate"),
        (
            {"certificate": {"number": "B2B-2291", "expires_on": "2026-01-31"}},
            "certificate: B2B-2291 expired on 2026-01-31",
        ),
        ({"tax_status": "exempt", "certificate": None}, "certificate: the exempt tax status"),
        ({"late_fee": {"grace_days": 10, "monthly_pct": 1.5}}, "late_fee.monthly_pct: write"),
    ):
        status, error = await admin(hub, "PUT", path, {**PROFILE, **change})
        assert (400, "invalid_payload") == (status, error["error"]["code"]), change
        assert error["error"]["message"].startswith(said), error
    status, error = await admin(hub, "GET", path)
    assert (404, "not_found") == (status, error["error"]["code"])  # nothing half-written
    status, error = await admin(hub, "GET", "/api/admin/invoices/nope")
    assert (404, "not_found") == (status, error["error"]["code"])
    status, error = await admin(hub, "POST", "/api/admin/invoices/run", {"period": "2026-13"})
    assert (400, "invalid_payload") == (status, error["error"]["code"])


async def test_the_demo_tenant_has_a_price_book_a_profile_and_one_issued_invoice(
    make_hub: HubFactory,
) -> None:
    clock = SteppedClock("2026-12-06 11:00:00")
    hub = await make_hub(clock=clock)
    store = hub.app[STORE]
    for _ in range(2):  # a second run changes nothing
        tenant = await ensure_demo(store, hub.app[PASSWORDS], ("http://127.0.0.1:8080",))
    assert 1 == len(await store.billing.price_books())
    status, profile = await admin(hub, "GET", f"/api/admin/tenants/{tenant.id}/billing-profile")
    assert (200, "Autos Borinquen LLC") == (status, profile["legal_name"])
    status, listed = await admin(hub, "GET", "/api/admin/invoices")
    [invoice] = listed["invoices"]
    assert ("2026-10", "issued", "2787.50") == (
        invoice["period"],
        invoice["status"],
        invoice["total"],
    )
    assert ["IVU estatal 10.5%", "IVU municipal 1%"] == [
        line["description"] for line in invoice["lines"] if line["kind"].startswith("ivu")
    ]
