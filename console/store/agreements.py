"""Service agreements (versioned), one-off closures and closed SLA months (`store.agreements`).

The terms are stored as the contract renders them (`Agreement.to_wire`) and read back
through its parser, so a stored version is always one the API would accept.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from console.contract.agreement import Agreement, parse_agreement
from console.domain.types import Tenant
from console.store.base import StorePart
from console.store.leads import destinations, insert_once, pending_delivery
from console.store.models import AgreementRow, ClosureRow, SlaMonthRow, new_id

SLA_BREACHED = "sla.breached"
# a chat's sla.breached row has an id derived from (chat, webhook): one per pair, whichever
# hub process saw the miss first
BREACH_IDS = uuid.UUID("0d7f3c52-6a8e-4b1f-9f0e-5c2b8a1d4e73")


@dataclass(frozen=True)
class AgreementVersion:
    id: str
    tenant_id: str
    version: int
    agreement: Agreement
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "version": self.version,
            **self.agreement.to_wire(),
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class ClosedMonth:
    month: str
    agreement_version: int
    figures: dict[str, Any]
    figures_sha256: str
    closed_at: datetime
    discrepancy: dict[str, Any] | None
    checked_at: datetime | None


class AgreementVersionConflictError(Exception):
    """Two versions were written at once; the caller may try again."""


def _version(row: AgreementRow) -> AgreementVersion:
    return AgreementVersion(
        row.id, row.tenant_id, row.version, parse_agreement(row.terms), row.created_at
    )


class AgreementRepository(StorePart):
    async def add_agreement(self, tenant_id: str, agreement: Agreement) -> AgreementVersion:
        """The agreement as the tenant's next version (1, 2, ...)."""
        now = self.store.clock.now()
        try:
            async with self.store.session() as s, s.begin():
                latest = await s.scalar(
                    select(func.max(AgreementRow.version)).where(
                        AgreementRow.tenant_id == tenant_id
                    )
                )
                row = AgreementRow(
                    id=new_id(),
                    tenant_id=tenant_id,
                    version=int(latest or 0) + 1,
                    effective_from=agreement.effective_from.isoformat(),
                    terms=agreement.to_wire(),
                    created_at=now,
                )
                s.add(row)
        except IntegrityError:
            raise AgreementVersionConflictError from None
        return _version(row)

    async def versions(self, tenant_id: str) -> list[AgreementVersion]:
        async with self.store.reading() as s:
            rows = await s.scalars(
                select(AgreementRow)
                .where(AgreementRow.tenant_id == tenant_id)
                .order_by(AgreementRow.version)
            )
            return [_version(r) for r in rows]

    async def tenants_with_agreements(self) -> list[str]:
        async with self.store.reading() as s:
            return list(await s.scalars(select(AgreementRow.tenant_id).distinct()))

    # -- one-off closures ----------------------------------------------------------------

    async def set_closure(self, tenant_id: str, day: date, reason: str) -> None:
        """Close the day (again: a second call replaces its reason)."""
        key = day.isoformat()
        async with self.store.session() as s, s.begin():
            row = await s.get(ClosureRow, (tenant_id, key))
            if row is None:
                s.add(
                    ClosureRow(
                        tenant_id=tenant_id,
                        day=key,
                        reason=reason,
                        created_at=self.store.clock.now(),
                    )
                )
            else:
                row.reason = reason

    async def closures(self, tenant_id: str) -> list[tuple[date, str]]:
        async with self.store.reading() as s:
            rows = (
                await s.execute(
                    select(ClosureRow.day, ClosureRow.reason)
                    .where(ClosureRow.tenant_id == tenant_id)
                    .order_by(ClosureRow.day)
                )
            ).all()
        return [(date.fromisoformat(day), reason) for day, reason in rows]

    async def delete_closure(self, tenant_id: str, day: date) -> bool:
        deleted = await self.store.write(
            delete(ClosureRow).where(
                ClosureRow.tenant_id == tenant_id, ClosureRow.day == day.isoformat()
            )
        )
        return deleted > 0

    # -- closed months -------------------------------------------------------------------

    async def closed_month(self, tenant_id: str, month: str) -> ClosedMonth | None:
        async with self.store.reading() as s:
            row = await s.get(SlaMonthRow, (tenant_id, month))
            if row is None:
                return None
            return ClosedMonth(
                row.month,
                row.agreement_version,
                dict(row.figures),
                row.figures_sha256,
                row.closed_at,
                None if row.discrepancy is None else dict(row.discrepancy),
                row.checked_at,
            )

    async def close_month(
        self, tenant_id: str, month: str, *, version: int, figures: dict[str, Any], sha256: str
    ) -> bool:
        """Freeze a month's figures, once: False if it was closed already."""
        try:
            await self.store.add(
                SlaMonthRow(
                    tenant_id=tenant_id,
                    month=month,
                    agreement_version=version,
                    figures=figures,
                    figures_sha256=sha256,
                    closed_at=self.store.clock.now(),
                )
            )
        except IntegrityError:
            return False
        return True

    async def note_check(
        self, tenant_id: str, month: str, discrepancy: dict[str, Any] | None
    ) -> None:
        """A recomputation of a closed month: what differed (None: nothing). The frozen
        figures themselves never change."""
        await self.store.write(
            update(SlaMonthRow)
            .where(SlaMonthRow.tenant_id == tenant_id, SlaMonthRow.month == month)
            .values(discrepancy=discrepancy, checked_at=self.store.clock.now())
        )

    # -- live breaches -------------------------------------------------------------------

    async def queue_breach(self, tenant: Tenant, chat_id: str, body: dict[str, Any]) -> int:
        """The sla.breached event for each of the tenant's webhooks that take it, once per
        (chat, webhook) whoever calls; returns how many rows were added."""
        added = 0
        async with self.store.session() as s, s.begin():
            for target in await destinations(s, tenant, SLA_BREACHED):
                delivery_id = str(uuid.uuid5(BREACH_IDS, f"{chat_id}/{target[1]}"))
                row = pending_delivery(
                    tenant.id,
                    SLA_BREACHED,
                    target,
                    self.store.clock.now(),
                    delivery_id=delivery_id,
                    chat_id=chat_id,
                    payload_enc=self.store.cipher.encrypt(json.dumps(body)),
                )
                added += await insert_once(s, row)
        return added
