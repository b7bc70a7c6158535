"""A month's service levels for a tenant: live while it is open, frozen once closed.

The figures come from the chats' timestamps through console/contract/sla.py. On the third
day of the next month `freeze_due` closes the month: the figures, the agreement version
they were computed with and their SHA-256 are stored and never change. Each later run
recomputes recently closed months; a result that differs is kept beside the frozen one as
a discrepancy for the provider to look at, never applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import structlog

from console.contract.agreement import Agreement, agreement_for, format_hundredths
from console.contract.hours import Schedule
from console.contract.sla import (
    ChatTimes,
    Coverage,
    MonthFigures,
    figures_sha256,
    freeze_at,
    measure,
    month_bounds,
    month_days,
    month_figures,
)
from console.domain.types import Tenant
from console.store.repository import Store

log = structlog.get_logger("charla.reports")
RECHECK_MONTHS = 3


class NoAgreementError(LookupError):
    """The tenant has no agreement in force in the month asked about."""


def coverage_for(tenant: Tenant, agreement: Agreement, closures: list[date]) -> Coverage:
    """The agreement's coverage hours, or else the tenant's own, less closed days."""
    if agreement.has_coverage:
        schedule = Schedule(tenant.timezone, agreement.coverage_hours, agreement.coverage_holidays)
    else:
        schedule = Schedule(tenant.timezone, tenant.hours, tenant.holidays)
    return Coverage(schedule, frozenset(closures))


def month_name(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


@dataclass(frozen=True)
class MonthReport:
    month: str
    version: int
    status: str
    figures: dict[str, Any]
    sha256: str | None = None
    discrepancy: dict[str, Any] | None = None

    @property
    def credit_pct(self) -> str:
        return str(self.figures["credit_pct"])

    @property
    def incentive_pct(self) -> str:
        return str(self.figures["incentive_pct"])

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "month": self.month,
            "agreement_version": self.version,
            "status": self.status,
            **self.figures,
        }
        if self.sha256 is not None:
            wire["figures_sha256"] = self.sha256
        if self.discrepancy is not None:
            wire["discrepancy"] = self.discrepancy
        return wire


async def compute(
    store: Store, tenant: Tenant, year: int, month: int, now: datetime, *, version: int = 0
) -> tuple[int, MonthFigures]:
    """The month's figures as the chats stand at `now`, with the version that measures it
    (or the `version` given: a closed month is rechecked with its own)."""
    versions = [(v.version, v.agreement) for v in await store.agreements.versions(tenant.id)]
    if version:
        versions = [(v, a) for v, a in versions if v == version]
    _, last = month_days(year, month)
    try:
        version, agreement = agreement_for(versions, last)
    except LookupError:
        raise NoAgreementError(
            f"no service agreement in force in {month_name(year, month)}"
        ) from None
    closures = [day for day, _ in await store.agreements.closures(tenant.id)]
    coverage = coverage_for(tenant, agreement, closures)
    start, end = month_bounds(year, month, coverage.schedule.zone)
    chats = await store.reports.chats(tenant.id, start, end, by_entry=True)
    measured = [
        measure(
            ChatTimes(c.entered_at, c.first_agent_reply_at, c.closed_at),
            coverage,
            agreement.answer_s,
            now,
        )
        for c in chats
    ]
    rated = await store.reports.chats(tenant.id, start, end)
    scores = [c.csat_score for c in rated if c.csat_score is not None]
    return version, month_figures(measured, scores, agreement)


async def month_report(
    store: Store, tenant: Tenant, year: int, month: int, now: datetime
) -> MonthReport:
    """The frozen figures of a closed month, else the live ones (`status: open`)."""
    name = month_name(year, month)
    closed = await store.agreements.closed_month(tenant.id, name)
    if closed is not None:
        return MonthReport(
            name,
            closed.agreement_version,
            "closed",
            closed.figures,
            closed.figures_sha256,
            closed.discrepancy,
        )
    version, figures = await compute(store, tenant, year, month, now)
    return MonthReport(name, version, "open", figures.to_wire())


async def terms_of(store: Store, tenant_id: str, version: int) -> dict[str, Any]:
    """The terms a month is read against (shown beside its figures, never part of them):
    the answer target, the attainment target, the abandonment ceiling and the CSAT floor."""
    for found in await store.agreements.versions(tenant_id):
        if found.version == version:
            terms = found.agreement.to_wire()
            return {
                "answer_s": terms["answer_s"],
                "target_pct": format_hundredths(found.agreement.target_bp),
                "max_abandon_pct": terms["max_abandon_pct"],
                "csat_min": terms["csat_min"],
            }
    return {}


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


async def freeze_due(store: Store, now: datetime) -> list[tuple[str, str]]:
    """Close every month that is due (from the third day of the next one) for each tenant
    with an agreement, and recheck the last few closed ones: the (tenant, month) closed."""
    closed: list[tuple[str, str]] = []
    for tenant_id in await store.agreements.tenants_with_agreements():
        tenant = await store.get_tenant(tenant_id)
        if tenant is None:
            continue
        zone = Schedule(tenant.timezone).zone
        local = now.astimezone(zone)
        year, month = local.year, local.month
        for _ in range(RECHECK_MONTHS):
            year, month = previous_month(year, month)
            if now < freeze_at(year, month, zone):
                continue
            if await _freeze_or_check(store, tenant, year, month, now):
                closed.append((tenant.id, month_name(year, month)))
    return closed


async def _freeze_or_check(
    store: Store, tenant: Tenant, year: int, month: int, now: datetime
) -> bool:
    name = month_name(year, month)
    existing = await store.agreements.closed_month(tenant.id, name)
    frozen_version = 0 if existing is None else existing.agreement_version
    try:
        version, figures = await compute(store, tenant, year, month, now, version=frozen_version)
    except NoAgreementError:
        return False
    wire = figures.to_wire()
    sha = figures_sha256(wire)
    if existing is None:
        return await store.agreements.close_month(
            tenant.id, name, version=version, figures=wire, sha256=sha
        )
    if existing.figures_sha256 == sha and existing.agreement_version == version:
        if existing.discrepancy is not None:
            await store.agreements.note_check(tenant.id, name, None)
        return False
    if existing.discrepancy is None or existing.discrepancy.get("figures_sha256") != sha:
        log.warning(
            "sla_discrepancy", tenant_id=tenant.id, month=name, frozen=existing.figures_sha256
        )
        found = {
            "figures_sha256": sha,
            "agreement_version": version,
            "figures": wire,
            "detected_at": now.isoformat().replace("+00:00", "Z"),
        }
        await store.agreements.note_check(tenant.id, name, found)
    return False
