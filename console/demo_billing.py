"""The demo tenant's billing: the provider's price book, the dealer's billing profile, and
one issued invoice, for the month before last: a closed month before the demo's agreement
began. Last month's invoice is the provider's to run (POST /api/admin/invoices/run) once
the hub has closed its service levels, from the third day of this month."""

from __future__ import annotations

import os

import structlog

from console.billing.service import BillingConflictError, issue_one, local_today
from console.contract.billing import parse_price_book
from console.contract.profile import parse_profile
from console.domain.types import Tenant
from console.reports.sla import previous_month
from console.settings import Issuer
from console.store.repository import Store

log = structlog.get_logger("charla.demo")
DEMO_PRICE_BOOK = {
    "effective_from": "2025-01-01",
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
        "premium": {
            "monthly_fee": "2500.00",
            "included_chats": 200,
            "per_chat": "1.00",
            "per_lead": "10.00",
        },
    },
}
DEMO_PROFILE = {
    "legal_name": "Autos Borinquen LLC",
    "address": "Ave. Kennedy 100, San Juan, PR 00920",
    "tax_status": "standard",
    "terms_days": 15,
    "late_fee": {"grace_days": 10, "monthly_pct": "1.50"},
}


async def ensure_billing(store: Store, tenant: Tenant) -> None:
    if not await store.billing.price_books():
        await store.billing.add_price_book(parse_price_book(DEMO_PRICE_BOOK))
    if await store.billing.profile(tenant.id) is None:
        await store.billing.set_profile(tenant.id, parse_profile(DEMO_PROFILE, None))
    if await store.invoices.listed(tenant_id=tenant.id):
        return
    now = store.clock.now()
    today = local_today(tenant, now)
    year, month = previous_month(*previous_month(today.year, today.month))
    try:
        invoice, _ = await issue_one(
            store, Issuer.from_env(os.environ), tenant, year=year, month=month, now=now
        )
    except BillingConflictError as exc:
        log.info("demo_invoice_not_issued", reason=str(exc))
        return
    log.info("demo_invoice_issued", number=invoice.number)
