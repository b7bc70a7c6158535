"""Billing's orchestration: gather a tenant's month (plan history, usage, the SLA month,
credit balances, late fees), let the contract compute the invoice, and issue, void and
charge late fees through the store. The clock is always a parameter."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import structlog

from console.billing.documents import credit_note_document, invoice_document
from console.billing.month import Month
from console.contract.agreement import parse_hundredths
from console.contract.billing import (
    BillingError,
    BillInput,
    LateFeeCharge,
    billable_leads,
    compute_bill,
    plan_spans,
)
from console.contract.hours import Schedule
from console.contract.late_fees import late_fee_amount, late_fee_due
from console.contract.money import signed_cents
from console.contract.sla import month_bounds, month_days
from console.contract.tax import rates_on, status_on
from console.domain.types import Tenant
from console.reports.sla import NoAgreementError, month_name, month_report
from console.settings import Issuer
from console.store.invoices import Draft, Invoice
from console.store.repository import Store

log = structlog.get_logger("charla.billing")
# leads this long before a month are read to apply the once-per-30-days rule
LEAD_LOOKBACK = timedelta(days=120)


class BillingConflictError(Exception):
    """The period or the invoice cannot be billed or changed now (409)."""


class BillingSetupError(Exception):
    """The tenant lacks what an invoice needs (a billing profile, a price book)."""


def local_today(tenant: Tenant, now: datetime) -> date:
    return now.astimezone(Schedule(tenant.timezone).zone).date()


def is_closed(tenant: Tenant, year: int, month: int, now: datetime) -> bool:
    today = local_today(tenant, now)
    return (year, month) < (today.year, today.month)


async def gather(
    store: Store, tenant: Tenant, year: int, month: int, now: datetime, *, issuing: bool
) -> Month:
    """Everything the month's invoice is made of, as it stands at `now`. `issuing`: the
    SLA month must be closed (a preview uses live figures)."""
    profile = await store.billing.profile(tenant.id)
    if profile is None:
        raise BillingSetupError("the tenant has no billing profile; PUT it first")
    books = await store.billing.price_books()
    if not books:
        raise BillingSetupError("there is no price book; PUT /api/admin/price-book first")
    schedule = Schedule(tenant.timezone, tenant.hours, tenant.holidays)
    zone = schedule.zone
    first, last = month_days(year, month)
    start, end = month_bounds(year, month, zone)
    today = local_today(tenant, now)
    changes = [
        (at.astimezone(zone).date(), plan)
        for at, plan in await store.billing.plan_changes(tenant.id)
    ]
    spans = plan_spans(changes or [(first, tenant.plan)], first, last)
    chats = await store.reports.chats(tenant.id, start, end)
    human = [c.id for c in chats if c.assigned_at is not None]
    after_hours = [c.id for c in chats if not schedule.is_open(c.created_at)]
    leads = await store.billing.delivered_leads(tenant.id, start - LEAD_LOOKBACK, end)
    billed = billable_leads(
        [(lead_id, visitor, at.astimezone(zone).date()) for lead_id, visitor, at in leads],
        first,
        last,
    )
    sla, credit_bp, incentive_bp = await _sla(store, tenant, year, month, now, issuing=issuing)
    period = month_name(year, month)
    previous = await store.invoices.latest_standing(tenant.id, period)
    notes = await store.invoices.unused_credit_notes(tenant.id)
    carried_in = (0 if previous is None else previous.carried_out) + sum(n.balance for n in notes)
    fees = await store.invoices.unbilled_fees(tenant.id)
    status = status_on(profile.tax_status, profile.certificate, today)
    bill = compute_bill(
        BillInput(
            first=first,
            last=last,
            spans=spans,
            books=books,
            human_chats=len(human),
            lead_days=[day for _, day in billed],
            tax_status=status,
            rates=rates_on(await store.billing.ivu_table(), today),
            credit_bp=credit_bp,
            incentive_bp=incentive_bp,
            carried_in=carried_in,
            late_fees=[LateFeeCharge(number, f.charged_on, f.amount) for f, number in fees],
        )
    )
    usage = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "human_chats": len(human),
        "included_chats": bill.allowance,
        "after_hours_chats": len(after_hours),
        "leads": len(billed),
    }
    return Month(
        tenant=tenant,
        profile=profile,
        period=period,
        issued_on=today,
        bill=bill,
        usage=usage,
        sla=sla,
        tax_status=status,
        trace={
            "chat_ids": human,
            "after_hours_chat_ids": after_hours,
            "lead_ids": [lead_id for lead_id, _ in billed],
        },
        fee_ids=tuple(f.id for f, _ in fees),
        note_ids=tuple(n.id for n in notes),
    )


async def _sla(
    store: Store, tenant: Tenant, year: int, month: int, now: datetime, *, issuing: bool
) -> tuple[dict[str, Any] | None, int, int]:
    try:
        report = await month_report(store, tenant, year, month, now)
    except NoAgreementError:
        return None, 0, 0
    if issuing and report.status != "closed":
        raise BillingConflictError(
            f"the service levels of {report.month} are not closed yet (they close on the "
            "third day of the next month); run the invoices after that"
        )
    sla = {
        "month": report.month,
        "status": report.status,
        "agreement_version": report.version,
        "credit_pct": report.credit_pct,
        "incentive_pct": report.incentive_pct,
        "figures_sha256": report.sha256,
    }
    return (
        sla,
        parse_hundredths(report.credit_pct, "credit_pct"),
        parse_hundredths(report.incentive_pct, "incentive_pct"),
    )


def preview_document(month: Month, issuer: Issuer) -> dict[str, Any]:
    return invoice_document(month, issuer, due_on=_due(month))


def _due(month: Month) -> date:
    return month.issued_on + timedelta(days=month.profile.terms_days)


async def run(
    store: Store, issuer: Issuer, year: int, month: int, now: datetime
) -> tuple[list[tuple[Invoice, bool]], list[dict[str, str]]]:
    """Issue every profiled tenant's invoice of a closed period, once: (invoices with
    whether this run wrote each, tenants skipped and why). Everything is gathered before
    anything is written, so a period that cannot be billed writes nothing."""
    months: list[Month] = []
    skipped: list[dict[str, str]] = []
    earliest_zone_today = (now - timedelta(hours=12)).date()  # the last zone to reach a day
    if (year, month) >= (earliest_zone_today.year, earliest_zone_today.month):
        raise BillingConflictError(
            f"{month_name(year, month)} is not over; only a closed period is invoiced"
        )
    for tenant_id in sorted(await store.billing.profiled_tenants()):
        tenant = await store.get_tenant(tenant_id)
        if tenant is None:
            continue
        if not is_closed(tenant, year, month, now):
            raise BillingConflictError(
                f"{month_name(year, month)} is not over in the tenant's time zone; "
                "only a closed period is invoiced"
            )
        try:
            months.append(await gather(store, tenant, year, month, now, issuing=True))
        except (BillingSetupError, BillingError) as exc:
            skipped.append({"tenant_id": tenant_id, "reason": str(exc)})
    issued = []
    for found in months:
        invoice, created = await store.invoices.issue(draft_of(found, issuer))
        if created:
            log.info("invoice_issued", tenant_id=invoice.tenant_id, number=invoice.number)
        issued.append((invoice, created))
    return issued, skipped


def draft_of(found: Month, issuer: Issuer) -> Draft:
    return Draft(
        tenant_id=found.tenant.id,
        kind="invoice",
        period=found.period,
        issued_on=found.issued_on,
        due_on=_due(found),
        total=found.bill.total,
        document=invoice_document(found, issuer, due_on=_due(found)),
        trace=found.trace,
        carried_out=found.bill.carried_out,
        live=True,
        fees=found.fee_ids,
        notes=found.note_ids,
    )


async def issue_one(
    store: Store, issuer: Issuer, tenant: Tenant, *, year: int, month: int, now: datetime
) -> tuple[Invoice, bool]:
    """One tenant's invoice of a closed period (the demo's; the run does every tenant)."""
    if not is_closed(tenant, year, month, now):
        raise BillingConflictError(f"{month_name(year, month)} is not over")
    found = await gather(store, tenant, year, month, now, issuing=True)
    return await store.invoices.issue(draft_of(found, issuer))


async def void(store: Store, invoice: Invoice, reason: str, now: datetime) -> Invoice:
    """Void an issued invoice with a credit note for all of it; what was paid on it
    becomes a credit balance for the next invoice. The credit note is returned."""
    tenant = await store.get_tenant(invoice.tenant_id)
    today = local_today(tenant, now) if tenant is not None else now.date()

    def note(voided: Invoice) -> Draft:
        return Draft(
            tenant_id=voided.tenant_id,
            kind="credit_note",
            period=voided.period,
            issued_on=today,
            due_on=today,
            total=-voided.total,
            document=credit_note_document(voided, reason, today),
            balance=min(voided.paid, voided.total),
        )

    try:
        _, credit = await store.invoices.void(invoice.id, reason, note)
    except LookupError:
        raise BillingConflictError("only an invoice can be voided") from None
    return credit


async def charge_late_fees(store: Store, now: datetime) -> list[dict[str, Any]]:
    """Charge the late fees owed now (idempotent: every process may run it)."""
    charged: list[dict[str, Any]] = []
    for listed in await store.invoices.listed(kind="invoice"):
        if listed.void or listed.paid >= listed.total:
            continue
        invoice = await store.invoices.get(listed.id)
        tenant = await store.get_tenant(listed.tenant_id)
        if invoice is None or tenant is None:
            continue
        terms = invoice.document.get("terms", {})
        grace = int(terms.get("grace_days", 0))
        bp = parse_hundredths(terms.get("late_fee_pct", "0.00"), "late_fee_pct")
        last = max((f.charged_on for f in invoice.fees), default=None)
        due = late_fee_due(
            invoice.due_on, grace, last, local_today(tenant, now), disputed=invoice.disputed
        )
        principal = principal_due(invoice)
        amount = late_fee_amount(principal, bp)
        if due is None or amount <= 0:
            continue
        if await store.invoices.add_late_fee(invoice, due, principal, amount):
            log.info("late_fee_charged", tenant_id=tenant.id, number=invoice.number)
            charged.append(
                {"invoice": invoice.number, "charged_on": due.isoformat(), "amount": amount}
            )
    return charged


def principal_due(invoice: Invoice) -> int:
    """What is unpaid of the invoice's own charges: its late fee lines are not principal."""
    lines = invoice.document.get("lines", [])
    fees = sum(signed_cents(line["amount"]) for line in lines if line["kind"] == "late_fee")
    return max(invoice.total - fees - invoice.paid, 0)
