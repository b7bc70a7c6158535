"""Leads and their outbox rows, written together so that a saved lead is never undelivered.

The lead's name, e-mail and phone become the visitor's contact details in the same
transaction.

One lead per chat: saving again updates it. Each save that changes a qualified lead queues
one delivery per destination the tenant's plan and settings allow, unless one is still
pending for that lead and destination (the pending one will carry the newest data:
connectors read the lead when they deliver). A destination's first delivery of the lead is
`lead.qualified`; later ones are `lead.updated`, which change the record the first made.
A save that changes nothing queues nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from console.contract.plans import delivers_to
from console.domain.leads import Delivery, Lead, LeadIn, lead_data
from console.domain.types import Chat, Tenant
from console.store.base import StorePart, assign, contact_values, owned, tenant_rows
from console.store.history import HistoryRepository
from console.store.hot import Hot, one_of, param
from console.store.models import (
    LEADS,
    DeliveryRow,
    IntegrationRow,
    LeadRow,
    RowReader,
    VisitorRow,
    WebhookRow,
    new_id,
)

LEAD_EVENT = "lead.qualified"
LEAD_UPDATED = "lead.updated"
TICKET_CREATED = "ticket.created"
# the integrations (one row each) that take leads, and the one that takes ticket notices
LEAD_KINDS = ("salesforce", "adf")
NOTICE_KIND = "notify"


async def destinations(s: AsyncSession, tenant: Tenant, event: str) -> list[tuple[str, str | None]]:
    """Where an event of this tenant goes: (destination, webhook id), by plan and settings."""
    found: list[tuple[str, str | None]] = []
    kinds = {
        LEAD_EVENT: LEAD_KINDS,
        LEAD_UPDATED: LEAD_KINDS,
        TICKET_CREATED: (NOTICE_KIND,),
    }.get(event, ())
    if kinds:
        configured = await s.scalars(
            select(IntegrationRow.kind)
            .where(IntegrationRow.tenant_id == tenant.id, IntegrationRow.kind.in_(kinds))
            .order_by(IntegrationRow.kind.desc())  # salesforce, then notify, then adf
        )
        found.extend((kind, None) for kind in configured)
    if delivers_to(tenant.plan, "webhook"):
        hooks = await s.scalars(
            select(WebhookRow).where(WebhookRow.tenant_id == tenant.id).order_by(WebhookRow.id)
        )
        found.extend(("webhook", hook.id) for hook in hooks if event in hook.events)
    return [(d, target) for d, target in found if delivers_to(tenant.plan, d)]


read_delivery = RowReader(Delivery, DeliveryRow)
_read_lead = RowReader(Lead, LeadRow, secret=("data",), data=json.loads)
# on every assignment, and every visitor message with a digit or an @ (hub/bots.py, listen)
LEADS_OF_CHATS = Hot(
    select(LEADS).where(one_of(LEADS.c.chat_id, "ids"), LEADS.c.tenant_id == param("tenant_id"))
)
LEAD_OF_CHAT = Hot(
    select(LEADS).where(
        LEADS.c.chat_id == param("chat_id"), LEADS.c.tenant_id == param("tenant_id")
    )
)


def pending_delivery(
    tenant_id: str,
    event: str,
    target: tuple[str, str | None],
    now: datetime,
    *,
    delivery_id: str | None = None,
    lead_id: str | None = None,
    chat_id: str | None = None,
    payload_enc: str | None = None,
) -> DeliveryRow:
    """An outbox row due now, for `target` (a destination and its webhook's id or None)."""
    destination, target_id = target
    return DeliveryRow(
        id=delivery_id or new_id(),
        tenant_id=tenant_id,
        lead_id=lead_id,
        chat_id=chat_id,
        event=event,
        destination=destination,
        target_id=target_id,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        payload_enc=payload_enc,
        created_at=now,
    )


async def insert_once(s: AsyncSession, row: DeliveryRow) -> bool:
    """Add an outbox row whose id is derived from what it announces, unless a row of that
    id exists (a second pass, or the hub and a recovery sweep racing): whether it was added."""
    try:
        async with s.begin_nested():
            s.add(row)
            await s.flush()
    except IntegrityError:
        return False
    return True


class LeadRepository(StorePart):
    def _lead(self, row: LeadRow | Row[Any], deliveries: Sequence[Delivery] = ()) -> Lead:
        return _read_lead(row, self.store.cipher, deliveries=tuple(deliveries))

    async def save(
        self,
        tenant: Tenant,
        chat: Chat,
        lead: LeadIn,
        *,
        source: str,
        agent_id: str | None,
    ) -> tuple[Lead, list[Delivery]]:
        """Upserts the chat's lead; when qualified, queues its deliveries in one transaction."""
        cipher = self.store.cipher
        values = {
            "language": (lead.language or chat.language).lower(),
            "interest": lead.interest,
            "qualified": lead.qualified,
            "source": source,
            "agent_id": agent_id,
        }
        data = json.dumps(lead_data(lead), sort_keys=True)
        # who the lead says the person is, the visitor's contact details say too
        name = " ".join(n for n in (lead.first_name, lead.last_name) if n)
        contact = contact_values(cipher, name=name, email=lead.email, phone=lead.phone)
        try:
            saved = await self._save(tenant, chat, values, data, contact)
        except IntegrityError:
            # two first saves of one chat's lead raced; the loser updates the winner's row
            saved = await self._save(tenant, chat, values, data, contact)
        await HistoryRepository(self.store).index_contact(
            tenant.id, chat.visitor_id, name=name or None, email=lead.email, phone=lead.phone
        )
        return saved

    async def _save(
        self,
        tenant: Tenant,
        chat: Chat,
        values: dict[str, Any],
        data: str,
        contact: dict[str, str],
    ) -> tuple[Lead, list[Delivery]]:
        now = self.store.clock.now()
        cipher = self.store.cipher
        async with self.store.session() as s, s.begin():
            row = await s.scalar(
                select(LeadRow).where(LeadRow.chat_id == chat.id).with_for_update()
            )
            if row is None:
                row = LeadRow(
                    id=new_id(),
                    tenant_id=tenant.id,
                    chat_id=chat.id,
                    visitor_id=chat.visitor_id,
                    created_at=now,
                )
                s.add(row)
                changed = True
            else:
                before = (row.language, row.interest, row.qualified, cipher.decrypt(row.data_enc))
                changed = before != (
                    values["language"],
                    values["interest"],
                    values["qualified"],
                    data,
                )
            assign(row, {**values, "data_enc": cipher.encrypt(data), "updated_at": now})
            if contact:
                await s.execute(
                    update(VisitorRow).where(VisitorRow.id == chat.visitor_id).values(contact)
                )
            await s.flush()
            queued = []
            if row.qualified and changed:
                queued = await self._queue(s, tenant, chat, row.id, now)
            await s.flush()
            every = await self._deliveries(s, [row.id])
        return self._lead(row, every.get(row.id, ())), [read_delivery(d) for d in queued]

    async def _queue(
        self, s: AsyncSession, tenant: Tenant, chat: Chat, lead_id: str, now: datetime
    ) -> list[DeliveryRow]:
        """The qualified lead's deliveries: one per destination, unless one is pending; a
        destination that had the lead before gets `lead.updated`."""
        earlier = list(await s.scalars(select(DeliveryRow).where(DeliveryRow.lead_id == lead_id)))
        pending = {(d.destination, d.target_id) for d in earlier if d.status == "pending"}
        sent = {(d.destination, d.target_id) for d in earlier}
        first = await destinations(s, tenant, LEAD_EVENT)
        again = await destinations(s, tenant, LEAD_UPDATED)
        queued: list[DeliveryRow] = []
        for target in dict.fromkeys([*first, *again]):
            event = LEAD_UPDATED if target in sent else LEAD_EVENT
            if target in pending or target not in (again if target in sent else first):
                continue
            delivery = pending_delivery(
                tenant.id, event, target, now, lead_id=lead_id, chat_id=chat.id
            )
            s.add(delivery)
            queued.append(delivery)
        return queued

    async def _deliveries(
        self, s: AsyncSession, lead_ids: Sequence[str]
    ) -> dict[str, list[Delivery]]:
        found: dict[str, list[Delivery]] = {}
        if not lead_ids:
            return found
        rows = await s.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.lead_id.in_(lead_ids))
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
        )
        for row in rows:
            assert row.lead_id is not None
            found.setdefault(row.lead_id, []).append(read_delivery(row))
        return found

    async def get(self, tenant_id: str, lead_id: str) -> Lead | None:
        """A lead of the tenant, with its deliveries."""
        async with self.store.session() as s:
            row = await owned(s, LeadRow, tenant_id, lead_id)
            if row is None:
                return None
            found = await self._deliveries(s, [row.id])
        return self._lead(row, found.get(row.id, ()))

    async def for_chat(self, tenant_id: str, chat_id: str) -> Lead | None:
        """The chat's lead without its deliveries (what an agent taking the chat sees).

        On every assignment: a hot statement (store/hot.py), not an ORM session's three
        round trips."""
        row = await self.store.hot.row(LEAD_OF_CHAT, chat_id=chat_id, tenant_id=tenant_id)
        return self._lead(row) if row else None

    async def for_chats(self, tenant_id: str, chat_ids: Sequence[str]) -> dict[str, Lead]:
        """`for_chat` of several chats (a dispatch run's) in one query."""
        rows = await self.store.hot.rows(LEADS_OF_CHATS, ids=list(chat_ids), tenant_id=tenant_id)
        return {row["chat_id"]: self._lead(row) for row in rows}

    async def list(
        self,
        tenant_id: str,
        *,
        limit: int = 200,
        delivery_status: str | None = None,
    ) -> list[Lead]:
        """The tenant's newest leads; `delivery_status="failed"` keeps those with a failure."""
        query = tenant_rows(LeadRow, tenant_id, LeadRow.created_at.desc(), LeadRow.id)
        if delivery_status is not None:
            query = query.where(
                LeadRow.id.in_(
                    select(DeliveryRow.lead_id).where(
                        DeliveryRow.tenant_id == tenant_id, DeliveryRow.status == delivery_status
                    )
                )
            )
        async with self.store.session() as s:
            rows = list(await s.scalars(query.limit(limit)))
            deliveries = await self._deliveries(s, [row.id for row in rows])
        return [self._lead(row, deliveries.get(row.id, ())) for row in rows]
