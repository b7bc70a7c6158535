"""Personal invitations (PROTOCOL 1.2): an agent invites one visitor who is on the site.

The visitor gets `invitation` with the agent's name; accepting it (`invitation_response`)
marks it accepted, and the `start_chat` that names it gives the chat straight to that
agent while they are online with a free slot, else to the queue. Refusals: a basic tenant
(`plan_required`), a visitor not on the site (`not_found`), a visitor in a chat, invited in
the last 2 minutes or who declined one in the last 10 (`conflict`), an agent not online or
at `max_chats` (`conflict`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog

from console.domain.errors import ProtocolError
from console.domain.types import Tenant
from console.engagement.feed import check_plan
from console.engagement.payloads import InviteIn
from console.engagement.presence import OnSite
from console.engagement.rules import resolve_language
from console.hub.agents import AgentSession
from console.hub.context import HubContext
from console.hub.visitors import VisitorActions
from console.realtime.rooms import VISITOR_NS, visitor_room
from console.realtime.schemas import StartChatIn
from console.store.engagement import Invitation
from console.store.repository import OPEN_STATUSES

log = structlog.get_logger("charla.engagement")

INVITED_WITHIN = timedelta(minutes=2)
DECLINED_WITHIN = timedelta(minutes=10)
DEFAULT_TEXT = {
    "es": "Hola, soy {agent} de {tenant}. ¿Le puedo ayudar en algo?",
    "en": "Hi, I'm {agent} from {tenant}. Can I help you with anything?",
}


def default_text(language: str, *, agent: str, tenant: str) -> str:
    return DEFAULT_TEXT.get(language, DEFAULT_TEXT["en"]).format(agent=agent, tenant=tenant)


class PersonalInvitations:
    def __init__(self, ctx: HubContext, onsite: OnSite) -> None:
        self.ctx = ctx
        self.onsite = onsite
        self.repo = ctx.store.engagement

    async def invite(self, me: AgentSession, payload: InviteIn) -> dict[str, Any]:
        ctx = self.ctx
        tenant = await ctx.tenant(me.tenant_id)
        check_plan(tenant, "inviting a visitor")
        record = await self.onsite.record(tenant.id, payload.visitor_id)
        if record is None:
            raise ProtocolError(
                "not_found", f"visitor {payload.visitor_id} is not on your site now"
            )
        await self._agent_free(tenant, me)
        language = resolve_language(record.get("language"), tenant.languages)
        text = (payload.text or "").strip() or default_text(
            language, agent=me.name, tenant=tenant.name
        )
        async with ctx.state.visitor_lock(payload.visitor_id):
            visitor = await ctx.store.get_visitor(payload.visitor_id, pages=False)
            if visitor is None or visitor.tenant_id != tenant.id:
                raise ProtocolError("not_found", f"no visitor {payload.visitor_id}")
            await self._visitor_free(visitor.id)
            invitation = await self.repo.record_shown(
                tenant_id=tenant.id,
                rule_id=None,
                agent_id=me.agent_id,
                visitor_id=visitor.id,
                visit=visitor.visits,
                language=language,
            )
        log.info(
            "invitation_sent",
            tenant_id=tenant.id,
            agent_id=me.agent_id,
            visitor_id=visitor.id,
            invitation_id=invitation.id,
        )
        await ctx.emit(
            "invitation",
            {
                "invitation_id": invitation.id,
                "text": text,
                "language": language,
                "agent": {"name": me.name},
            },
            to=visitor_room(visitor.id),
            namespace=VISITOR_NS,
        )
        return {"ok": True, "invitation_id": invitation.id}

    async def _agent_free(self, tenant: Tenant, me: AgentSession) -> None:
        found = await self.ctx.state.presence(tenant.id, [me.agent_id])
        if not found or found[0].status != "online":
            raise ProtocolError("conflict", "set your status to online to invite a visitor")
        if found[0].load >= found[0].max_chats:
            raise ProtocolError(
                "conflict", "you have no free chat slot; close a chat before inviting"
            )

    async def _visitor_free(self, visitor_id: str) -> None:
        now = self.ctx.clock.now()
        if await self.ctx.store.list_chats(visitor_id=visitor_id, statuses=OPEN_STATUSES):
            raise ProtocolError("conflict", "this visitor is in a chat already")
        shown = await self.repo.last_shown_at(visitor_id)
        if shown is not None and now - shown < INVITED_WITHIN:
            raise ProtocolError(
                "conflict", "this visitor was invited less than 2 minutes ago; wait a moment"
            )
        _, declined = await self.repo.visit_state(visitor_id, 0)
        if declined is not None and now - declined < DECLINED_WITHIN:
            raise ProtocolError(
                "conflict", "this visitor declined an invitation less than 10 minutes ago"
            )

    async def accepted(self, invitation: Invitation) -> dict[str, Any]:
        """`invitation_response` accepting an agent's invitation: the chat starts with the
        visitor's `start_chat` naming it."""
        if invitation.status == "declined":
            raise ProtocolError("conflict", "this invitation was declined already")
        await self.repo.accept_without_chat(invitation.id)
        log.info(
            "invitation_accepted",
            tenant_id=invitation.tenant_id,
            invitation_id=invitation.id,
            agent_id=invitation.agent_id,
        )
        return {"ok": True, "invitation": {"id": invitation.id, "status": "accepted"}}

    async def start_chat(
        self,
        visitors: VisitorActions,
        tenant: Tenant,
        visitor_id: str,
        payload: StartChatIn,
        sid: str,
    ) -> dict[str, Any]:
        """`start_chat` with an `invitation_id`: to the inviting agent when it is this
        visitor's accepted agent invitation with no chat yet; otherwise an ordinary start."""
        invitation = None
        if payload.invitation_id:
            found = await self.repo.get_invitation(payload.invitation_id)
            if (
                found is not None
                and found.tenant_id == tenant.id
                and found.visitor_id == visitor_id
                and found.agent_id is not None
                and found.status == "accepted"
                and found.chat_id is None
            ):
                invitation = found
        agent_id = invitation.agent_id if invitation else None
        ack = await visitors.start_chat(tenant, visitor_id, payload, sid, agent_id=agent_id)
        if invitation is not None and ack.get("ok"):
            await self.repo.link_chat(invitation.id, ack["chat"]["id"])
        return ack
