"""The provider's billing API (PROTOCOL 1.1, "Billing"): the price book, the IVU table,
tenants' billing profiles, invoice previews, the period's run, payments, disputes, void
with a credit note, and late fees now (Bearer $CHARLA_ADMIN_TOKEN or an operator's)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from console.billing.documents import invoice_wire
from console.billing.service import (
    BillingConflictError,
    BillingSetupError,
    charge_late_fees,
    gather,
    local_today,
    preview_document,
    run,
    void,
)
from console.contract.agreement import AgreementError, parse_pct
from console.contract.billing import BillingError, parse_day, parse_price_book
from console.contract.money import MoneyError, parse_money
from console.contract.profile import parse_profile
from console.contract.sla import parse_month
from console.contract.tax import IvuRates
from console.domain.errors import ProtocolError
from console.store.invoices import Invoice, InvoiceStateError
from console.web.admin import path_tenant
from console.web.http import read_json, require_admin
from console.web.invoices import IMMUTABLE, document_response
from console.web.keys import CLOCK, SETTINGS, STORE

routes = web.RouteTableDef()


class Loose(BaseModel):
    """Known fields, values checked by the contract's parsers (money as two-place text)."""

    model_config = ConfigDict(extra="forbid")


class PriceBookBody(Loose):
    effective_from: Any = None
    plans: Any = None


class IvuBody(Loose):
    effective_from: Any = None
    state_pct: Any = None
    municipal_pct: Any = None
    b2b_pct: Any = None


class ProfileBody(Loose):
    legal_name: Any = None
    address: Any = None
    tax_status: Any = None
    certificate: Any = None
    terms_days: Any = 15
    late_fee: Any = None


class RunBody(Loose):
    period: Any = None


class PaymentBody(Loose):
    amount: Any = None
    paid_on: Any = None
    reference: Any = ""


class VoidBody(Loose):
    reason: Any = None


class DisputeBody(Loose):
    disputed: Any = None


def invalid(exc: Exception) -> ProtocolError:
    return ProtocolError("invalid_payload", str(exc))


def period_of(value: object, where: str = "period") -> tuple[int, int]:
    try:
        return parse_month(value, where)
    except ValueError as exc:
        raise invalid(exc) from None


@routes.put("/api/admin/price-book")
async def put_price_book(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, PriceBookBody)
    try:
        book = parse_price_book(body.model_dump())
    except BillingError as exc:
        raise invalid(exc) from None
    await request.app[STORE].billing.add_price_book(book)
    return web.json_response(book.to_wire())


@routes.get("/api/admin/price-book")
async def list_price_books(request: web.Request) -> web.Response:
    require_admin(request)
    books = await request.app[STORE].billing.price_books()
    return web.json_response({"price_books": [b.to_wire() for b in books]})


@routes.put("/api/admin/ivu-rates")
async def put_ivu_rates(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, IvuBody)
    try:
        rates = IvuRates(
            parse_day(body.effective_from, "effective_from"),
            parse_pct(body.state_pct, "state_pct", allow_zero=True),
            parse_pct(body.municipal_pct, "municipal_pct", allow_zero=True),
            parse_pct(body.b2b_pct, "b2b_pct", allow_zero=True),
        )
    except (AgreementError, BillingError) as exc:
        raise invalid(exc) from None
    await request.app[STORE].billing.set_ivu_rates(rates)
    return web.json_response(rates.to_wire())


@routes.get("/api/admin/ivu-rates")
async def list_ivu_rates(request: web.Request) -> web.Response:
    require_admin(request)
    table = await request.app[STORE].billing.ivu_table()
    return web.json_response({"ivu_rates": [r.to_wire() for r in table]})


