"""Leads and their outbox rows, written together so that a saved lead is never undelivered.

The lead's name, e-mail and phone become the visitor's contact details in the same
transaction.

One lead per chat: saving again updates it. Each save of a qualified lead queues one
delivery per destination the tenant's plan and settings allow, unless one is still pending
for that lead and destination (the pending one will carry the newest data: connectors read
the lead when they deliver).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Executable, Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.contract.plans import delivers_to
from console.domain.clock import Clock
from console.domain.leads import Delivery, Lead, LeadIn, lead_data
from console.domain.types import Chat, Tenant
from console.security.crypto import DataCipher
from console.store.models import (
    LEADS,
    DeliveryRow,
    IntegrationRow,
    LeadRow,
    VisitorRow,
    WebhookRow,
    new_id,
)

LEAD_EVENT = "lead.qualified"


async def destinations(s: AsyncSession, tenant: Tenant, event: str) -> list[tuple[str, str | None]]:
    """Where an event of this tenant goes: (destination, webhook id), by plan and settings."""
    found: list[tuple[str, str | None]] = []
    if event == LEAD_EVENT:
        kinds = await s.scalars(
            select(IntegrationRow.kind)
            .where(IntegrationRow.tenant_id == tenant.id)
            .order_by(IntegrationRow.kind.desc())  # salesforce, then adf
        )
        found.extend((kind, None) for kind in kinds)
    if delivers_to(tenant.plan, "webhook"):
        hooks = await s.scalars(
            select(WebhookRow).where(WebhookRow.tenant_id == tenant.id).order_by(WebhookRow.id)
        )
        found.extend(("webhook", hook.id) for hook in hooks if event in hook.events)
    return [(d, target) for d, target in found if delivers_to(tenant.plan, d)]


class LeadRepository:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: DataCipher,
        read_row: Callable[[Executable], Awaitable[Row[Any] | None]],
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self.cipher = cipher
        self.clock = clock
        self._read_row = read_row  # Store._row: a Core read, outside a transaction

    def _lead(self, row: LeadRow | Row[Any], deliveries: Sequence[Delivery] = ()) -> Lead:
        data: dict[str, Any] = json.loads(self.cipher.decrypt(row.data_enc))
        return Lead(
            id=row.id,
            tenant_id=row.tenant_id,
            chat_id=row.chat_id,
            visitor_id=row.visitor_id,
            language=row.language,
            interest=row.interest,
            qualified=row.qualified,
            source=row.source,
            agent_id=row.agent_id,
            data=data,
            created_at=row.created_at,
            updated_at=row.updated_at,
            deliveries=tuple(deliveries),
        )

    @staticmethod
    def delivery(row: DeliveryRow) -> Delivery:
        return Delivery(
            id=row.id,
            lead_id=row.lead_id,
            destination=row.destination,
            event=row.event,
            status=row.status,
            attempts=row.attempts,
            target_id=row.target_id,
            external_id=row.external_id,
            last_error=row.last_error,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )

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
        try:
            return await self._save(tenant, chat, lead, source=source, agent_id=agent_id)
        except IntegrityError:
            # two first saves of one chat's lead raced; the loser updates the winner's row
            return await self._save(tenant, chat, lead, source=source, agent_id=agent_id)

    async def _save(
        self,
        tenant: Tenant,
        chat: Chat,
        lead: LeadIn,
        *,
        source: str,
        agent_id: str | None,
    ) -> tuple[Lead, list[Delivery]]:
        now = self.clock.now()
        data_enc = self.cipher.encrypt(json.dumps(lead_data(lead), sort_keys=True))
        language = (lead.language or chat.language).lower()
        async with self._sessions() as s, s.begin():
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
            row.language = language
            row.interest = lead.interest
            row.qualified = lead.qualified
            row.source = source
            row.agent_id = agent_id
            row.data_enc = data_enc
            row.updated_at = now
            # who the lead says the person is, the visitor's contact details say too
            contact = {
                f"{key}_enc": self.cipher.encrypt(value)
                for key, value in (
                    ("name", " ".join(n for n in (lead.first_name, lead.last_name) if n)),
                    ("email", lead.email),
                    ("phone", lead.phone),
                )
                if value
            }
            if contact:
                await s.execute(
                    update(VisitorRow).where(VisitorRow.id == chat.visitor_id).values(contact)
                )
            await s.flush()
            queued: list[DeliveryRow] = []
            if lead.qualified:
                pending = {
                    (d.destination, d.target_id)
                    for d in await s.scalars(
                        select(DeliveryRow).where(
                            DeliveryRow.lead_id == row.id, DeliveryRow.status == "pending"
                        )
                    )
                }
                for destination, target_id in await destinations(s, tenant, LEAD_EVENT):
                    if (destination, target_id) in pending:
                        continue
                    delivery = DeliveryRow(
                        id=new_id(),
                        tenant_id=tenant.id,
                        lead_id=row.id,
                        chat_id=chat.id,
                        event=LEAD_EVENT,
                        destination=destination,
                        target_id=target_id,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    s.add(delivery)
                    queued.append(delivery)
            await s.flush()
            every = await self._deliveries(s, [row.id])
        return self._lead(row, every.get(row.id, ())), [self.delivery(d) for d in queued]

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
            found.setdefault(row.lead_id, []).append(self.delivery(row))
        return found

    async def get(self, tenant_id: str, lead_id: str) -> Lead | None:
        """A lead of the tenant, with its deliveries."""
        async with self._sessions() as s:
            row = await s.scalar(
                select(LeadRow).where(LeadRow.id == lead_id, LeadRow.tenant_id == tenant_id)
            )
            if row is None:
                return None
            found = await self._deliveries(s, [row.id])
        return self._lead(row, found.get(row.id, ()))

    async def for_chat(self, tenant_id: str, chat_id: str) -> Lead | None:
        """The chat's lead without its deliveries (what an agent taking the chat sees).

        On every assignment: a Core read with no transaction, not an ORM session's three
        round trips."""
        row = await self._read_row(
            select(LEADS).where(LEADS.c.chat_id == chat_id, LEADS.c.tenant_id == tenant_id)
        )
        return self._lead(row) if row else None

    async def list(
        self,
        tenant_id: str,
        *,
        limit: int = 200,
        delivery_status: str | None = None,
    ) -> list[Lead]:
        """The tenant's newest leads; `delivery_status="failed"` keeps those with a failure."""
        query = select(LeadRow).where(LeadRow.tenant_id == tenant_id)
        if delivery_status is not None:
            query = query.where(
                LeadRow.id.in_(
                    select(DeliveryRow.lead_id).where(
                        DeliveryRow.tenant_id == tenant_id, DeliveryRow.status == delivery_status
                    )
                )
            )
        query = query.order_by(LeadRow.created_at.desc(), LeadRow.id).limit(limit)
        async with self._sessions() as s:
            rows = list(await s.scalars(query))
            deliveries = await self._deliveries(s, [row.id for row in rows])
        return [self._lead(row, deliveries.get(row.id, ())) for row in rows]
