"""The store's engagement part (`store.engagement`): invitation rules, the invitations they
showed, chats opened from them, CSAT ratings and the tenant's widget settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import delete, func, select, update

from console.domain.types import NEW_VISIT_AFTER, Chat, Message, as_wire
from console.store.base import StorePart, assign, changed, owned, tenant_rows
from console.store.models import (
    ChatRow,
    InvitationRow,
    InvitationRuleRow,
    LeadRow,
    MessageRow,
    RowReader,
    new_id,
)
from console.store.records import read_chat, read_message

ANSWERED = ("accepted", "declined")


@dataclass(frozen=True)
class RuleRecord:
    """An invitation rule as stored (console/engagement/rules.py evaluates it)."""

    id: str
    tenant_id: str
    name: str
    enabled: bool
    text: dict[str, str]
    conditions: dict[str, Any]
    only_when_agents_available: bool
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return as_wire(self)


@dataclass(frozen=True)
class Invitation:
    id: str
    tenant_id: str
    rule_id: str | None  # None for a personal invitation, sent by `agent_id`
    visitor_id: str
    visit: int
    language: str
    status: str
    chat_id: str | None
    shown_at: datetime
    responded_at: datetime | None
    agent_id: str | None = None


read_rule = RowReader(RuleRecord, InvitationRuleRow, text=dict, conditions=dict)
read_invitation = RowReader(Invitation, InvitationRow)


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class RuleFields(TypedDict):
    """An invitation rule as its tenant's admin writes it (validated by the web API)."""

    name: str
    enabled: bool
    text: dict[str, str]
    conditions: dict[str, Any]
    only_when_agents_available: bool


