"""Clause 6 of the agreement as arithmetic: price books, plan history prorated by day, the
invoice's lines (subscription, chats over the allowance, leads, incentive, credits), the
taxable base and its IVU, credit balances carried forward, and late fees.

Pure: money in integer cents (console/contract/money.py), days and dates as parameters.
Credits and incentives are percentages of the month's subscription (the fee prorated by
day); credits come off before tax and never take the base below zero, and what they could
not take off is a credit balance carried to the next invoice. Late fees are not taxed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from console.contract.agreement import format_hundredths
from console.contract.money import MoneyError, format_money, half_up, parse_money, share
from console.contract.tax import (
    IvuRates,
    TaxStatus,
    ivu_lines,
    tax_label,
)
from console.domain.types import PLANS

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
LEAD_REPEAT_DAYS = 30  # the same visitor's leads count once in this many days
MAX_INCLUDED_CHATS = 10_000_000


class BillingError(ValueError):
    """Terms or figures that cannot be billed; the message names the field and the fix."""


def parse_day(value: object, where: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise BillingError(f'{where}: a date written YYYY-MM-DD, like "2026-12-01"')
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BillingError(f"{where}: {value} is not a day of the calendar") from None


def _money(value: object, where: str) -> int:
    try:
        return parse_money(value, where)
    except MoneyError as exc:
        raise BillingError(str(exc)) from None


def count_in(value: object, where: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BillingError(f"{where}: a whole number from {low} to {high}")
    return value


# -- the price book ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanPrice:
    monthly_fee: int
    included_chats: int
    per_chat: int
    per_lead: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "monthly_fee": format_money(self.monthly_fee),
            "included_chats": self.included_chats,
            "per_chat": format_money(self.per_chat),
            "per_lead": format_money(self.per_lead),
        }


@dataclass(frozen=True)
class PriceBook:
    effective_from: date
    plans: Mapping[str, PlanPrice]

    def to_wire(self) -> dict[str, Any]:
        return {
            "effective_from": self.effective_from.isoformat(),
            "plans": {name: price.to_wire() for name, price in sorted(self.plans.items())},
        }


def parse_price_book(raw: Mapping[str, Any]) -> PriceBook:
    effective_from = parse_day(raw.get("effective_from"), "effective_from")
    plans = raw.get("plans")
    if not isinstance(plans, Mapping) or not plans:
        raise BillingError('plans: an object like {"basic": {"monthly_fee": "500.00", ...}}')
    parsed: dict[str, PlanPrice] = {}
    for name, price in plans.items():
        where = f"plans.{name}"
        if name not in PLANS:
            raise BillingError(f"{where}: not a plan; plans are {', '.join(PLANS)}")
        fields = {"monthly_fee", "included_chats", "per_chat", "per_lead"}
        if not isinstance(price, Mapping) or set(price) != fields:
            raise BillingError(f"{where}: an object with exactly {', '.join(sorted(fields))}")
        parsed[name] = PlanPrice(
            monthly_fee=_money(price["monthly_fee"], f"{where}.monthly_fee"),
            included_chats=count_in(
                price["included_chats"], f"{where}.included_chats", low=0, high=MAX_INCLUDED_CHATS
            ),
            per_chat=_money(price["per_chat"], f"{where}.per_chat"),
            per_lead=_money(price["per_lead"], f"{where}.per_lead"),
        )
    return PriceBook(effective_from, parsed)


def book_for(books: Sequence[PriceBook], day: date) -> PriceBook:
    """The price book in force on a day (a later entry of the same date wins)."""
    usable = [b for b in books if b.effective_from <= day]
    if not usable:
        raise BillingError(f"no price book in force on {day.isoformat()}")
    latest = max(b.effective_from for b in usable)
    return [b for b in usable if b.effective_from == latest][-1]


# -- plan history, usage -------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSpan:
    plan: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def plan_spans(changes: Sequence[tuple[date, str]], first: date, last: date) -> list[PlanSpan]:
    """The plans a tenant was on over [first, last], from its plan changes (local day, plan;
    a change applies from its day). Days before the first change are on that first plan."""
    ordered = sorted(changes)
    if not ordered:
        raise BillingError("the tenant has no plan history")
    current = ordered[0][1]
    for day, plan in ordered:
        if day <= first:
            current = plan
    spans: list[PlanSpan] = []
    start = first
    for day, plan in ordered:
        if first < day <= last and plan != current:
            spans.append(PlanSpan(current, start, day - timedelta(days=1)))
            start, current = day, plan
    spans.append(PlanSpan(current, start, last))
    return spans


def billable_leads(
    leads: Sequence[tuple[str, str, date]], first: date, last: date
) -> list[tuple[str, date]]:
    """Of (lead id, visitor id, day) delivered qualified leads, the (lead id, day) billed in
    [first, last]: a visitor's lead counts unless one of theirs counted in the 30 days before
    (leads before `first` are looked at for that, never billed)."""
    counted: dict[str, date] = {}
    billed: list[tuple[str, date]] = []
    for lead_id, visitor_id, day in sorted(leads, key=lambda lead: (lead[2], lead[0])):
        previous = counted.get(visitor_id)
        if previous is not None and (day - previous).days < LEAD_REPEAT_DAYS:
            continue
        counted[visitor_id] = day
        if first <= day <= last:
            billed.append((lead_id, day))
    return billed


# -- the invoice ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    kind: str
    description: str
    description_en: str
    amount: int
    quantity: int | None = None
    unit_price: int | None = None
    rate_bp: int | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "kind": self.kind,
            "description": self.description,
            "description_en": self.description_en,
            "quantity": self.quantity,
            "unit_price": None if self.unit_price is None else format_money(self.unit_price),
            "amount": format_money(self.amount),
        }
        if self.rate_bp is not None:
            wire["rate_pct"] = format_hundredths(self.rate_bp)
        return wire


@dataclass(frozen=True)
class LateFeeCharge:
    invoice_number: str
    charged_on: date
    amount: int


@dataclass(frozen=True)
class BillInput:
    first: date
    last: date
    spans: Sequence[PlanSpan]
    books: Sequence[PriceBook]
    human_chats: int
    lead_days: Sequence[date]
    tax_status: TaxStatus
    rates: IvuRates
    credit_bp: int = 0
    incentive_bp: int = 0
    carried_in: int = 0
    late_fees: Sequence[LateFeeCharge] = ()


@dataclass(frozen=True)
class Bill:
    lines: list[Line]
    subtotal: int
    credits: int
    taxable_base: int
    tax: int
    total: int
    carried_out: int
    allowance: int = 0


def _title(plan: str) -> str:
    return plan.capitalize()


def _charges(bill: BillInput) -> tuple[list[Line], int, int]:
    """Subscription, chats over the allowance and leads: (lines, subscription, allowance)."""
    period_days = (bill.last - bill.first).days + 1
    lines: list[Line] = []
    subscription = allowance = 0
    prices: list[tuple[PlanSpan, PlanPrice]] = []
    for span in bill.spans:
        book = book_for(bill.books, span.first)
        price = book.plans.get(span.plan)
        if price is None:
            raise BillingError(
                f"the price book of {book.effective_from.isoformat()} has no price for the "
                f"{span.plan} plan"
            )
        prices.append((span, price))
        amount = half_up(price.monthly_fee * span.days, period_days)
        subscription += amount
        allowance += price.included_chats * span.days // period_days
        whole = span.days == period_days
        plan = _title(span.plan)
        lines.append(
            Line(
                "subscription",
                f"Plan {plan}: mensualidad"
                if whole
                else f"Plan {plan}: {span.days} de {period_days} días",
                f"{plan} plan: monthly fee"
                if whole
                else f"{plan} plan: {span.days} of {period_days} days",
                amount,
                quantity=1 if whole else span.days,
                unit_price=price.monthly_fee,
            )
        )
    over = max(bill.human_chats - allowance, 0)
    last_price = prices[-1][1]
    if over and last_price.per_chat:
        lines.append(
            Line(
                "overage",
                f"Chats atendidos sobre los {allowance} incluidos",
                f"Chats handled over the {allowance} included",
                over * last_price.per_chat,
                quantity=over,
                unit_price=last_price.per_chat,
            )
        )
    for span, price in prices:
        count = sum(1 for day in bill.lead_days if span.first <= day <= span.last)
        if count and price.per_lead:
            lines.append(
                Line(
                    "lead",
                    "Leads cualificados entregados",
                    "Qualified leads delivered",
                    count * price.per_lead,
                    quantity=count,
                    unit_price=price.per_lead,
                )
            )
    return lines, subscription, allowance


def compute_bill(bill: BillInput) -> Bill:
    """The invoice of a period: its lines in order, and its totals."""
    if bill.carried_in < 0:
        raise BillingError("a carried credit balance is never below zero")
    lines, subscription, allowance = _charges(bill)
    incentive = share(subscription, bill.incentive_bp)
    if incentive:
        lines.append(
            Line(
                "incentive",
                f"Incentivo por nivel de servicio ({format_hundredths(bill.incentive_bp)}%)",
                f"Service level incentive ({format_hundredths(bill.incentive_bp)}%)",
                incentive,
                rate_bp=bill.incentive_bp,
            )
        )
    subtotal = sum(line.amount for line in lines)
    credit = share(subscription, bill.credit_bp)
    sla_applied = min(credit, subtotal)
    balance_applied = min(bill.carried_in, subtotal - sla_applied)
    if credit:
        lines.append(
            Line(
                "sla_credit",
                f"Crédito por nivel de servicio ({format_hundredths(bill.credit_bp)}%)",
                f"Service level credit ({format_hundredths(bill.credit_bp)}%)",
                -sla_applied,
                rate_bp=bill.credit_bp,
            )
        )
    if balance_applied:
        lines.append(
            Line(
                "sla_credit",
                "Saldo a favor de la factura anterior",
                "Credit balance from the previous invoice",
                -balance_applied,
            )
        )
    credits = sla_applied + balance_applied
    carried_out = credit + bill.carried_in - credits
    base = subtotal - credits
    taxes = ivu_lines(base, bill.tax_status, bill.rates)
    fees = sum(fee.amount for fee in bill.late_fees)
    for fee in bill.late_fees:
        lines.append(
            Line(
                "late_fee",
                f"Cargo por demora, factura {fee.invoice_number} ({fee.charged_on.isoformat()})",
                f"Late fee, invoice {fee.invoice_number} ({fee.charged_on.isoformat()})",
                fee.amount,
            )
        )
    for tax in taxes:
        lines.append(
            Line(
                tax.kind,
                tax_label(tax.kind, tax.rate_bp, "es"),
                tax_label(tax.kind, tax.rate_bp, "en"),
                tax.amount,
                rate_bp=tax.rate_bp,
            )
        )
    tax_total = sum(tax.amount for tax in taxes)
    return Bill(
        lines=lines,
        subtotal=subtotal,
        credits=credits,
        taxable_base=base,
        tax=tax_total,
        total=base + tax_total + fees,
        carried_out=carried_out,
        allowance=allowance,
    )
