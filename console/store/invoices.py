"""Invoices and credit notes, payments and late fees (`store.invoices`).

A document is numbered in the transaction that writes it, from its series' counter row
taken under a row lock (SQLite: the write lock of BEGIN IMMEDIATE), so two runs at the same
moment wait for each other and the numbers have no gaps: a transaction that fails takes its
number back with it. A document never changes once written; void writes a credit note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from console.store.base import StorePart
from console.store.billing_models import DocumentCounterRow, InvoiceRow, LateFeeRow, PaymentRow
from console.store.models import new_id

PREFIX = {"invoice": "CH-", "credit_note": "NC-"}


class InvoiceStateError(Exception):
    """The invoice is not in a state that allows this (void already...)."""


@dataclass(frozen=True)
class LateFee:
    id: int
    invoice_id: str
    charged_on: date
    principal: int
    amount: int
    billed_in_id: str | None


@dataclass(frozen=True)
class Draft:
    """A document to number and write: `live` marks the tenant's standing invoice of the
    period (one at a time); `fees` and `notes` are what it bills (late fees, credit notes'
    balances), marked used in the same transaction."""

    tenant_id: str
    kind: str
    period: str
    issued_on: date
    due_on: date
    total: int
    document: dict[str, Any]
    trace: dict[str, Any] = field(default_factory=dict)
    carried_out: int = 0
    live: bool = False
    corrects_id: str | None = None
    balance: int = 0
    fees: Sequence[int] = ()
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class Invoice:
    id: str
    tenant_id: str
    kind: str
    number: str
    period: str
    issued_on: date
    due_on: date
    total: int
    carried_out: int
    document: dict[str, Any]
    trace: dict[str, Any]
    corrects_id: str | None
    balance: int
    applied_in_id: str | None
    voided_at: datetime | None
    void_reason: str | None
    disputed: bool
    paid: int = 0
    fees: tuple[LateFee, ...] = ()

    @property
    def void(self) -> bool:
        return self.voided_at is not None


def _live_key(tenant_id: str, period: str) -> str:
    return f"{tenant_id}:{period}"


def _read(row: InvoiceRow, paid: int = 0, fees: tuple[LateFee, ...] = ()) -> Invoice:
    return Invoice(
        row.id,
        row.tenant_id,
        row.kind,
        row.number,
        row.period,
        date.fromisoformat(row.issued_on),
        date.fromisoformat(row.due_on),
        row.total_cents,
        row.carried_out_cents,
        dict(row.document),
        dict(row.trace),
        row.corrects_id,
        row.balance_cents,
        row.applied_in_id,
        row.voided_at,
        row.void_reason,
        row.disputed,
        paid,
        fees,
    )


def _fee(row: LateFeeRow) -> LateFee:
    return LateFee(
        row.id,
        row.invoice_id,
        date.fromisoformat(row.charged_on),
        row.principal_cents,
        row.amount_cents,
        row.billed_in_id,
    )


class InvoiceRepository(StorePart):
    async def _write(self, s: AsyncSession, draft: Draft) -> InvoiceRow:
        counter = await s.scalar(
            select(DocumentCounterRow)
            .where(DocumentCounterRow.series == draft.kind)
            .with_for_update()
        )
        if counter is None:
            raise LookupError(f"no counter for the {draft.kind} series")
        counter.last += 1
        number = f"{PREFIX[draft.kind]}{counter.last:06d}"
        row = InvoiceRow(
            id=new_id(),
            tenant_id=draft.tenant_id,
            kind=draft.kind,
            number=number,
            period=draft.period,
            issued_on=draft.issued_on.isoformat(),
            due_on=draft.due_on.isoformat(),
            total_cents=draft.total,
            carried_out_cents=draft.carried_out,
            document={**draft.document, "number": number},
            trace=draft.trace,
            live_key=_live_key(draft.tenant_id, draft.period) if draft.live else None,
            corrects_id=draft.corrects_id,
            balance_cents=draft.balance,
            disputed=False,
            created_at=self.store.clock.now(),
        )
        s.add(row)
        await s.flush()
        if draft.fees:
            await s.execute(
                update(LateFeeRow)
                .where(LateFeeRow.id.in_(draft.fees), LateFeeRow.billed_in_id.is_(None))
                .values(billed_in_id=row.id)
            )
        if draft.notes:
            await s.execute(
                update(InvoiceRow)
                .where(InvoiceRow.id.in_(draft.notes), InvoiceRow.applied_in_id.is_(None))
                .values(applied_in_id=row.id)
            )
        return row

    async def issue(self, draft: Draft) -> tuple[Invoice, bool]:
        """Number and write the tenant's invoice of the period, unless one stands already:
        (the invoice, whether this call wrote it)."""
        async with self.store.session() as s, s.begin():
            # the counter's lock first: whoever comes second waits, then finds the first's
            await s.scalar(
                select(DocumentCounterRow.last)
                .where(DocumentCounterRow.series == draft.kind)
                .with_for_update()
            )
            existing = await s.scalar(
                select(InvoiceRow).where(
                    InvoiceRow.live_key == _live_key(draft.tenant_id, draft.period)
                )
            )
            if existing is not None:
                return _read(existing), False
            row = await self._write(s, draft)
        return _read(row), True

    async def void(
        self, invoice_id: str, reason: str, note: Callable[[Invoice], Draft]
    ) -> tuple[Invoice, Invoice]:
        """Void an invoice and write the credit note `note` makes of it, in one
        transaction: (the voided invoice, the credit note)."""
        async with self.store.session() as s, s.begin():
            row = await s.scalar(
                select(InvoiceRow).where(InvoiceRow.id == invoice_id).with_for_update()
            )
            if row is None or row.kind != "invoice":
                raise LookupError(invoice_id)
            if row.voided_at is not None:
                raise InvoiceStateError(f"invoice {row.number} is void already")
            paid = await self._paid(s, row.id)
            row.voided_at = self.store.clock.now()
            row.void_reason = reason
            row.live_key = None
            await s.flush()
            credit = await self._write(s, note(_read(row, paid)))
        return _read(row, paid), _read(credit)

    async def _paid(self, s: AsyncSession, invoice_id: str) -> int:
        total = await s.scalar(
            select(func.coalesce(func.sum(PaymentRow.amount_cents), 0)).where(
                PaymentRow.invoice_id == invoice_id
            )
        )
        return int(total or 0)

    async def get(self, invoice_id: str, tenant_id: str | None = None) -> Invoice | None:
        """An invoice with what was paid on it and its late fees (None if it is not the
        tenant's, when one is given)."""
        async with self.store.reading() as s:
            row = await s.get(InvoiceRow, invoice_id)
            if row is None or (tenant_id is not None and row.tenant_id != tenant_id):
                return None
            fees = await s.scalars(
                select(LateFeeRow)
                .where(LateFeeRow.invoice_id == row.id)
                .order_by(LateFeeRow.charged_on)
            )
            return _read(row, await self._paid(s, row.id), tuple(_fee(f) for f in fees))

    async def listed(
        self, *, tenant_id: str | None = None, period: str | None = None, kind: str | None = None
    ) -> list[Invoice]:
        query = select(InvoiceRow).order_by(InvoiceRow.number)
        if tenant_id is not None:
            query = query.where(InvoiceRow.tenant_id == tenant_id)
        if period is not None:
            query = query.where(InvoiceRow.period == period)
        if kind is not None:
            query = query.where(InvoiceRow.kind == kind)
        paid_by = select(PaymentRow.invoice_id, func.sum(PaymentRow.amount_cents)).group_by(
            PaymentRow.invoice_id
        )
        async with self.store.reading() as s:
            rows = list(await s.scalars(query))
            paid = {i: int(v) for i, v in (await s.execute(paid_by)).all()}
        return [_read(r, paid.get(r.id, 0)) for r in rows]

    async def latest_standing(self, tenant_id: str, before: str) -> Invoice | None:
        """The tenant's last standing invoice of a period before `before` (its carried
        credit balance goes to the next one)."""
        async with self.store.reading() as s:
            row = await s.scalar(
                select(InvoiceRow)
                .where(
                    InvoiceRow.tenant_id == tenant_id,
                    InvoiceRow.kind == "invoice",
                    InvoiceRow.voided_at.is_(None),
                    InvoiceRow.period < before,
                )
                .order_by(InvoiceRow.period.desc())
                .limit(1)
            )
            return None if row is None else _read(row)

    async def unused_credit_notes(self, tenant_id: str) -> list[Invoice]:
        async with self.store.reading() as s:
            rows = await s.scalars(
                select(InvoiceRow).where(
                    InvoiceRow.tenant_id == tenant_id,
                    InvoiceRow.kind == "credit_note",
                    InvoiceRow.balance_cents > 0,
                    InvoiceRow.applied_in_id.is_(None),
                )
            )
            return [_read(r) for r in rows]

    async def add_payment(
        self, invoice_id: str, amount: int, paid_on: date, reference: str
    ) -> None:
        async with self.store.session() as s, s.begin():
            row = await s.get(InvoiceRow, invoice_id)
            if row is None:
                raise LookupError(invoice_id)
            s.add(
                PaymentRow(
                    id=new_id(),
                    invoice_id=invoice_id,
                    tenant_id=row.tenant_id,
                    amount_cents=amount,
                    paid_on=paid_on.isoformat(),
                    reference=reference,
                    created_at=self.store.clock.now(),
                )
            )

    async def set_disputed(self, invoice_id: str, disputed: bool) -> bool:
        changed = await self.store.write(
            update(InvoiceRow).where(InvoiceRow.id == invoice_id).values(disputed=disputed)
        )
        return changed > 0

    async def add_late_fee(
        self, invoice: Invoice, charged_on: date, principal: int, amount: int
    ) -> bool:
        """Charge a late fee, once per invoice and day (False: charged already)."""
        try:
            await self.store.add(
                LateFeeRow(
                    invoice_id=invoice.id,
                    tenant_id=invoice.tenant_id,
                    charged_on=charged_on.isoformat(),
                    principal_cents=principal,
                    amount_cents=amount,
                    created_at=self.store.clock.now(),
                )
            )
        except IntegrityError:
            return False
        return True

    async def unbilled_fees(self, tenant_id: str) -> list[tuple[LateFee, str]]:
        """The tenant's late fees not yet on an invoice, with their invoice's number."""
        async with self.store.reading() as s:
            rows = (
                await s.execute(
                    select(LateFeeRow, InvoiceRow.number)
                    .join(InvoiceRow, InvoiceRow.id == LateFeeRow.invoice_id)
                    .where(LateFeeRow.tenant_id == tenant_id, LateFeeRow.billed_in_id.is_(None))
                    .order_by(LateFeeRow.charged_on, LateFeeRow.id)
                )
            ).all()
        return [(_fee(fee), number) for fee, number in rows]