@routes.put("/api/admin/tenants/{tenant_id}/billing-profile")
async def put_profile(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    body = await read_json(request, ProfileBody)
    raw = body.model_dump()
    if raw["late_fee"] is None:
        raw.pop("late_fee")
    try:
        profile = parse_profile(raw, local_today(tenant, request.app[CLOCK].now()))
    except BillingError as exc:
        raise invalid(exc) from None
    await request.app[STORE].billing.set_profile(tenant.id, profile)
    return web.json_response({"tenant_id": tenant.id, **profile.to_wire()})


@routes.get("/api/admin/tenants/{tenant_id}/billing-profile")
async def get_profile(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    profile = await request.app[STORE].billing.profile(tenant.id)
    if profile is None:
        raise ProtocolError("not_found", "the tenant has no billing profile")
    return web.json_response({"tenant_id": tenant.id, **profile.to_wire()})


@routes.get("/api/admin/tenants/{tenant_id}/invoice-preview")
async def preview(request: web.Request) -> web.Response:
    tenant = await path_tenant(request)
    year, month = period_of(request.query.get("period"))
    try:
        found = await gather(
            request.app[STORE], tenant, year, month, request.app[CLOCK].now(), issuing=False
        )
    except (BillingSetupError, BillingError) as exc:
        raise ProtocolError("conflict", str(exc)) from None
    return web.json_response(preview_document(found, request.app[SETTINGS].issuer))


@routes.post("/api/admin/invoices/run")
async def run_invoices(request: web.Request) -> web.Response:
    require_admin(request)
    body = await read_json(request, RunBody)
    year, month = period_of(body.period)
    store, now = request.app[STORE], request.app[CLOCK].now()
    try:
        issued, skipped = await run(store, request.app[SETTINGS].issuer, year, month, now)
    except BillingConflictError as exc:
        raise ProtocolError("conflict", str(exc)) from None
    today = now.date()
    return web.json_response(
        {
            "period": f"{year:04d}-{month:02d}",
            "invoices": [
                {**invoice_wire(invoice, today), "issued_now": created}
                for invoice, created in issued
            ],
            "skipped": skipped,
        }
    )


@routes.get("/api/admin/invoices")
async def list_invoices(request: web.Request) -> web.Response:
    require_admin(request)
    period = request.query.get("period")
    if period is not None:
        period_of(period)
    store, now = request.app[STORE], request.app[CLOCK].now()
    names = {t.id: t.name for t in await store.list_tenants()}
    invoices = await store.invoices.listed(period=period)
    return web.json_response(
        {
            "invoices": [
                {**invoice_wire(i, now.date()), "tenant_name": names.get(i.tenant_id, "")}
                for i in invoices
            ]
        }
    )


async def path_invoice(request: web.Request) -> Invoice:
    require_admin(request)
    invoice = await request.app[STORE].invoices.get(request.match_info["invoice_id"])
    if invoice is None:
        raise ProtocolError("not_found", "no such invoice")
    return invoice


@routes.get("/api/admin/invoices/{invoice_id}")
async def get_invoice(request: web.Request) -> web.Response:
    return await document_response(request, await path_invoice(request))


@routes.route("PATCH", "/api/admin/invoices/{invoice_id}")
@routes.route("PUT", "/api/admin/invoices/{invoice_id}")
@routes.route("DELETE", "/api/admin/invoices/{invoice_id}")
async def change_invoice(request: web.Request) -> web.Response:
    await path_invoice(request)
    raise ProtocolError("conflict", IMMUTABLE)


@routes.post("/api/admin/invoices/{invoice_id}/payments")
async def add_payment(request: web.Request) -> web.Response:
    invoice = await path_invoice(request)
    body = await read_json(request, PaymentBody)
    try:
        amount = parse_money(body.amount, "amount")
        paid_on = parse_day(body.paid_on, "paid_on")
    except (MoneyError, BillingError) as exc:
        raise invalid(exc) from None
    if amount == 0:
        raise ProtocolError("invalid_payload", "amount: a payment is more than 0.00")
    if not isinstance(body.reference, str) or len(body.reference) > 100:
        raise ProtocolError("invalid_payload", "reference: text up to 100 characters")
    if invoice.void or invoice.kind != "invoice":
        raise ProtocolError("conflict", f"{invoice.number} is not an invoice that can be paid")
    await request.app[STORE].invoices.add_payment(invoice.id, amount, paid_on, body.reference)
    return await _state(request, invoice.id)


async def _state(request: web.Request, invoice_id: str) -> web.Response:
    invoice = await request.app[STORE].invoices.get(invoice_id)
    assert invoice is not None
    return web.json_response(invoice_wire(invoice, request.app[CLOCK].now().date()))


@routes.post("/api/admin/invoices/{invoice_id}/dispute")
async def dispute(request: web.Request) -> web.Response:
    invoice = await path_invoice(request)
    body = await read_json(request, DisputeBody)
    if not isinstance(body.disputed, bool):
        raise ProtocolError("invalid_payload", "disputed: true or false")
    await request.app[STORE].invoices.set_disputed(invoice.id, body.disputed)
    return await _state(request, invoice.id)


@routes.post("/api/admin/invoices/{invoice_id}/void")
async def void_invoice(request: web.Request) -> web.Response:
    invoice = await path_invoice(request)
    body = await read_json(request, VoidBody)
    if not isinstance(body.reason, str) or not 1 <= len(body.reason.strip()) <= 500:
        raise ProtocolError("invalid_payload", "reason: why it is void, 1 to 500 characters")
    now = request.app[CLOCK].now()
    try:
        credit = await void(request.app[STORE], invoice, body.reason.strip(), now)
    except (BillingConflictError, InvoiceStateError) as exc:
        raise ProtocolError("conflict", str(exc)) from None
    voided = await request.app[STORE].invoices.get(invoice.id)
    assert voided is not None
    return web.json_response(
        {
            "invoice": invoice_wire(voided, now.date()),
            "credit_note": invoice_wire(credit, now.date()),
        }
    )


@routes.post("/api/admin/billing/late-fees")
async def late_fees(request: web.Request) -> web.Response:
    """Charge the late fees owed now (the hub also does it by itself every hour)."""
    require_admin(request)
    charged = await charge_late_fees(request.app[STORE], request.app[CLOCK].now())
    return web.json_response({"charged": charged})
