"""Invoice runs at the same moment from two processes' stores (two engines on one database,
SQLite and PostgreSQL): every tenant gets one invoice, numbered without gaps; a void writes
a credit note of its own series and leaves the number where it was."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from console.billing.service import run, void
from console.contract.billing import parse_price_book
from console.contract.profile import parse_profile
from console.security.crypto import DataCipher
from console.settings import Issuer
from console.store.db import make_engine, migrate
from console.store.repository import Store

NOW = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
BOOK = {
    "effective_from": "2026-01-01",
    "plans": {
        plan: {"monthly_fee": fee, "included_chats": 100, "per_chat": "1.00", "per_lead": "5.00"}
        for plan, fee in (("basic", "500.00"), ("proactive", "1500.00"), ("premium", "2500.00"))
    },
}
TENANTS = 8


class Fixed:
    def now(self) -> datetime:
        return NOW


async def test_two_runs_at_once_number_every_invoice_once_without_gaps(
    database_url: str,
) -> None:
    key = DataCipher.new_key()
    engines = [make_engine(database_url), make_engine(database_url)]
    await migrate(engines[0])
    first, second = (Store(e, DataCipher(key), clock=Fixed()) for e in engines)
    try:
        await first.billing.add_price_book(parse_price_book(BOOK))
        tenants = []
        for number in range(TENANTS):
            tenant = await first.create_tenant(
                name=f"Dealer {number}",
                plan=("basic", "proactive", "premium")[number % 3],
                languages=["es"],
                timezone="America/Puerto_Rico",
                allowed_origins=[],
            )
            profile = {"legal_name": f"Dealer {number} LLC", "tax_status": "standard"}
            await first.billing.set_profile(tenant.id, parse_profile(profile, NOW.date()))
            tenants.append(tenant.id)
        runs = await asyncio.gather(
            run(first, Issuer(), 2026, 11, NOW), run(second, Issuer(), 2026, 11, NOW)
        )
        written = [i.number for issued, _ in runs for i, created in issued if created]
        assert [f"CH-{n:06d}" for n in range(1, TENANTS + 1)] == sorted(written)
        for issued, skipped in runs:
            assert ([], TENANTS) == (skipped, len(issued))
        listed = await first.invoices.listed(period="2026-11")
        assert sorted(tenants) == sorted(i.tenant_id for i in listed)
        # void one: a credit note NC-000001; the next run re-issues that tenant only
        victim = listed[3]
        note = await void(first, victim, "wrong plan", NOW)
        assert ("NC-000001", -victim.total) == (note.number, note.total)
        again, _ = await run(second, Issuer(), 2026, 11, NOW)
        assert [(victim.tenant_id, f"CH-{TENANTS + 1:06d}")] == [
            (i.tenant_id, i.number) for i, created in again if created
        ]
    finally:
        await first.close()
        await second.close()
