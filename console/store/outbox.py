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

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from console.contract.plans import delivers_to
from console.domain.leads import Delivery
from console.domain.types import Chat, Tenant, iso
from console.store.base import StorePart, changed, owned, tenant_rows
from console.store.leads import destinations, insert_once, pending_delivery, read_delivery
from console.store.models import ChatRow, DeliveryRow, RowReader, TenantRow, WebhookRow

CHAT_CLOSED = "chat.closed"
# chat.closed rows have ids derived from (chat, webhook): one row per pair, whoever adds it
CLOSED_IDS = uuid.UUID("5b0c3f4e-8f1e-4d39-9a57-0c6a2d7f31c1")
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


read_claimed = RowReader(
    Claimed,
    DeliveryRow,
    secret=("payload",),
    payload=lambda text: json.loads(text) if text else None,
)


class OutboxRepository(StorePart):
    # -- the worker's side ---------------------------------------------------------------

    async def claim(
        self, worker: str, *, limit: int, lease_s: float, now: datetime | None = None
    ) -> list[Claimed]:
        """Up to `limit` due deliveries, each leased to `worker` (and its attempt counted)."""
        now = now or self.store.clock.now()
        until = now + timedelta(seconds=lease_s)
        free = or_(DeliveryRow.locked_until.is_(None), DeliveryRow.locked_until < now)
        async with self.store.session() as s:
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
            async with self.store.session() as s, s.begin():
                won = await changed(
                    s,
                    update(DeliveryRow)
                    .where(DeliveryRow.id == delivery_id, DeliveryRow.status == "pending")
                    .where(free)
                    .values(
                        locked_by=worker,
                        locked_until=until,
                        attempts=DeliveryRow.attempts + 1,
                    ),
                )
                if won != 1:
                    continue  # another worker was faster
                row = await s.get(DeliveryRow, delivery_id)
                assert row is not None
                assert row.locked_until is not None
                claimed.append(read_claimed(row, self.store.cipher))
        return claimed

    async def _finish(self, delivery_id: str, worker: str, **values: Any) -> bool:
        done = await self.store.write(
            update(DeliveryRow)
            .where(
                DeliveryRow.id == delivery_id,
                DeliveryRow.locked_by == worker,
                DeliveryRow.status == "pending",
            )
            .values(locked_by=None, locked_until=None, **values)
        )
        return done == 1

    async def delivered(self, delivery_id: str, worker: str, external_id: str | None) -> bool:
        return await self._finish(
            delivery_id,
            worker,
            status="delivered",
            external_id=external_id,
            last_error=None,
            delivered_at=self.store.clock.now(),
        )

    async def retry_later(self, delivery_id: str, worker: str, error: str, at: datetime) -> bool:
        return await self._finish(
            delivery_id, worker, last_error=error[:ERROR_MAX], next_attempt_at=at
        )

    async def failed(self, delivery_id: str, worker: str, error: str) -> bool:
        return await self._finish(
            delivery_id, worker, status="failed", last_error=error[:ERROR_MAX]
        )

    async def external_id(
        self, lead_id: str, destination: str, target_id: str | None
    ) -> str | None:
        """The destination's id for this lead from its latest successful delivery (the
        Salesforce Lead an update changes), or None."""
        async with self.store.session() as s:
            return await s.scalar(
                select(DeliveryRow.external_id)
                .where(
                    DeliveryRow.lead_id == lead_id,
                    DeliveryRow.destination == destination,
                    DeliveryRow.target_id.is_(None)
                    if target_id is None
                    else DeliveryRow.target_id == target_id,
                    DeliveryRow.status == "delivered",
                    DeliveryRow.external_id.is_not(None),
                )
                .order_by(DeliveryRow.delivered_at.desc())
                .limit(1)
            )

    async def next_due(self) -> datetime | None:
        """When the earliest pending delivery becomes due (a lease counts as not yet)."""
        async with self.store.session() as s:
            rows = await s.execute(
                select(DeliveryRow.next_attempt_at, DeliveryRow.locked_until)
                .where(DeliveryRow.status == "pending")
                .order_by(DeliveryRow.next_attempt_at)
                .limit(50)
            )
            times = [max(at, locked or at) for at, locked in rows]
        return min(times) if times else None

    async def pending_by_destination(self) -> dict[str, tuple[int, datetime]]:
        """Pending deliveries by connector: how many, and when the oldest was queued
        (the worker's `charla_outbox_pending` and `charla_outbox_queue_age_seconds`)."""
        async with self.store.session() as s:
            rows = await s.execute(
                select(DeliveryRow.destination, func.count(), func.min(DeliveryRow.created_at))
                .where(DeliveryRow.status == "pending")
                .group_by(DeliveryRow.destination)
            )
            return {str(dest): (int(count), oldest) for dest, count, oldest in rows}

    # -- the people's side ---------------------------------------------------------------

    async def get(self, tenant_id: str, delivery_id: str) -> Delivery | None:
        row = await self.get_owned(DeliveryRow, tenant_id, delivery_id)
        return read_delivery(row) if row else None

    async def search(
        self, tenant_id: str, *, status: str | None = None, limit: int = 200
    ) -> list[Delivery]:
        query = tenant_rows(DeliveryRow, tenant_id, DeliveryRow.created_at.desc(), DeliveryRow.id)
        if status is not None:
            query = query.where(DeliveryRow.status == status)
        async with self.store.session() as s:
            return [read_delivery(row) for row in await s.scalars(query.limit(limit))]

    async def retry(
        self, tenant_id: str, delivery_id: str, *, lead_id: str | None = None
    ) -> tuple[Delivery | None, bool]:
        """A failed delivery (of `lead_id`, when given) made pending again now with a fresh
        count of attempts: (the delivery as it is now, whether it was retried)."""
        where = [
            DeliveryRow.id == delivery_id,
            DeliveryRow.tenant_id == tenant_id,
            DeliveryRow.status == "failed",
        ]
        if lead_id is not None:
            where.append(DeliveryRow.lead_id == lead_id)
        async with self.store.session() as s, s.begin():
            retried = await changed(
                s,
                update(DeliveryRow)
                .where(*where)
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=self.store.clock.now(),
                    locked_by=None,
                    locked_until=None,
                ),
            )
            row = await owned(s, DeliveryRow, tenant_id, delivery_id)
            return (read_delivery(row), bool(retried)) if row else (None, False)

    async def chat_closed(self, tenant: Tenant, chat: Chat, reason: str) -> list[Delivery]:
        """One row per webhook subscribed to chat.closed, its body fixed at the close."""
        body = closed_body(chat, reason, chat.closed_at or self.store.clock.now())
        queued: list[DeliveryRow] = []
        async with self.store.session() as s, s.begin():
            for target in await destinations(s, tenant, CHAT_CLOSED):
                row = await self._queue_once(s, tenant.id, chat.id, target, body)
                if row is not None:
                    queued.append(row)
        return [read_delivery(row) for row in queued]

    async def _queue_once(
        self,
        s: AsyncSession,
        tenant_id: str,
        chat_id: str,
        target: tuple[str, str | None],
        body: dict[str, Any],
    ) -> DeliveryRow | None:
        """Insert the chat's chat.closed row for this target unless it exists: its id is
        derived from (chat, target), so the hub and the recovery sweep cannot both add it."""
        row = pending_delivery(
            tenant_id,
            CHAT_CLOSED,
            target,
            self.store.clock.now(),
            delivery_id=chat_closed_id(chat_id, target[1]),
            chat_id=chat_id,
            payload_enc=self.store.cipher.encrypt(json.dumps(body)),
        )
        return row if await insert_once(s, row) else None

    async def recover_chat_closed(
        self,
        *,
        now: datetime | None = None,
        settle: timedelta = timedelta(seconds=30),
        window: timedelta = timedelta(days=1),
        limit: int = 200,
    ) -> int:
        """chat.closed rows a crash kept the hub from queuing (the close commits before its
        rows are written): chats closed in the last `window`, at least `settle` ago, after
        the webhook existed, that have no row for it. Returns how many were queued."""
        now = now or self.store.clock.now()
        queued = 0
        async with self.store.session() as s, s.begin():
            hooks = [h for h in await s.scalars(select(WebhookRow)) if CHAT_CLOSED in h.events]
            plans = {
                t.id: t.plan
                for t in await s.scalars(
                    select(TenantRow).where(TenantRow.id.in_({h.tenant_id for h in hooks}))
                )
            }
            for hook in hooks:
                if not delivers_to(plans.get(hook.tenant_id, ""), "webhook"):
                    continue
                has_row = (
                    select(DeliveryRow.id)
                    .where(
                        DeliveryRow.chat_id == ChatRow.id,
                        DeliveryRow.event == CHAT_CLOSED,
                        DeliveryRow.target_id == hook.id,
                    )
                    .exists()
                )
                chats = await s.scalars(
                    select(ChatRow)
                    .where(
                        ChatRow.tenant_id == hook.tenant_id,
                        ChatRow.status == "closed",
                        ChatRow.closed_at >= max(now - window, hook.created_at),
                        ChatRow.closed_at <= now - settle,
                        ~has_row,
                    )
                    .limit(limit)
                )
                for chat in chats:
                    assert chat.closed_at is not None
                    body = closed_body(chat, chat.close_reason or "closed", chat.closed_at)
                    target = ("webhook", hook.id)
                    row = await self._queue_once(s, hook.tenant_id, chat.id, target, body)
                    queued += row is not None
        return queued


def chat_closed_id(chat_id: str, target_id: str | None) -> str:
    return str(uuid.uuid5(CLOSED_IDS, f"{chat_id}/{target_id}"))


def closed_body(chat: Chat | ChatRow, reason: str, closed_at: datetime) -> dict[str, Any]:
    """The chat.closed event's body (the chat as it closed)."""
    return {
        "chat": {
            "id": chat.id,
            "tenant_id": chat.tenant_id,
            "visitor_id": chat.visitor_id,
            "agent_id": chat.agent_id,
            "language": chat.language,
            "reason": reason,
            "created_at": iso(chat.created_at),
            "closed_at": iso(closed_at),
        }
    }
