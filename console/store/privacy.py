"""A tenant's data protection choices (retention, required factors, the widget's notice),
legal holds, and one visitor's data: found by id, e-mail or phone, exported, erased.

Erasure and the retention purge (console/store/retention.py) blank what names or quotes a
person and keep what the agreement is measured on: chat timings, statuses, CSAT scores,
lead interest and delivery outcomes. Closed reports and invoices still reproduce.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from console.domain.types import Tenant, iso
from console.store.attachments import retire
from console.store.base import StorePart, changed
from console.store.history_models import ContactKeyRow
from console.store.leads import destinations, pending_delivery
from console.store.models import (
    ChatRow,
    DeliveryRow,
    LeadRow,
    MessageRow,
    PageViewRow,
    TicketRow,
    VisitorRow,
)
from console.store.protection_models import LegalHoldRow, TenantPolicyRow
from console.store.records import read_message, read_page, read_ticket, read_visitor
from console.store.ticket_models import TicketNoteRow
from console.store.transcripts import TRANSCRIPT_EMAIL
from console.store.visitor_lookup import find_by_contact

ERASED = "[erased]"
VISITOR_ERASED = "visitor.erased"
DEFAULT_TRANSCRIPTS_DAYS = 730
DEFAULT_VISITOR_DATA_DAYS = 730
DEFAULT_PAGE_VIEWS_DAYS = 90


@dataclass(frozen=True)
class Policy:
    transcripts_days: int = DEFAULT_TRANSCRIPTS_DAYS
    visitor_data_days: int = DEFAULT_VISITOR_DATA_DAYS
    page_views_days: int = DEFAULT_PAGE_VIEWS_DAYS
    mfa_roles: tuple[str, ...] = ()
    privacy_notice: dict[str, str] = field(default_factory=dict)

    def retention_wire(self) -> dict[str, int]:
        return {
            "transcripts_days": self.transcripts_days,
            "visitor_data_days": self.visitor_data_days,
            "page_views_days": self.page_views_days,
        }


@dataclass(frozen=True)
class Erasure:
    """What an erasure blanked, and the CRM records the dealer must delete there too."""

    counts: dict[str, int]
    crm_ids: list[dict[str, str]]
    visitor_ids: list[str]

    def to_wire(self) -> dict[str, Any]:
        return {"erased": self.counts, "crm_ids": self.crm_ids}


def _policy(row: TenantPolicyRow | None) -> Policy:
    if row is None:
        return Policy()
    return Policy(
        transcripts_days=row.transcripts_days,
        visitor_data_days=row.visitor_data_days,
        page_views_days=row.page_views_days,
        mfa_roles=tuple(row.mfa_roles or ()),
        privacy_notice=dict(row.privacy_notice or {}),
    )


class PrivacyRepository(StorePart):
    # -- policy --------------------------------------------------------------------------

    async def policy(self, tenant_id: str) -> Policy:
        async with self.store.reading() as s:
            return _policy(await s.get(TenantPolicyRow, tenant_id))

    async def policies(self) -> dict[str, Policy]:
        async with self.store.reading() as s:
            return {r.tenant_id: _policy(r) for r in await s.scalars(select(TenantPolicyRow))}

    async def set_policy(self, tenant_id: str, **changes: Any) -> Policy:
        """Change some of the tenant's choices (the others keep their value or default)."""
        async with self.store.session() as s, s.begin():
            row = await s.get(TenantPolicyRow, tenant_id)
            if row is None:
                base = Policy()
                row = TenantPolicyRow(
                    tenant_id=tenant_id,
                    transcripts_days=base.transcripts_days,
                    visitor_data_days=base.visitor_data_days,
                    page_views_days=base.page_views_days,
                    mfa_roles=[],
                    privacy_notice={},
                )
                s.add(row)
            for key, value in changes.items():
                setattr(row, key, list(value) if isinstance(value, tuple) else value)
            row.updated_at = self.store.clock.now()
        return _policy(row)

    # -- legal holds ---------------------------------------------------------------------

    async def hold(self, tenant_id: str, chat_id: str, reason: str, by: str) -> bool:
        """Keep the chat from the purge; False when it is not the tenant's chat."""
        async with self.store.session() as s, s.begin():
            chat = await s.get(ChatRow, chat_id)
            if chat is None or chat.tenant_id != tenant_id:
                return False
            row = await s.get(LegalHoldRow, chat_id)
            if row is None:
                s.add(
                    LegalHoldRow(
                        chat_id=chat_id,
                        tenant_id=tenant_id,
                        reason=reason,
                        placed_by=by,
                        placed_at=self.store.clock.now(),
                    )
                )
            else:
                row.reason = reason
        return True

    async def release(self, tenant_id: str, chat_id: str) -> bool:
        return await self.delete_owned(LegalHoldRow, tenant_id, LegalHoldRow.chat_id == chat_id)

    async def holds(self, tenant_id: str) -> list[dict[str, Any]]:
        async with self.store.reading() as s:
            rows = await s.scalars(
                select(LegalHoldRow)
                .where(LegalHoldRow.tenant_id == tenant_id)
                .order_by(LegalHoldRow.placed_at)
            )
            return [
                {
                    "chat_id": r.chat_id,
                    "reason": r.reason,
                    "placed_by": r.placed_by,
                    "placed_at": iso(r.placed_at),
                }
                for r in rows
            ]

    # -- one visitor's data --------------------------------------------------------------

    async def find_visitors(
        self,
        tenant_id: str,
        *,
        visitor_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        region: str = "US",
    ) -> list[str]:
        """The tenant's visitors with this id, e-mail or phone (on the visitor or a lead):
        by e-mail or phone through History's keyed hashes (console/store/visitor_lookup.py)."""
        if visitor_id is not None:
            async with self.store.reading() as s:
                row = await s.get(VisitorRow, visitor_id)
                return [row.id] if row is not None and row.tenant_id == tenant_id else []
        return await find_by_contact(self.store, tenant_id, email=email, phone=phone, region=region)

    async def export(self, tenant_id: str, visitor_id: str) -> dict[str, Any] | None:
        """Everything Charla holds about the visitor, as the protocol shows it."""
        cipher = self.store.cipher
        async with self.store.reading() as s:
            row = await s.get(VisitorRow, visitor_id)
            if row is None or row.tenant_id != tenant_id:
                return None
            pages = await s.scalars(
                select(PageViewRow)
                .where(PageViewRow.visitor_id == visitor_id)
                .order_by(PageViewRow.id)
            )
            visitor = read_visitor(row, cipher)
            chats = list(
                await s.scalars(
                    select(ChatRow)
                    .where(ChatRow.visitor_id == visitor_id)
                    .order_by(ChatRow.created_at)
                )
            )
            chat_ids = [c.id for c in chats]
            messages = list(
                await s.scalars(
                    select(MessageRow)
                    .where(MessageRow.chat_id.in_(chat_ids), MessageRow.whisper.is_(False))
                    .order_by(MessageRow.id)
                )
            )
            leads = list(await s.scalars(select(LeadRow).where(_leads_of(visitor_id, chat_ids))))
            tickets = list(
                await s.scalars(select(TicketRow).where(_tickets_of(visitor_id, chat_ids)))
            )
        by_chat: dict[str, list[dict[str, Any]]] = {cid: [] for cid in chat_ids}
        for m in messages:
            by_chat[m.chat_id].append(read_message(m, cipher).to_wire())
        return {
            "visitor": {
                "id": visitor.id,
                "name": visitor.name,
                "email": visitor.email,
                "phone": visitor.phone,
                "visits": visitor.visits,
                "first_seen_at": iso(visitor.first_seen_at),
                "last_seen_at": iso(row.last_seen_at),
            },
            "page_views": [read_page(p).to_wire() for p in pages],
            "chats": [
                {
                    "id": c.id,
                    "status": c.status,
                    "language": c.language,
                    "created_at": iso(c.created_at),
                    "closed_at": iso(c.closed_at),
                    "csat": c.csat_score,
                    "csat_comment": cipher.decrypt_optional(c.csat_comment_enc),
                    "messages": by_chat[c.id],
                }
                for c in chats
            ],
            "leads": [
                {
                    "id": lead.id,
                    "chat_id": lead.chat_id,
                    "interest": lead.interest,
                    "created_at": iso(lead.created_at),
                    **json.loads(cipher.decrypt(lead.data_enc)),
                }
                for lead in leads
            ],
            "tickets": [
                {
                    k: v
                    for k, v in read_ticket(t, cipher).to_wire().items()
                    if k in ("id", "chat_id", "text", "name", "email", "phone", "created_at")
                }
                for t in tickets
            ],
        }

    async def erase(self, tenant: Tenant, visitor_ids: Sequence[str]) -> Erasure:
        """Blank the visitors' text and contact details at once, in one transaction, and
        queue the `visitor.erased` event for the tenant's webhooks that take it."""
        tenant_id = tenant.id
        cipher = self.store.cipher
        now = self.store.clock.now()
        async with self.store.session() as s, s.begin():
            chat_ids = list(
                await s.scalars(
                    select(ChatRow.id).where(
                        ChatRow.tenant_id == tenant_id, ChatRow.visitor_id.in_(visitor_ids)
                    )
                )
            )
            lead_ids = list(
                await s.scalars(
                    select(LeadRow.id).where(
                        LeadRow.tenant_id == tenant_id, _leads_of(visitor_ids, chat_ids)
                    )
                )
            )
            crm = await s.execute(
                select(DeliveryRow.lead_id, DeliveryRow.destination, DeliveryRow.external_id)
                .where(DeliveryRow.lead_id.in_(lead_ids), DeliveryRow.external_id.is_not(None))
                .order_by(DeliveryRow.created_at)
            )
            crm_ids = [
                {"lead_id": str(lead), "destination": dest, "external_id": str(ext)}
                for lead, dest, ext in crm
            ]
            counts = await blank(s, cipher.encrypt(ERASED), chat_ids, now)
            counts["leads"] = len(lead_ids)
            await s.execute(
                update(LeadRow)
                .where(LeadRow.id.in_(lead_ids))
                .values(data_enc=cipher.encrypt("{}"), updated_at=now)
            )
            # a delivery not yet made must not carry what is gone
            await s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.lead_id.in_(lead_ids), DeliveryRow.status == "pending")
                .values(status="failed", last_error="the visitor's data was erased")
            )
            counts["visitors"] = await changed(
                s,
                update(VisitorRow)
                .where(VisitorRow.tenant_id == tenant_id, VisitorRow.id.in_(visitor_ids))
                .values(name_enc=None, email_enc=None, phone_enc=None),
            )
            # their keyed hashes go too: History no longer finds them by phone or e-mail
            await s.execute(
                delete(ContactKeyRow).where(
                    ContactKeyRow.tenant_id == tenant_id, ContactKeyRow.visitor_id.in_(visitor_ids)
                )
            )
            await s.execute(delete(PageViewRow).where(PageViewRow.visitor_id.in_(visitor_ids)))
            tickets = (TicketRow.tenant_id == tenant_id) & _tickets_of(visitor_ids, chat_ids)
            await blank_notes(s, cipher.encrypt(ERASED), tickets)
            await s.execute(
                update(TicketRow)
                .where(tickets)
                .values(
                    text_enc=cipher.encrypt(ERASED), name_enc=None, email_enc=None, phone_enc=None
                )
            )
            erasure = Erasure(
                counts={k: counts[k] for k in ("visitors", "chats", "messages", "leads")},
                crm_ids=crm_ids,
                visitor_ids=list(visitor_ids),
            )
            if visitor_ids:
                body = {"visitor_ids": erasure.visitor_ids, **erasure.to_wire()}
                for target in await destinations(s, tenant, VISITOR_ERASED):
                    s.add(
                        pending_delivery(
                            tenant_id,
                            VISITOR_ERASED,
                            target,
                            now,
                            payload_enc=cipher.encrypt(json.dumps(body)),
                        )
                    )
        return erasure


