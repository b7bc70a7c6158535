"""The provider's register of security incidents (who was affected, which notices went)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from console.store.base import StorePart
from console.store.models import new_id
from console.store.protection_models import IncidentRow


@dataclass(frozen=True)
class Incident:
    id: str
    title: str
    description: str
    opened_at: datetime
    discovered_at: datetime
    affected: list[dict[str, Any]]
    notices: list[dict[str, Any]]
    closed_at: datetime | None
    opened_by: str

    @property
    def visitors(self) -> int:
        return sum(int(a.get("visitors", 0)) for a in self.affected)


def _incident(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        title=row.title,
        description=row.description,
        opened_at=row.opened_at,
        discovered_at=row.discovered_at,
        affected=list(row.affected or []),
        notices=list(row.notices or []),
        closed_at=row.closed_at,
        opened_by=row.opened_by,
    )


class IncidentRepository(StorePart):
    async def open(
        self,
        *,
        title: str,
        description: str,
        discovered_at: datetime,
        affected: list[dict[str, Any]],
        opened_by: str,
    ) -> Incident:
        row = IncidentRow(
            id=new_id(),
            title=title,
            description=description,
            opened_at=self.store.clock.now(),
            discovered_at=discovered_at,
            affected=affected,
            notices=[],
            opened_by=opened_by,
        )
        await self.store.add(row)
        return _incident(row)

    async def update(
        self,
        incident_id: str,
        *,
        affected: list[dict[str, Any]] | None = None,
        notice: dict[str, Any] | None = None,
        close: bool = False,
    ) -> Incident | None:
        async with self.store.session() as s, s.begin():
            row = await s.get(IncidentRow, incident_id)
            if row is None:
                return None
            if affected is not None:
                row.affected = affected
            if notice is not None:
                row.notices = [*row.notices, notice]
            if close and row.closed_at is None:
                row.closed_at = self.store.clock.now()
        return _incident(row)

    async def get(self, incident_id: str) -> Incident | None:
        async with self.store.reading() as s:
            row = await s.get(IncidentRow, incident_id)
            return _incident(row) if row else None

    async def list(self) -> list[Incident]:
        async with self.store.reading() as s:
            rows = await s.scalars(select(IncidentRow).order_by(IncidentRow.opened_at.desc()))
            return [_incident(r) for r in rows]
