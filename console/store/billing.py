"""Billing's terms and usage (`store.billing`): price books, the IVU table, plan history,
billing profiles, and the facts invoices are metered from. Invoices themselves are in
console/store/invoices.py."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, select

from console.contract.billing import PriceBook, parse_price_book
from console.contract.profile import Profile, parse_profile
from console.contract.tax import IvuRates
from console.store.base import StorePart
from console.store.billing_models import (
    BillingProfileRow,
    IvuRateRow,
    PlanChangeRow,
    PriceBookRow,
)
from console.store.models import DeliveryRow, LeadRow


class BillingRepository(StorePart):
    async def add_price_book(self, book: PriceBook) -> None:
        await self.store.add(
            PriceBookRow(
                effective_from=book.effective_from.isoformat(),
                plans=book.to_wire()["plans"],
                created_at=self.store.clock.now(),
            )
        )

    async def price_books(self) -> list[PriceBook]:
        """Every price book, oldest entry first (a later one of the same date wins)."""
        async with self.store.reading() as s:
            rows = await s.scalars(select(PriceBookRow).order_by(PriceBookRow.id))
            return [
                parse_price_book({"effective_from": r.effective_from, "plans": r.plans})
                for r in rows
            ]

    async def ivu_table(self) -> list[IvuRates]:
        async with self.store.reading() as s:
            rows = await s.scalars(select(IvuRateRow).order_by(IvuRateRow.effective_from))
            return [
                IvuRates(date.fromisoformat(r.effective_from), r.state_bp, r.municipal_bp, r.b2b_bp)
                for r in rows
            ]

    async def set_ivu_rates(self, rates: IvuRates) -> None:
        """Rates in force from their date (a second call for the same date replaces them)."""
        key = rates.effective_from.isoformat()
        async with self.store.session() as s, s.begin():
            row = await s.get(IvuRateRow, key)
            if row is None:
                row = IvuRateRow(effective_from=key, created_at=self.store.clock.now())
                s.add(row)
            row.state_bp, row.municipal_bp, row.b2b_bp = (
                rates.state_bp,
                rates.municipal_bp,
                rates.b2b_bp,
            )

    async def plan_changes(self, tenant_id: str) -> list[tuple[datetime, str]]:
        async with self.store.reading() as s:
            rows = (
                await s.execute(
                    select(PlanChangeRow.at, PlanChangeRow.plan)
                    .where(PlanChangeRow.tenant_id == tenant_id)
                    .order_by(PlanChangeRow.at, PlanChangeRow.id)
                )
            ).all()
        return [(at, plan) for at, plan in rows]

    async def set_profile(self, tenant_id: str, profile: Profile) -> None:
        async with self.store.session() as s, s.begin():
            row = await s.get(BillingProfileRow, tenant_id)
            now = self.store.clock.now()
            if row is None:
                s.add(
                    BillingProfileRow(
                        tenant_id=tenant_id, profile=profile.to_wire(), updated_at=now
                    )
                )
            else:
                row.profile, row.updated_at = profile.to_wire(), now

    async def profile(self, tenant_id: str) -> Profile | None:
        async with self.store.reading() as s:
            row = await s.get(BillingProfileRow, tenant_id)
            return None if row is None else parse_profile(row.profile, None)

    async def profiled_tenants(self) -> list[str]:
        async with self.store.reading() as s:
            return list(await s.scalars(select(BillingProfileRow.tenant_id)))

    async def delivered_leads(
        self, tenant_id: str, start: datetime, end: datetime
    ) -> list[tuple[str, str, datetime]]:
        """(lead id, visitor id, created at) of the qualified leads delivered to at least one
        destination, created in [start, end)."""
        delivered = exists().where(
            DeliveryRow.lead_id == LeadRow.id, DeliveryRow.status == "delivered"
        )
        query = (
            select(LeadRow.id, LeadRow.visitor_id, LeadRow.chat_id, LeadRow.created_at)
            .where(
                LeadRow.tenant_id == tenant_id,
                LeadRow.qualified.is_(True),
                LeadRow.created_at >= start,
                LeadRow.created_at < end,
                delivered,
            )
            .order_by(LeadRow.created_at)
        )
        rows = await self.store.read_rows(query)
        # a lead with no visitor (erased) counts as its chat's own visitor
        return [(r.id, r.visitor_id or f"chat:{r.chat_id}", r.created_at) for r in rows]