class EngagementRepository(StorePart):
    # -- rules ---------------------------------------------------------------------------

    async def create_rule(self, tenant_id: str, **rule: Unpack[RuleFields]) -> RuleRecord:
        now = self.store.clock.now()
        row = InvitationRuleRow(id=new_id(), tenant_id=tenant_id, created_at=now, **rule)
        await self.store.add(row)
        return read_rule(row)

    async def list_rules(self, tenant_id: str, *, enabled_only: bool = False) -> list[RuleRecord]:
        query = tenant_rows(
            InvitationRuleRow, tenant_id, InvitationRuleRow.created_at, InvitationRuleRow.id
        )
        if enabled_only:
            query = query.where(InvitationRuleRow.enabled.is_(True))
        async with self.store.session() as s:
            return [read_rule(r) for r in await s.scalars(query)]

    async def get_rule(self, tenant_id: str, rule_id: str) -> RuleRecord | None:
        row = await self.get_owned(InvitationRuleRow, tenant_id, rule_id)
        return read_rule(row) if row else None

    async def update_rule(
        self, tenant_id: str, rule_id: str, changes: dict[str, Any]
    ) -> RuleRecord | None:
        row = await self.edit_owned(
            InvitationRuleRow, tenant_id, rule_id, lambda row: assign(row, changes)
        )
        return read_rule(row) if row else None

    async def delete_rule(self, tenant_id: str, rule_id: str) -> bool:
        """Deletes the rule with its invitation records (its statistics); the chats stay."""
        async with self.store.session() as s, s.begin():
            row = await owned(s, InvitationRuleRow, tenant_id, rule_id)
            if row is None:
                return False
            await s.execute(delete(InvitationRow).where(InvitationRow.rule_id == rule_id))
            await s.delete(row)
        return True

    # -- invitations ---------------------------------------------------------------------

    async def visit_state(self, visitor_id: str, visit: int) -> tuple[bool, datetime | None]:
        """(invited during this visit, when this visitor last declined an invitation)."""
        async with self.store.session() as s:
            invited = await s.scalar(
                select(func.count())
                .select_from(InvitationRow)
                .where(InvitationRow.visitor_id == visitor_id, InvitationRow.visit == visit)
            )
            declined = await s.scalar(
                select(func.max(InvitationRow.responded_at)).where(
                    InvitationRow.visitor_id == visitor_id, InvitationRow.status == "declined"
                )
            )
        return bool(invited), declined

    async def record_shown(
        self,
        *,
        tenant_id: str,
        rule_id: str | None,
        visitor_id: str,
        visit: int,
        language: str,
        agent_id: str | None = None,
    ) -> Invitation:
        """The new invitation (a rule's, or with `agent_id` an agent's); any earlier one
        this visitor left unanswered is `ignored`."""
        now = self.store.clock.now()
        row = InvitationRow(
            id=new_id(),
            tenant_id=tenant_id,
            rule_id=rule_id,
            agent_id=agent_id,
            visitor_id=visitor_id,
            visit=visit,
            language=language,
            status="shown",
            shown_at=now,
        )
        async with self.store.session() as s, s.begin():
            await s.execute(
                update(InvitationRow)
                .where(InvitationRow.visitor_id == visitor_id, InvitationRow.status == "shown")
                .values(status="ignored")
            )
            s.add(row)
        return read_invitation(row)

    async def last_shown_at(self, visitor_id: str) -> datetime | None:
        """When this visitor was last shown an invitation, by a rule or an agent."""
        async with self.store.session() as s:
            return await s.scalar(
                select(func.max(InvitationRow.shown_at)).where(
                    InvitationRow.visitor_id == visitor_id
                )
            )

    async def link_chat(self, invitation_id: str, chat_id: str) -> None:
        """The chat a personal invitation led to (`start_chat` with its id), both ways."""
        async with self.store.session() as s, s.begin():
            await s.execute(
                update(InvitationRow)
                .where(InvitationRow.id == invitation_id, InvitationRow.chat_id.is_(None))
                .values(chat_id=chat_id)
            )
            await s.execute(
                update(ChatRow)
                .where(ChatRow.id == chat_id, ChatRow.invitation_id.is_(None))
                .values(invitation_id=invitation_id)
            )

    async def get_invitation(self, invitation_id: str) -> Invitation | None:
        async with self.store.session() as s:
            row = await s.get(InvitationRow, invitation_id)
            return read_invitation(row) if row else None

    async def decline(self, invitation_id: str) -> Invitation | None:
        """Declined, unless it was answered already (then None)."""
        now = self.store.clock.now()
        async with self.store.session() as s, s.begin():
            row = await s.get(InvitationRow, invitation_id)
            if row is None or row.status in ANSWERED:
                return None
            row.status = "declined"
            row.responded_at = now
        return read_invitation(row)

    async def accept_without_chat(self, invitation_id: str) -> None:
        """Accepted, though no agent could take a chat by then (the visitor gets the
        offline form): it still counts as accepted."""
        await self.store.write(
            update(InvitationRow)
            .where(InvitationRow.id == invitation_id, InvitationRow.status.not_in(ANSWERED))
            .values(status="accepted", responded_at=self.store.clock.now())
        )

    async def open_invited_chat(
        self,
        invitation: Invitation,
        *,
        language: str,
        greeting: str,
        author_name: str | None,
        priority: int,
        status: str = "queued",
    ) -> tuple[Chat, Message] | None:
        """A chat (queued, or with the tenant's bot) whose first message is the invitation's
        text, linked to the invitation, which becomes `accepted` — all in one transaction.
        None when the invitation was answered meanwhile."""
        store = self.store
        now = self.store.clock.now()
        chat = ChatRow(
            id=new_id(),
            tenant_id=invitation.tenant_id,
            visitor_id=invitation.visitor_id,
            status=status,
            language=language,
            priority=priority,
            overflowed=False,
            created_at=now,
            queued_at=now if status == "queued" else None,
            invitation_id=invitation.id,
        )
        async with store.session() as s, s.begin():
            answered = await changed(
                s,
                update(InvitationRow)
                .where(InvitationRow.id == invitation.id, InvitationRow.status.not_in(ANSWERED))
                .values(status="accepted", responded_at=now, chat_id=chat.id),
            )
            if not answered:
                return None
            s.add(chat)
            await s.flush()
            message = MessageRow(
                chat_id=chat.id,
                author="system",
                author_name=author_name,
                sender="system",
                text_enc=store.cipher.encrypt(greeting),
                created_at=now,
            )
            s.add(message)
            await s.flush()
        return read_chat(chat), read_message(message, store.cipher)

    # -- CSAT ----------------------------------------------------------------------------

    async def rate_chat(self, chat_id: str, *, score: int, comment: str | None) -> datetime:
        """Store the visitor's rating; a later rating replaces an earlier one."""
        now = self.store.clock.now()
        await self.store.write(
            update(ChatRow)
            .where(ChatRow.id == chat_id)
            .values(
                csat_score=score,
                csat_comment_enc=self.store.cipher.encrypt_optional(comment),
                rated_at=now,
            )
        )
        return now

    async def rating(self, chat_id: str) -> tuple[int | None, str | None, datetime | None]:
        async with self.store.session() as s:
            row = await s.get(ChatRow, chat_id)
            if row is None:
                return None, None, None
            comment = self.store.cipher.decrypt_optional(row.csat_comment_enc)
            return row.csat_score, comment, row.rated_at

    # -- conversion ----------------------------------------------------------------------

    async def rule_stats(self, tenant_id: str, rule_id: str) -> dict[str, Any]:
        """Shown -> accepted/declined/ignored, and the chats and leads that came of them.

        An invitation still `shown` whose visit is over (half an hour without an answer)
        counts as ignored, even before the visitor's next visit marks it so.
        """
        stale = self.store.clock.now() - NEW_VISIT_AFTER
        async with self.store.session() as s:
            rows = (
                await s.execute(
                    select(InvitationRow.status, InvitationRow.shown_at).where(
                        InvitationRow.tenant_id == tenant_id, InvitationRow.rule_id == rule_id
                    )
                )
            ).all()
            chats = await s.scalar(
                select(func.count())
                .select_from(ChatRow)
                .join(InvitationRow, InvitationRow.id == ChatRow.invitation_id)
                .where(InvitationRow.rule_id == rule_id, ChatRow.tenant_id == tenant_id)
            )
            leads = await s.scalar(
                select(func.count())
                .select_from(LeadRow)
                .join(ChatRow, ChatRow.id == LeadRow.chat_id)
                .join(InvitationRow, InvitationRow.id == ChatRow.invitation_id)
                .where(InvitationRow.rule_id == rule_id, LeadRow.tenant_id == tenant_id)
            )
        counts = {"accepted": 0, "declined": 0, "ignored": 0, "pending": 0}
        for status, shown_at in rows:
            if status == "shown":
                counts["ignored" if shown_at < stale else "pending"] += 1
            else:
                counts[status] = counts.get(status, 0) + 1
        shown = len(rows)
        chats, leads = int(chats or 0), int(leads or 0)
        return {
            "rule_id": rule_id,
            "shown": shown,
            **counts,
            "chats": chats,
            "leads": leads,
            "conversion": {
                "accepted_per_shown": ratio(counts["accepted"], shown),
                "chats_per_shown": ratio(chats, shown),
                "leads_per_shown": ratio(leads, shown),
                "leads_per_chat": ratio(leads, chats),
            },
        }
