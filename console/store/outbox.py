"""The outbox's life cycle: claim with a lease, then delivered, retry later, or failed.

A claim is a compare-and-set on one row (status pending, due, lease free or expired), so two
workers, in one process or in several, never hold the same delivery at once; a worker that
dies (even by SIGKILL) leaves a lease that simply expires, and the row is claimed again.
Every outcome is recorded only by the holder of the lease (`locked_by`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.leads import Delivery
from console.security.crypto import DataCipher
from console.store.leads import LeadRepository, destinations
from console.store.models import DeliveryRow
from console.types import Chat, Tenant, iso, utcnow

CHAT_CLOSED = "chat.closed"
ERROR_MAX = 1000


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds until `locked_until`."""

    id: str
    tenant_id: str
    lead_id: str | None
    chat_id: str | None
    event: str
    destination: str
    target_id: str | None
    attempts: int
    payload: dict[str, Any] | None
    created_at: datetime
    locked_until: datetime


class OutboxRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], cipher: DataCipher) -> None:
        self._sessions = sessions
        self.cipher = cipher

    # -- the worker's side ---------------------------------------------------------------

    async def claim(
        self, worker: str, *, limit: int, lease_s: float, now: datetime | None = None
    ) -> list[Claimed]:
        """Up to `limit` due deliveries, each leased to `worker` (and its attempt counted)."""
        now = now or utcnow()
        until = now + timedelta(seconds=lease_s)
        free = or_(DeliveryRow.locked_until.is_(None), DeliveryRow.locked_until < now)
        async with self._sessions() as s:
            candidates = list(
                await s.scalars(
                    select(DeliveryRow.id)
                    .where(DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now)
                    .where(free)
                    .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
                    .limit(limit)
                )
            )
        claimed: list[Claimed] = []
        for delivery_id in candidates:
            async with self._sessions() as s, s.begin():
                won = await s.execute(
                    update(DeliveryRow)
                    .where(DeliveryRow.id == delivery_id, DeliveryRow.status == "pending")
                    .where(free)
                    .values(
                        locked_by=worker,
                        locked_until=until,
                        attempts=DeliveryRow.attempts + 1,
                    )
                )
                if won.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
                    continue  # another worker was faster
                row = await s.get(DeliveryRow, delivery_id)
                assert row is not None
                claimed.append(self._claimed(row))
        return claimed

    def _claimed(self, row: DeliveryRow) -> Claimed:
        payload = None
        if row.payload_enc:
            payload = json.loads(self.cipher.decrypt(row.payload_enc))
        assert row.locked_until is not None
        return Claimed(
            id=row.id,
            tenant_id=row.tenant_id,
            lead_id=row.lead_id,
            chat_id=row.chat_id,
            event=row.event,
            destination=row.destination,
            target_id=row.target_id,
            attempts=row.attempts,
            payload=payload,
            created_at=row.created_at,
            locked_until=row.locked_until,
        )

    async def _finish(self, delivery_id: str, worker: str, **values: Any) -> bool:
        async with self._sessions() as s, s.begin():
            done = await s.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery_id,
                    DeliveryRow.locked_by == worker,
                    DeliveryRow.status == "pending",
                )
                .values(locked_by=None, locked_until=None, **values)
            )
            return bool(done.rowcount == 1)  # type: ignore[attr-defined]  # a CursorResult

    async def delivered(self, delivery_id: str, worker: str, external_id: str | None) -> bool:
        return await self._finish(
            delivery_id,
            worker,
            status="delivered",
            external_id=external_id,
            last_error=None,
            delivered_at=utcnow(),
        )

    async def retry_later(self, delivery_id: str, worker: str, error: str, at: datetime) -> bool:
        return await self._finish(
            delivery_id, worker, last_error=error[:ERROR_MAX], next_attempt_at=at
        )

    async def failed(self, delivery_id: str, worker: str, error: str) -> bool:
        return await self._finish(
            delivery_id, worker, status="failed", last_error=error[:ERROR_MAX]
        )

    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery becomes due (a lease counts as not yet)."""
        async with self._sessions() as s:
            rows = await s.execute(
                select(DeliveryRow.next_attempt_at, DeliveryRow.locked_until)
                .where(DeliveryRow.status == "pending")
                .order_by(DeliveryRow.next_attempt_at)
                .limit(50)
            )
            times = [max(at, locked or at) for at, locked in rows]
        return min(times) if times else None

    # -- the people's side ---------------------------------------------------------------

    async def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        async with self._sessions() as s:
            row = await s.get(DeliveryRow, delivery_id)
        if row is None or row.tenant_id != tenant_id:
            return None
        return LeadRepository.delivery(row)

    async def search(
        self, tenant_id: str, *, status: str | None = None, limit: int = 200
    ) -> list[Delivery]:
        query = select(DeliveryRow).where(DeliveryRow.tenant_id == tenant_id)
        if status is not None:
            query = query.where(DeliveryRow.status == status)
        query = query.order_by(DeliveryRow.created_at.desc(), DeliveryRow.id).limit(limit)
        async with self._sessions() as s:
            return [LeadRepository.delivery(row) for row in await s.scalars(query)]

    async def retry(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        """A failed delivery, pending again now with a fresh count of attempts."""
        async with self._sessions() as s, s.begin():
            await s.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery_id,
                    DeliveryRow.tenant_id == tenant_id,
                    DeliveryRow.status == "failed",
                )
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=utcnow(),
                    locked_by=None,
                    locked_until=None,
                )
            )
            row = await s.get(DeliveryRow, delivery_id)
            if row is None or row.tenant_id != tenant_id:
                return None
            return LeadRepository.delivery(row)

    async def chat_closed(self, tenant: Tenant, chat: Chat, reason: str) -> list[Delivery]:
        """One row per webhook subscribed to chat.closed, its body fixed at the close."""
        now = utcnow()
        body = {
            "chat": {
                "id": chat.id,
                "tenant_id": chat.tenant_id,
                "visitor_id": chat.visitor_id,
                "agent_id": chat.agent_id,
                "language": chat.language,
                "reason": reason,
                "created_at": iso(chat.created_at),
                "closed_at": iso(chat.closed_at or now),
            }
        }
        queued: list[DeliveryRow] = []
        async with self._sessions() as s, s.begin():
            for destination, target_id in await destinations(s, tenant, CHAT_CLOSED):
                row = DeliveryRow(
                    id=str(uuid.uuid4()),
                    tenant_id=tenant.id,
                    lead_id=None,
                    chat_id=chat.id,
                    event=CHAT_CLOSED,
                    destination=destination,
                    target_id=target_id,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    payload_enc=self.cipher.encrypt(json.dumps(body)),
                    created_at=now,
                )
                s.add(row)
                queued.append(row)
        return [LeadRepository.delivery(row) for row in queued]
