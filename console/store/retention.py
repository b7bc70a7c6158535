"""The retention purge: past a tenant's periods, text and contact details go; timings,
statuses, CSAT scores, lead interest and delivery outcomes stay, so that closed SLA reports
and invoices still reproduce. Chats under a legal hold are left alone. Each run leaves a
purge record (its cutoffs and counts per table) that the provider can show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update

from console.domain.types import iso
from console.store.base import StorePart, changed
from console.store.chats import OPEN_STATUSES
from console.store.history_models import ContactKeyRow
from console.store.models import (
    ChatRow,
    DeliveryRow,
    LeadRow,
    PageViewRow,
    TicketRow,
    VisitorRow,
    new_id,
)
from console.store.privacy import Policy, blank, blank_notes
from console.store.protection_models import LegalHoldRow, PurgeRunRow

PURGED = "[purged]"
BATCH = 500


@dataclass(frozen=True)
class PurgeRun:
    id: str
    tenant_id: str
    ran_at: datetime
    cutoffs: dict[str, str]
    counts: dict[str, int]

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "ran_at": iso(self.ran_at),
            "cutoffs": self.cutoffs,
            "counts": self.counts,
        }


def _run(row: PurgeRunRow) -> PurgeRun:
    return PurgeRun(row.id, row.tenant_id, row.ran_at, dict(row.cutoffs), dict(row.counts))


class RetentionRepository(StorePart):
    async def purge(self, tenant_id: str, policy: Policy) -> PurgeRun:
        """Purge one tenant now (by the store's clock) and record what went."""
        now = self.store.clock.now()
        transcripts = now - timedelta(days=policy.transcripts_days)
        visitors = now - timedelta(days=policy.visitor_data_days)
        pages = now - timedelta(days=policy.page_views_days)
        counts = {
            "chats": 0,
            "messages": 0,
            "tickets": 0,
            "ticket_notes": 0,
            "leads": 0,
            "visitors": 0,
        }
        while True:  # in batches: short transactions, whatever the backlog
            done = await self._purge_chats(tenant_id, transcripts, now, counts)
            if done < BATCH:
                break
        cipher = self.store.cipher
        held = select(ChatRow.visitor_id).where(
            ChatRow.id.in_(select(LegalHoldRow.chat_id).where(LegalHoldRow.tenant_id == tenant_id))
        )
        # tickets filed without a chat (by an agent), past the transcripts' period
        chatless = (
            (TicketRow.tenant_id == tenant_id)
            & TicketRow.chat_id.is_(None)
            & (TicketRow.created_at < transcripts)
            & (
                TicketRow.name_enc.is_not(None)
                | TicketRow.email_enc.is_not(None)
                | TicketRow.phone_enc.is_not(None)
            )
        )
        async with self.store.session() as s, s.begin():
            counts["ticket_notes"] += await blank_notes(s, cipher.encrypt(PURGED), chatless)
            counts["tickets"] += await changed(
                s,
                update(TicketRow)
                .where(chatless)
                .values(
                    text_enc=cipher.encrypt(PURGED), name_enc=None, email_enc=None, phone_enc=None
                ),
            )
            counts["visitors"] = await changed(
                s,
                update(VisitorRow)
                .where(
                    VisitorRow.tenant_id == tenant_id,
                    VisitorRow.last_seen_at < visitors,
                    VisitorRow.name_enc.is_not(None)
                    | VisitorRow.email_enc.is_not(None)
                    | VisitorRow.phone_enc.is_not(None),
                    VisitorRow.id.not_in(held),
                )
                .values(name_enc=None, email_enc=None, phone_enc=None),
            )
            # History's keyed hashes of details that are gone (purged or erased) go too
            await s.execute(
                delete(ContactKeyRow).where(
                    ContactKeyRow.tenant_id == tenant_id,
                    ContactKeyRow.visitor_id.in_(
                        select(VisitorRow.id).where(
                            VisitorRow.tenant_id == tenant_id,
                            VisitorRow.name_enc.is_(None),
                            VisitorRow.email_enc.is_(None),
                            VisitorRow.phone_enc.is_(None),
                        )
                    ),
                )
            )
            counts["page_views"] = await changed(
                s,
                delete(PageViewRow).where(
                    PageViewRow.visitor_id.in_(
                        select(VisitorRow.id).where(VisitorRow.tenant_id == tenant_id)
                    ),
                    PageViewRow.viewed_at < pages,
                ),
            )
            row = PurgeRunRow(
                id=new_id(),
                tenant_id=tenant_id,
                ran_at=now,
                cutoffs={
                    "transcripts": iso(transcripts) or "",
                    "visitor_data": iso(visitors) or "",
                    "page_views": iso(pages) or "",
                },
                counts=counts,
            )
            s.add(row)
        return _run(row)

    async def _purge_chats(
        self, tenant_id: str, cutoff: datetime, now: datetime, counts: dict[str, int]
    ) -> int:
        ended = func.coalesce(ChatRow.closed_at, ChatRow.abandoned_at, ChatRow.created_at)
        cipher = self.store.cipher
        async with self.store.session() as s, s.begin():
            chat_ids = list(
                await s.scalars(
                    select(ChatRow.id)
                    .where(
                        ChatRow.tenant_id == tenant_id,
                        ChatRow.purged_at.is_(None),
                        ChatRow.status.not_in(OPEN_STATUSES),
                        ended < cutoff,
                        ChatRow.id.not_in(select(LegalHoldRow.chat_id)),
                    )
                    .limit(BATCH)
                )
            )
            if not chat_ids:
                return 0
            found = await blank(s, cipher.encrypt(PURGED), chat_ids, now)
            counts["chats"] += found["chats"]
            counts["messages"] += found["messages"]
            counts["ticket_notes"] += await blank_notes(
                s, cipher.encrypt(PURGED), TicketRow.chat_id.in_(chat_ids)
            )
            counts["tickets"] += await changed(
                s,
                update(TicketRow)
                .where(TicketRow.chat_id.in_(chat_ids))
                .values(
                    text_enc=cipher.encrypt(PURGED), name_enc=None, email_enc=None, phone_enc=None
                ),
            )
            counts["leads"] += await changed(
                s,
                update(LeadRow)
                .where(LeadRow.chat_id.in_(chat_ids))
                .values(data_enc=cipher.encrypt("{}")),
            )
            await s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.chat_id.in_(chat_ids), DeliveryRow.status != "pending")
                .values(payload_enc=None)
            )
        return len(chat_ids)

    async def last_runs(self, tenant_id: str | None = None, limit: int = 50) -> list[PurgeRun]:
        query = select(PurgeRunRow).order_by(PurgeRunRow.ran_at.desc()).limit(limit)
        if tenant_id is not None:
            query = query.where(PurgeRunRow.tenant_id == tenant_id)
        async with self.store.reading() as s:
            return [_run(r) for r in await s.scalars(query)]

    async def last_run_at(self) -> dict[str, datetime]:
        """When each tenant was last purged."""
        async with self.store.reading() as s:
            rows = await s.execute(
                select(PurgeRunRow.tenant_id, func.max(PurgeRunRow.ran_at)).group_by(
                    PurgeRunRow.tenant_id
                )
            )
            return dict(rows.all())
