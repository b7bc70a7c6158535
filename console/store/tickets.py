"""Tickets worked by the dealer's staff: listed overdue first, taken, noted, resolved,
reopened; and the `ticket.created` outbox rows that tell the tenant a ticket arrived.

A ticket is written with its chat (an offline start_chat) or after it (the bot, an agent):
console/store/chats.py. Its announcement is written right after, in its own transaction,
with ids derived from the ticket and the target, so that announcing twice queues once; a
process that dies between the two leaves the announcement to the outbox worker's recovery
sweep (`recover_announcements`).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from console.domain.leads import Delivery
from console.domain.types import TICKET_STATUSES, Tenant, Ticket, TicketNote
from console.store.base import StorePart, owned, tenant_rows
from console.store.leads import (
    NOTICE_KIND,
    TICKET_CREATED,
    destinations,
    insert_once,
    pending_delivery,
    read_delivery,
)
from console.store.models import (
    AgentRow,
    DeliveryRow,
    IntegrationRow,
    TenantRow,
    TicketRow,
    WebhookRow,
    new_id,
)
from console.store.records import read_tenant, read_ticket
from console.store.ticket_models import TicketNoteRow

TICKET_IDS = uuid.UUID("0f6a1c55-2f6e-4b8e-9a43-7d1f3c0b2a91")
LIST_LIMIT = 500
ID_CHUNK = 500


def work_order(now: datetime) -> Any:
    """Overdue callbacks first (longest overdue first), then by due time, then the rest,
    newest first."""

    def key(ticket: Ticket) -> tuple[int, float]:
        due = ticket.callback_due_at
        if ticket.overdue(now):
            return 0, due.timestamp() if due else 0.0
        if due is not None:
            return 1, due.timestamp()
        return 2, -ticket.created_at.timestamp()

    return key


class TicketRepository(StorePart):
    async def get(self, tenant_id: str, ticket_id: str) -> Ticket | None:
        """A ticket of the tenant with its notes (None for another tenant's)."""
        async with self.store.session() as s:
            row = await owned(s, TicketRow, tenant_id, ticket_id)
            if row is None:
                return None
            notes = await self._notes(s, ticket_id)
        return read_ticket(row, self.store.cipher, notes=notes)

    async def _notes(self, s: Any, ticket_id: str) -> tuple[TicketNote, ...]:
        rows = await s.execute(
            select(TicketNoteRow, AgentRow.name)
            .outerjoin(AgentRow, AgentRow.id == TicketNoteRow.agent_id)
            .where(TicketNoteRow.ticket_id == ticket_id)
            .order_by(TicketNoteRow.created_at, TicketNoteRow.id)
        )
        cipher = self.store.cipher
        return tuple(
            TicketNote(
                id=note.id,
                agent_id=note.agent_id,
                text=cipher.decrypt(note.text_enc),
                created_at=note.created_at,
                author_name=name,
            )
            for note, name in rows
        )

    async def search(
        self, tenant_id: str, *, statuses: Sequence[str] = TICKET_STATUSES
    ) -> list[Ticket]:
        """The tenant's tickets in `statuses`, in the order they should be worked."""
        now = self.store.clock.now()
        query = tenant_rows(TicketRow, tenant_id, TicketRow.created_at.desc()).where(
            TicketRow.status.in_(list(statuses))
        )
        async with self.store.reading() as s:
            rows = await s.scalars(query.limit(LIST_LIMIT))
            tickets = [read_ticket(r, self.store.cipher) for r in rows]
        return sorted(tickets, key=work_order(now))

    async def counts(self, tenant_id: str) -> dict[str, int]:
        """How many tickets are in each status, and how many callbacks are overdue."""
        now = self.store.clock.now()
        async with self.store.reading() as s:
            by_status = Counter[str](
                dict(
                    (
                        await s.execute(
                            select(TicketRow.status, func.count())
                            .where(TicketRow.tenant_id == tenant_id)
                            .group_by(TicketRow.status)
                        )
                    ).all()
                )
            )
            overdue = await s.scalar(
                select(func.count()).where(
                    TicketRow.tenant_id == tenant_id,
                    TicketRow.status.in_(("open", "in_progress")),
                    TicketRow.callback_due_at < now,
                )
            )
        return {status: by_status.get(status, 0) for status in TICKET_STATUSES} | {
            "overdue": int(overdue or 0)
        }

    async def update(
        self,
        tenant_id: str,
        ticket_id: str,
        *,
        agent_id: str,
        status: str | None = None,
        assignee_id: str | None = None,
        unassign: bool = False,
        note: str | None = None,
    ) -> Ticket | None:
        """Apply one PATCH in one transaction (values checked by the caller); None when the
        ticket is not the tenant's."""
        now = self.store.clock.now()
        async with self.store.session() as s, s.begin():
            row = await owned(s, TicketRow, tenant_id, ticket_id)
            if row is None:
                return None
            if status is not None:
                row.status = status
            if assignee_id is not None or unassign:
                row.assignee_id = assignee_id
            if note is not None:
                s.add(
                    TicketNoteRow(
                        id=new_id(),
                        ticket_id=row.id,
                        tenant_id=tenant_id,
                        agent_id=agent_id,
                        text_enc=self.store.cipher.encrypt(note),
                        created_at=now,
                    )
                )
            row.updated_at = now
            await s.flush()
            notes = await self._notes(s, ticket_id)
            return read_ticket(row, self.store.cipher, notes=notes)

    async def agent_of(self, tenant_id: str, agent_id: str) -> bool:
        """Whether `agent_id` is an active agent of the tenant (a ticket's possible assignee)."""
        async with self.store.reading() as s:
            row = await owned(s, AgentRow, tenant_id, agent_id)
            return row is not None and row.deactivated_at is None

    async def announce(self, tenant: Tenant, ticket: Ticket) -> list[Delivery]:
        """The ticket.created rows (webhooks subscribed to it, the tenant's notification
        e-mail), its body fixed now; a second call for the same ticket queues nothing."""
        async with self.store.session() as s, s.begin():
            targets = await destinations(s, tenant, TICKET_CREATED)
            return await self._queue(s, tenant.id, ticket, targets)

    async def _queue(
        self, s: Any, tenant_id: str, ticket: Ticket, targets: list[tuple[str, str | None]]
    ) -> list[Delivery]:
        payload = self.store.cipher.encrypt(json.dumps({"ticket": ticket.to_wire()}))
        now = self.store.clock.now()
        queued = []
        for target in targets:
            row = pending_delivery(
                tenant_id,
                TICKET_CREATED,
                target,
                now,
                delivery_id=_delivery_id(ticket.id, target),
                chat_id=ticket.chat_id,
                payload_enc=payload,
            )
            if await insert_once(s, row):
                queued.append(read_delivery(row))
        return queued

    async def recover_announcements(
        self,
        *,
        now: datetime | None = None,
        settle: timedelta = timedelta(seconds=30),
        window: timedelta = timedelta(days=1),
        limit: int = 200,
    ) -> int:
        """ticket.created rows a crash kept the hub from queuing (the ticket commits before
        its announcement): tickets filed in the last `window`, at least `settle` ago, of a
        tenant that has somewhere to send them, that have no ticket.created row at all.
        A chat's ticket is found by one query (its rows carry the chat); a ticket without a
        chat by the ids its rows would have. The ids make a late hub and a second pass queue
        nothing. Returns how many rows were queued."""
        now = now or self.store.clock.now()
        queued = 0
        async with self.store.session() as s, s.begin():
            recent = (
                TicketRow.tenant_id.in_(await _tenants_told(s)),
                TicketRow.created_at >= now - window,
                TicketRow.created_at <= now - settle,
            )
            announced = (
                select(DeliveryRow.id)
                .where(
                    DeliveryRow.chat_id == TicketRow.chat_id,
                    DeliveryRow.event == TICKET_CREATED,
                    DeliveryRow.created_at >= TicketRow.created_at,
                )
                .exists()
            )
            rows = list(
                await s.scalars(
                    select(TicketRow)
                    .where(*recent, TicketRow.chat_id.is_not(None), ~announced)
                    .order_by(TicketRow.created_at)
                    .limit(limit)
                )
            )
            chatless = (
                await s.execute(
                    select(TicketRow.id, TicketRow.tenant_id).where(
                        *recent, TicketRow.chat_id.is_(None)
                    )
                )
            ).all()
            targets = await _targets(s, {r.tenant_id for r in rows} | {t for _, t in chatless})
            expected = {
                ticket_id: {_delivery_id(ticket_id, t) for t in targets.get(tenant_id, [])}
                for ticket_id, tenant_id in chatless
            }
            seen = await _existing(s, set().union(*expected.values()))
            missing = [t for t, ids in expected.items() if ids and not ids & seen][:limit]
            if missing:
                rows += await s.scalars(select(TicketRow).where(TicketRow.id.in_(missing)))
            for row in rows:
                ticket = read_ticket(row, self.store.cipher)
                found = targets.get(row.tenant_id, [])
                queued += len(await self._queue(s, row.tenant_id, ticket, found))
        return queued


def _delivery_id(ticket_id: str, target: tuple[str, str | None]) -> str:
    return str(uuid.uuid5(TICKET_IDS, f"{ticket_id}/{target}"))


async def _tenants_told(s: Any) -> set[str]:
    """Tenants with a notification e-mail or a webhook taking ticket.created."""
    notified = await s.scalars(
        select(IntegrationRow.tenant_id).where(IntegrationRow.kind == NOTICE_KIND)
    )
    hooked = await s.scalars(select(WebhookRow))
    return set(notified) | {h.tenant_id for h in hooked if TICKET_CREATED in h.events}


async def _targets(s: Any, tenant_ids: set[str]) -> dict[str, list[tuple[str, str | None]]]:
    tenants = await s.scalars(select(TenantRow).where(TenantRow.id.in_(tenant_ids)))
    return {t.id: await destinations(s, read_tenant(t), TICKET_CREATED) for t in tenants}


async def _existing(s: Any, ids: set[str]) -> set[str]:
    """Which of these delivery ids exist, asked in chunks a database takes."""
    ordered = sorted(ids)
    found: set[str] = set()
    for at in range(0, len(ordered), ID_CHUNK):
        part = ordered[at : at + ID_CHUNK]
        found.update(await s.scalars(select(DeliveryRow.id).where(DeliveryRow.id.in_(part))))
    return found
