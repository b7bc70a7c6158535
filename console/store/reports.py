"""What the reports read (`store.reports`): chats' timings, invitations and what became of
them, and the agents' presence history that the hub records. Plain rows; the arithmetic is
in console/contract/sla.py and console/reports/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, insert, or_, select

from console.store.base import StorePart
from console.store.models import (
    ChatRow,
    DeliveryRow,
    InvitationRow,
    InvitationRuleRow,
    LeadRow,
    PresenceEventRow,
)

# A chat measured in a month is looked for among those started up to this long before it:
# a bot conversation handed to a person days after it began would be missed (none are).
HANDOFF_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class ChatFacts:
    id: str
    status: str
    language: str
    agent_id: str | None
    created_at: datetime
    queued_at: datetime | None
    assigned_at: datetime | None
    first_agent_reply_at: datetime | None
    closed_at: datetime | None
    abandoned_at: datetime | None
    close_reason: str | None
    csat_score: int | None
    rule_id: str | None
    lead_id: str | None

    @property
    def entered_at(self) -> datetime | None:
        """When it entered the human queue; a chat given straight to an agent (a personal
        invitation) entered at its start. None: it never reached a person."""
        if self.queued_at is not None:
            return self.queued_at
        return self.created_at if self.assigned_at is not None else None


@dataclass(frozen=True)
class InvitationFacts:
    rule_id: str | None  # None: an agent's personal invitation
    shown_at: datetime
    status: str
    chat_id: str | None
    lead_id: str | None
    delivered: bool


@dataclass(frozen=True)
class PresenceEvent:
    agent_id: str
    status: str
    at: datetime


_CHAT_COLUMNS = (
    ChatRow.id,
    ChatRow.status,
    ChatRow.language,
    ChatRow.agent_id,
    ChatRow.created_at,
    ChatRow.queued_at,
    ChatRow.assigned_at,
    ChatRow.first_agent_reply_at,
    ChatRow.closed_at,
    ChatRow.abandoned_at,
    ChatRow.close_reason,
    ChatRow.csat_score,
    InvitationRow.rule_id,
    LeadRow.id.label("lead_id"),
)


class ReportsRepository(StorePart):
    async def chats(
        self, tenant_id: str, start: datetime, end: datetime, *, by_entry: bool = False
    ) -> list[ChatFacts]:
        """The tenant's chats started in [start, end); `by_entry`: those that entered the
        human queue in it instead (the SLA's month)."""
        since = start - HANDOFF_LOOKBACK if by_entry else start
        query = (
            select(*_CHAT_COLUMNS)
            .outerjoin(InvitationRow, InvitationRow.id == ChatRow.invitation_id)
            .outerjoin(LeadRow, LeadRow.chat_id == ChatRow.id)
            .where(
                ChatRow.tenant_id == tenant_id,
                ChatRow.created_at >= since,
                ChatRow.created_at < end,
            )
            .order_by(ChatRow.created_at, ChatRow.id)
        )
        facts = [ChatFacts(*tuple(row)) for row in await self.store.read_rows(query)]
        if by_entry:
            return [f for f in facts if f.entered_at is not None and start <= f.entered_at < end]
        return facts

    async def invitations(
        self, tenant_id: str, start: datetime, end: datetime
    ) -> list[InvitationFacts]:
        # the delivered leads in one read: a correlated EXISTS per invitation lets SQLite
        # pick the deliveries' status index and scan it each time
        sent = {
            lead_id
            for (lead_id,) in map(
                tuple,
                await self.store.read_rows(
                    select(DeliveryRow.lead_id)
                    .where(DeliveryRow.tenant_id == tenant_id, DeliveryRow.status == "delivered")
                    .distinct()
                ),
            )
        }
        query = (
            select(
                InvitationRow.rule_id,
                InvitationRow.shown_at,
                InvitationRow.status,
                InvitationRow.chat_id,
                LeadRow.id,
            )
            # by the chat alone (a lead's chat is unique, and the invitation's chat is the
            # tenant's): with the tenant in the join too, SQLite walks the tenant's leads for
            # each invitation (10 s on a month of 20,000 chats; bench/reports.py)
            .outerjoin(LeadRow, LeadRow.chat_id == InvitationRow.chat_id)
            .where(
                InvitationRow.tenant_id == tenant_id,
                InvitationRow.shown_at >= start,
                InvitationRow.shown_at < end,
            )
        )
        return [
            InvitationFacts(rule, shown, status, chat, lead, lead is not None and lead in sent)
            for rule, shown, status, chat, lead in map(tuple, await self.store.read_rows(query))
        ]

    async def rule_names(self, tenant_id: str) -> dict[str, str]:
        rows = await self.store.read_rows(
            select(InvitationRuleRow.id, InvitationRuleRow.name).where(
                InvitationRuleRow.tenant_id == tenant_id
            )
        )
        return {str(rule_id): str(name) for rule_id, name in map(tuple, rows)}

    # -- presence history ----------------------------------------------------------------

    async def record_presence(self, tenant_id: str, agent_id: str, status: str) -> None:
        async with self.store.engine.begin() as conn:
            await conn.execute(
                insert(PresenceEventRow),
                {
                    "tenant_id": tenant_id,
                    "agent_id": agent_id,
                    "status": status,
                    "at": self.store.clock.now(),
                },
            )

    async def presence(self, tenant_id: str, start: datetime, end: datetime) -> list[PresenceEvent]:
        """Status changes in [start, end), after each agent's last one before `start` (the
        status they began the range with), in order."""
        last_before = (
            select(PresenceEventRow.agent_id, func.max(PresenceEventRow.id).label("id"))
            .where(PresenceEventRow.tenant_id == tenant_id, PresenceEventRow.at < start)
            .group_by(PresenceEventRow.agent_id)
            .subquery()
        )
        query = (
            select(PresenceEventRow.agent_id, PresenceEventRow.status, PresenceEventRow.at)
            .where(
                PresenceEventRow.tenant_id == tenant_id,
                or_(
                    and_(PresenceEventRow.at >= start, PresenceEventRow.at < end),
                    PresenceEventRow.id.in_(select(last_before.c.id)),
                ),
            )
            .order_by(PresenceEventRow.at, PresenceEventRow.id)
        )
        return [PresenceEvent(*tuple(row)) for row in await self.store.read_rows(query)]
