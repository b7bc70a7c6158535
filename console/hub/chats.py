"""A chat's life after it starts, whoever acts on it (visitor, agent, bot, upkeep, admin):
its language and whether anyone can take it, its lead, a hand-off to the queue, the move
of an agent's chats back to the queue, and the close with what follows it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import structlog

from console.contract.hours import Schedule, appointment_problem
from console.contract.plans import agent_language, allows
from console.domain.errors import ProtocolError
from console.domain.leads import Lead, LeadIn
from console.domain.types import Chat, Tenant, Ticket
from console.hub.context import HubContext, chat_log
from console.hub.conversation import Conversation
from console.hub.dispatch import Dispatcher
from console.outbox.wake import wake_outbox
from console.realtime.rooms import (
    AGENT_NS,
    VISITOR_NS,
    agent_room,
    tenant_room,
    visitor_room,
    watch_room,
)
from console.routing.language import LanguageDetectors

log = structlog.get_logger("charla.hub")

PRIORITY = 1  # transfers, returning visitors and requeued chats wait ahead of the rest


@dataclass(eq=False)
class ChatLifecycle:
    ctx: HubContext
    conversation: Conversation
    dispatcher: Dispatcher
    detectors: LanguageDetectors

    # -- what the bot runner asks of the hub (console.hub.bots.BotHost) -----------------

    async def tenant(self, tenant_id: str) -> Tenant:
        return await self.ctx.tenant(tenant_id)

    async def captures_leads(self, tenant_id: str) -> bool:
        tenant = await self.ctx.cached_tenant(tenant_id)
        return tenant is not None and allows(tenant.plan, "lead_capture")

    def schedule(self, tenant: Tenant) -> Schedule:
        return self.ctx.schedule(tenant)

    async def say(self, chat: Chat, text: str, *, client_msg_id: str, author_name: str) -> None:
        """A bot reply, stored then delivered (its id derived from the visitor's message,
        so a turn that runs twice stores it once)."""
        await self.conversation.store_and_deliver(
            chat.id, author="bot", text=text, client_msg_id=client_msg_id, author_name=author_name
        )

    async def show_typing(self, chat: Chat, typing: bool) -> None:
        await self.ctx.emit(
            "typing",
            {"chat_id": chat.id, "author": "bot", "typing": typing},
            to=visitor_room(chat.visitor_id),
            namespace=VISITOR_NS,
        )

    # -- before a chat starts ------------------------------------------------------------

    async def choose_language(self, tenant: Tenant, chosen: str | None, text: str) -> str:
        """The visitor's language as the plan routes it: chosen or detected on premium."""
        if not allows(tenant.plan, "multilingual"):
            return tenant.primary_language
        if chosen and chosen.lower() in tenant.languages:
            return chosen.lower()
        detector = self.detectors.get(tenant.languages)
        return await asyncio.to_thread(detector.detect, text)

    async def closed_reason(self, tenant: Tenant, language: str) -> str | None:
        """Why no agent could take a new chat in `language` now (closed, holiday, nobody
        online who speaks it, or with premium overflow nobody at all); None when one can."""
        reason = self.ctx.closed_now(tenant)
        if reason is None and not await self.ctx.state.can_serve(
            tenant.id, agent_language(tenant, language)
        ):
            reason = "no_agents"
        return reason

    async def served_languages(self, tenant: Tenant) -> frozenset[str]:
        """The languages whose chats an agent could take now, by the routing rules (one
        question to Redis per language an agent would need)."""
        needed = {language: agent_language(tenant, language) for language in tenant.languages}
        online = {
            wanted: await self.ctx.state.can_serve(tenant.id, wanted)
            for wanted in dict.fromkeys(needed.values())
        }
        return frozenset(language for language, wanted in needed.items() if online[wanted])

    # -- while it runs -------------------------------------------------------------------

    async def queue(self, chat: Chat) -> set[str]:
        """Put a chat in its queue and give it to an agent if one is free; returns the ids
        of the chats that dispatch assigned."""
        await self.dispatcher.enqueue(chat)
        return await self.dispatcher.settle(chat.tenant_id)

    async def hand_off(self, chat: Chat, language: str) -> Chat | None:
        """A bot chat goes to the human queue of `language`; None when it changed meanwhile."""
        moved = await self.ctx.store.requeue_chat(
            chat.id, language=language, priority=chat.priority
        )
        if moved is not None:
            await self.queue(moved)
        return moved

    async def save_lead(
        self, tenant: Tenant, chat: Chat, lead_in: LeadIn, *, source: str, agent_id: str | None
    ) -> Lead:
        """Stores the chat's lead (and its outbox rows), then tells the tenant's agents."""
        ctx = self.ctx
        await self._check_appointment(tenant, chat, lead_in)
        lead, queued = await ctx.store.leads.save(
            tenant, chat, lead_in, source=source, agent_id=agent_id
        )
        ctx.metrics.leads_saved.labels(source).inc()
        chat_log(chat).info(
            "lead_saved",
            lead_id=lead.id,
            source=source,
            qualified=lead.qualified,
            deliveries=[d.destination for d in queued],
        )
        if queued:
            await wake_outbox(ctx.state.redis)
        await ctx.emit(
            "lead_saved",
            {"chat_id": chat.id, "lead": lead.to_wire()},
            to=tenant_room(tenant.id),
            namespace=AGENT_NS,
        )
        return lead

    async def _check_appointment(self, tenant: Tenant, chat: Chat, lead_in: LeadIn) -> None:
        """A requested appointment must be in the future and inside the dealer's hours,
        checked when it is new or changed: a lead saved again for another field keeps the
        appointment it has, even once that day has passed."""
        appointment = lead_in.appointment
        if appointment is None:
            return
        stored = await self.ctx.store.leads.for_chat(tenant.id, chat.id)
        if stored is not None and stored.data.get("appointment") == appointment.model_dump(
            exclude_none=True, mode="json"
        ):
            return
        problem = appointment_problem(
            self.ctx.schedule(tenant), appointment.local_time(), self.ctx.clock.now()
        )
        if problem is not None:
            raise ProtocolError("invalid_payload", f"lead.appointment.at: {problem}")

    def callback_due(self, tenant: Tenant, reason: str) -> datetime | None:
        """A ticket filed while the dealer is closed is due at the next opening: the
        callback the visitor was promised."""
        if reason not in ("after_hours", "holiday"):
            return None
        return self.ctx.schedule(tenant).next_opening(self.ctx.clock.now())

    async def ticket_filed(self, tenant: Tenant, ticket: Ticket) -> None:
        """Tell the tenant of a new ticket: its agents' consoles at once, its webhooks and
        notification e-mail through the outbox. A failure here must not undo the ticket."""
        ctx = self.ctx
        try:
            if await ctx.store.tickets.announce(tenant, ticket):
                await wake_outbox(ctx.state.redis)
        except Exception:
            log.exception("ticket_announce_failed", tenant_id=tenant.id, ticket_id=ticket.id)
        await ctx.emit(
            "ticket_created",
            {"ticket": ticket.to_wire(ctx.clock.now())},
            to=tenant_room(tenant.id),
            namespace=AGENT_NS,
        )

    async def requeue_agent_chats(self, tenant_id: str, agent_id: str, *, reason: str) -> int:
        """Put an agent's chats back at the front of their language queue."""
        ctx = self.ctx
        count = 0
        for chat in await ctx.store.list_chats(agent_id=agent_id, statuses=("active",)):
            moved = await ctx.store.requeue_chat(
                chat.id, language=chat.language, priority=PRIORITY, from_agent=agent_id
            )
            if moved is None:
                continue
            await self.dispatcher.enqueue(moved, release_from=agent_id)
            await self.left_agent(chat.id, agent_id, "requeued")
            await self.conversation.system(moved, reason)
            count += 1
        log.info("agent_chats_requeued", tenant_id=tenant_id, agent_id=agent_id, count=count)
        return count

    async def left_agent(self, chat_id: str, agent_id: str, reason: str) -> None:
        """The chat is no longer the agent's (closed, transferred, requeued): their console
        drops it."""
        await self.ctx.emit(
            "chat_closed",
            {"chat_id": chat_id, "reason": reason},
            to=agent_room(agent_id),
            namespace=AGENT_NS,
        )

    # -- the end -------------------------------------------------------------------------

    async def close(
        self, chat: Chat, *, reason: str, disposition: str | None = None
    ) -> Chat | None:
        """Close an open chat (None when it was closed already): free its agent's slot,
        tell both sides, let the queue move, and queue the chat.closed webhooks."""
        ctx = self.ctx
        closed = await ctx.store.close_chat(chat.id, reason, disposition=disposition)
        if closed is None:
            return None
        ctx.metrics.chats_closed.labels(chat.tenant_id, reason).inc()
        chat_log(chat).info("chat_closed", reason=reason)
        # `chat` may be stale (read before an assignment or a transfer): act on `closed`,
        # the chat as the close found it.
        chat = closed
        await ctx.state.dequeue(chat.tenant_id, chat.id)
        if chat.agent_id:
            await ctx.state.release(chat.tenant_id, chat.agent_id, chat.id, now_ms=ctx.now_ms())
        event = {"chat_id": chat.id, "reason": reason}
        await ctx.emit("chat_closed", event, to=visitor_room(chat.visitor_id), namespace=VISITOR_NS)
        if chat.agent_id:
            await self.left_agent(chat.id, chat.agent_id, reason)
            await self.dispatcher.publish_presence(chat.tenant_id, chat.agent_id)
        await ctx.emit("chat_closed", event, to=watch_room(chat.id), namespace=AGENT_NS)
        await self.dispatcher.settle(chat.tenant_id)
        await self.chat_closed_events(chat, reason)
        return closed

    async def chat_closed_events(self, chat: Chat, reason: str) -> None:
        """The chat.closed webhooks (outbox rows) and a transcript the visitor asked for by
        e-mail while it ran; a failure here must not undo the close."""
        try:
            store = self.ctx.store
            tenant = await self.ctx.cached_tenant(chat.tenant_id)
            queued = tenant is not None and await store.outbox.chat_closed(tenant, chat, reason)
            if await store.transcripts.release(chat.id) or queued:
                await wake_outbox(self.ctx.state.redis)
        except Exception:
            chat_log(chat).exception("chat_closed_event_failed")
