"""What the "On site now" list and the supervisor's counts take from SQL about the visitors
on the site: the chat of this visit, the invitation of this visit, and whether a lead
exists. One read of three short queries per tenant and second, whatever the number of
agents watching (console/engagement/presence.py)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from console.store.models import ChatRow, InvitationRow, LeadRow
from console.store.repository import Store


@dataclass(frozen=True)
class OnSiteFacts:
    """By visitor id: their latest chat `{"id", "status"}` and invitation `{"id", "state",
    "by"}` since the visit began, and the visitors who have a lead."""

    chats: dict[str, dict[str, str]] = field(default_factory=dict)
    invitations: dict[str, dict[str, str]] = field(default_factory=dict)
    leads: frozenset[str] = frozenset()


# visitors per read: a bound parameter each, well under any database's limit
CHUNK = 1000


async def onsite_facts(store: Store, tenant_id: str, visits: dict[str, datetime]) -> OnSiteFacts:
    """`visits`: visitor id -> when their visit began (only what happened since counts)."""
    chats: dict[str, dict[str, str]] = {}
    invitations: dict[str, dict[str, str]] = {}
    leads: set[str] = set()
    ids = list(visits)
    for at in range(0, len(ids), CHUNK):
        part = {visitor_id: visits[visitor_id] for visitor_id in ids[at : at + CHUNK]}
        found = await _facts(store, tenant_id, part)
        chats.update(found.chats)
        invitations.update(found.invitations)
        leads |= found.leads
    return OnSiteFacts(chats=chats, invitations=invitations, leads=frozenset(leads))


async def _facts(store: Store, tenant_id: str, visits: dict[str, datetime]) -> OnSiteFacts:
    ids: Collection[str] = list(visits)
    since = min(visits.values())
    chats: dict[str, dict[str, str]] = {}
    invitations: dict[str, dict[str, str]] = {}
    async with store.reading() as s:
        chat_rows = await s.execute(
            select(ChatRow.visitor_id, ChatRow.id, ChatRow.status, ChatRow.created_at)
            .where(
                ChatRow.tenant_id == tenant_id,
                ChatRow.visitor_id.in_(ids),
                ChatRow.created_at >= since,
            )
            .order_by(ChatRow.created_at)
        )
        for visitor_id, chat_id, status, created_at in chat_rows.all():
            if _since(created_at, visits[visitor_id]):
                chats[visitor_id] = {"id": chat_id, "status": status}
        invitation_rows = await s.execute(
            select(
                InvitationRow.visitor_id,
                InvitationRow.id,
                InvitationRow.status,
                InvitationRow.agent_id,
                InvitationRow.shown_at,
            )
            .where(
                InvitationRow.tenant_id == tenant_id,
                InvitationRow.visitor_id.in_(ids),
                InvitationRow.shown_at >= since,
            )
            .order_by(InvitationRow.shown_at)
        )
        for visitor_id, invitation_id, status, agent_id, shown_at in invitation_rows.all():
            if status in ("shown", "accepted", "declined") and _since(shown_at, visits[visitor_id]):
                invitations[visitor_id] = {
                    "id": invitation_id,
                    "state": status,
                    "by": "agent" if agent_id else "rule",
                }
        leads: Any = await s.scalars(
            select(LeadRow.visitor_id)
            .where(LeadRow.tenant_id == tenant_id, LeadRow.visitor_id.in_(ids))
            .distinct()
        )
        with_lead = frozenset(str(v) for v in leads if v)
    return OnSiteFacts(chats=chats, invitations=invitations, leads=with_lead)


def _since(at: datetime, began: datetime) -> bool:
    """`at` is in the visit that began at `began` (naive times, as SQLite gives, are UTC)."""
    if at.tzinfo is None and began.tzinfo is not None:
        at = at.replace(tzinfo=began.tzinfo)
    elif began.tzinfo is None and at.tzinfo is not None:
        began = began.replace(tzinfo=at.tzinfo)
    return at >= began
