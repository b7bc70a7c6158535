"""Payments and late fees: when an invoice is overdue, when a late fee is owed (once per 30
days, never while disputed) and how much (on the overdue principal only)."""

from __future__ import annotations

from datetime import date, timedelta

from console.contract.money import share

LATE_FEE_EVERY_DAYS = 30


def overdue_from(due_on: date, grace_days: int) -> date:
    """The first day an unpaid invoice is overdue: after its due date and the grace."""
    return due_on + timedelta(days=grace_days + 1)


def late_fee_due(
    due_on: date, grace_days: int, last_fee_on: date | None, today: date, *, disputed: bool
) -> date | None:
    """The day of the late fee to charge now, if one is owed: the first on the day the
    invoice becomes overdue, then one every 30 days. Never while disputed, never two in 30
    days, and days missed (a dispute, a job that did not run) are not charged back."""
    if disputed:
        return None
    start = overdue_from(due_on, grace_days)
    if today < start:
        return None
    anchor = start + timedelta(days=(today - start).days // LATE_FEE_EVERY_DAYS * 30)
    if last_fee_on is not None and (anchor - last_fee_on).days < LATE_FEE_EVERY_DAYS:
        return None
    return anchor


def late_fee_amount(overdue_principal: int, monthly_bp: int) -> int:
    """The fee on what is overdue of the invoice itself (never on earlier fees)."""
    return share(max(overdue_principal, 0), monthly_bp)


def invoice_status(
    total: int, paid: int, due_on: date, grace_days: int, today: date, *, void: bool
) -> str:
    if void:
        return "void"
    if paid >= total:
        return "paid"
    return "overdue" if today >= overdue_from(due_on, grace_days) else "issued"