def _leads_of(visitor_ids: str | Sequence[str], chat_ids: Sequence[str]) -> Any:
    ids = [visitor_ids] if isinstance(visitor_ids, str) else list(visitor_ids)
    return LeadRow.visitor_id.in_(ids) | LeadRow.chat_id.in_(chat_ids)


def _tickets_of(visitor_ids: str | Sequence[str], chat_ids: Sequence[str]) -> Any:
    ids = [visitor_ids] if isinstance(visitor_ids, str) else list(visitor_ids)
    return TicketRow.visitor_id.in_(ids) | TicketRow.chat_id.in_(chat_ids)


async def blank(
    s: AsyncSession, text_enc: str, chat_ids: Sequence[str], now: datetime
) -> dict[str, int]:
    """Blank these chats' text (messages, CSAT comments, delivered event bodies) and mark
    them purged, cancelling a transcript e-mail not yet sent; timings, statuses and scores
    stay. Returns counts per table."""
    if not chat_ids:
        return {"chats": 0, "messages": 0}
    messages = await changed(
        s,
        update(MessageRow)
        .where(MessageRow.chat_id.in_(chat_ids))
        .values(text_enc=text_enc, attachment_enc=None),
    )
    await retire(s, chat_ids)  # their files: deleted by the file storage's sweep
    chats = await changed(
        s,
        update(ChatRow)
        .where(ChatRow.id.in_(chat_ids))
        .values(csat_comment_enc=None, purged_at=now),
    )
    await s.execute(
        update(DeliveryRow)
        .where(DeliveryRow.chat_id.in_(chat_ids), DeliveryRow.status != "pending")
        .values(payload_enc=None)
    )
    # a transcript e-mail not yet sent would carry the blanked text: it is not sent at all
    await s.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.chat_id.in_(chat_ids),
            DeliveryRow.event == TRANSCRIPT_EMAIL,
            DeliveryRow.status == "pending",
        )
        .values(
            status="failed",
            payload_enc=None,
            locked_until=None,
            last_error="cancelled: the chat's text was erased before the transcript was sent",
        )
    )
    return {"chats": chats, "messages": messages}


async def blank_notes(s: AsyncSession, text_enc: str, tickets: Any) -> int:
    """Blank the notes agents wrote on the tickets that `tickets` (a condition on TicketRow)
    selects: a note quotes or names the visitor as the ticket's text does. Their authors
    and times stay. Returns how many notes."""
    return await changed(
        s,
        update(TicketNoteRow)
        .where(TicketNoteRow.ticket_id.in_(select(TicketRow.id).where(tickets)))
        .values(text_enc=text_enc),
    )
