"""What a visitor does: connect and leave (with a grace period for a queued chat), view
pages, start a chat (with the bot, in the queue, or offline with a ticket), write, sync,
end it and type. The `/visitor` namespace validates and authenticates, then calls here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from console.contract.plans import allows, bot_takes
from console.domain.contact import checked, normalize_email, normalize_phone
from console.domain.errors import ProtocolError
from console.domain.leads import LeadIn
from console.domain.types import Chat, Message, Tenant, Visitor
from console.hub.bots import BotRunner, bot_chat_language
from console.hub.chats import PRIORITY, ChatLifecycle
from console.hub.context import chat_log
from console.hub.conversation import Sender
from console.hub.direct import queue_for_agent
from console.hub.dispatch import Dispatcher
from console.hub.sockets import SocketSide
from console.realtime import schemas
from console.realtime.rooms import AGENT_NS, VISITOR_NS, agent_room, tenant_room
from console.security.redact import redact
from console.store.repository import OPEN_STATUSES

log = structlog.get_logger("charla.hub")

WAITING_STATUSES = ("queued", "bot")  # a visitor's chats that wait for them to come back


def chat_deadline(tenant_id: str, chat_id: str) -> str:
    """The grace deadline of a queued chat whose visitor left."""
    return f"chat|{tenant_id}|{chat_id}"


def contact_details(payload: schemas.StartChatIn) -> dict[str, str | None]:
    """A visitor's name, e-mail and phone as stored, or `invalid_payload` naming the field."""
    return {
        "name": (payload.name or "").strip() or None,
        "email": checked("email", normalize_email, payload.email),
        "phone": checked("phone", normalize_phone, payload.phone),
    }


def chat_ack(chat: Chat, status: str | None = None, **extra: str | None) -> dict[str, Any]:
    """start_chat's answer: the chat's id, status and language."""
    wire = {"id": chat.id, "status": status or chat.status, **extra, "language": chat.language}
    return {"ok": True, "chat": wire}


def writable(tenant_id: str, visitor_id: str, chat_id: str) -> Callable[[Chat | None], None]:
    """The check, in the message's transaction, that the chat is this visitor's and open."""

    def check(chat: Chat | None) -> None:
        if chat is None or chat.tenant_id != tenant_id or chat.visitor_id != visitor_id:
            raise ProtocolError("not_found", f"no chat {chat_id} for this visitor")
        if chat.status not in OPEN_STATUSES:
            raise ProtocolError("closed", "this chat has ended; start a new chat to write again")

    return check


@dataclass(eq=False)
class VisitorActions(SocketSide):
    dispatcher: Dispatcher
    chats: ChatLifecycle
    bots: BotRunner
    kind = "visitor"

    # -- connections ---------------------------------------------------------------------

    async def connected(self, tenant: Tenant, visitor: Visitor, sid: str) -> None:
        await self.opened(tenant.id, visitor.id, sid, lambda: self.back(tenant.id, visitor.id))

    async def back(self, tenant_id: str, visitor_id: str, *, publish: bool = True) -> None:
        """The visitor is here again: their waiting chats keep their place (and they are
        told it again)."""
        waiting = await self.ctx.store.list_chats(visitor_id=visitor_id, statuses=WAITING_STATUSES)
        for chat in waiting:
            await self.ctx.state.cancel_deadline(chat_deadline(tenant_id, chat.id))
        if waiting and publish:
            await self.dispatcher.publish_queue(tenant_id, tell=frozenset(c.id for c in waiting))

    async def last_socket_gone(self, tenant_id: str, visitor_id: str) -> None:
        ctx = self.ctx
        deadline = ctx.ms_from_now(ctx.settings.visitor_grace_s)
        for chat in await ctx.store.list_chats(visitor_id=visitor_id, statuses=WAITING_STATUSES):
            await ctx.state.set_deadline(chat_deadline(tenant_id, chat.id), deadline)

    # -- events --------------------------------------------------------------------------

    async def page_view(
        self, tenant_id: str, visitor_id: str, payload: schemas.PageViewIn
    ) -> dict[str, Any]:
        store = self.ctx.store
        view = await store.add_page_view(
            visitor_id, url=payload.url, title=payload.title, referrer=payload.referrer
        )
        for chat in await store.list_chats(visitor_id=visitor_id, statuses=("active", "queued")):
            # A queued visitor's page is shown in every agent's queue: the whole team hears.
            to = agent_room(chat.agent_id) if chat.agent_id else tenant_room(tenant_id)
            await self.ctx.emit(
                "visitor_activity",
                {"chat_id": chat.id, "page_view": view.to_wire()},
                to=to,
                namespace=AGENT_NS,
            )
        return {"ok": True}

    async def start_chat(
        self,
        tenant: Tenant,
        visitor_id: str,
        payload: schemas.StartChatIn,
        sid: str,
        *,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        """One at a time per visitor: two tabs starting at once share one chat. With
        `agent_id` (a personal invitation's) the chat goes to that agent if they can take it."""
        async with self.ctx.state.visitor_lock(visitor_id):
            return await self._start_chat(tenant, visitor_id, payload, sid, agent_id)

    async def _start_chat(
        self,
        tenant: Tenant,
        visitor_id: str,
        payload: schemas.StartChatIn,
        sid: str,
        agent_id: str | None = None,
    ) -> dict[str, Any]:
        store = self.ctx.store
        contact = contact_details(payload)
        text = redact(payload.text)
        open_chats, visitor = await asyncio.gather(
            store.list_chats(visitor_id=visitor_id, statuses=OPEN_STATUSES),
            store.get_visitor(visitor_id, pages=False),
        )
        if open_chats:
            return await self._write_again(open_chats[-1], text, payload, sid)

        await store.update_visitor_contact(visitor_id, **contact, tenant_id=tenant.id)
        language = await self.chats.choose_language(tenant, payload.language, payload.text)
        closed_reason = await self.chats.closed_reason(tenant, language)
        returning = bool(visitor and visitor.visits > 1)
        # an agent who invited the visitor talks with them, not the bot
        with_bot = bot_takes(tenant, closed_reason) and not (agent_id and closed_reason is None)
        if with_bot:
            language = bot_chat_language(tenant, payload.language, language)
        status = "bot" if with_bot else "offline" if closed_reason else "queued"
        ticket_reason = None if with_bot else closed_reason
        chat, message, ticket = await store.start_chat(
            tenant_id=tenant.id,
            visitor_id=visitor_id,
            language=language,
            status=status,
            text=text,
            client_msg_id=payload.client_msg_id,
            priority=PRIORITY if returning else 0,
            ticket_reason=ticket_reason,
            contact=contact,
            callback_due_at=self.chats.callback_due(tenant, ticket_reason or ""),
        )
        self.ctx.metrics.chats_started.labels(tenant.id, status).inc()
        self.ctx.metrics.messages.labels("visitor").inc()
        chat_log(chat).info("chat_started", status=status, language=language, reason=closed_reason)
        if with_bot:  # the bot saves the form's lead on its first turn
            self.bots.spawn(chat, message)
            return chat_ack(chat)
        await self._form_lead(tenant, chat, contact)
        if ticket is not None:
            await self.chats.ticket_filed(tenant, ticket)
        if status == "offline":
            return chat_ack(chat, reason=closed_reason)
        if agent_id:
            assigned = await queue_for_agent(self.dispatcher, chat, agent_id)
        else:
            assigned = await self.chats.queue(chat)
        return chat_ack(chat, "active" if chat.id in assigned else "queued")

    async def _form_lead(self, tenant: Tenant, chat: Chat, contact: dict[str, str | None]) -> None:
        """The pre-chat form gave a name and a phone or an e-mail: that is a lead, saved at
        once (source "form"), which an agent completes later."""
        name = (contact.get("name") or "").split()
        if not allows(tenant.plan, "lead_capture") or not name:
            return
        if not (contact.get("phone") or contact.get("email")):
            return
        lead_in = LeadIn(
            first_name=name[0][:100],
            last_name=" ".join(name[1:])[:100] or None,
            email=contact.get("email"),
            phone=contact.get("phone"),
            language=chat.language,
        )
        await self.chats.save_lead(tenant, chat, lead_in, source="form", agent_id=None)

    async def _write_again(
        self, chat: Chat, text: str, payload: schemas.StartChatIn, sid: str
    ) -> dict[str, Any]:
        """start_chat from a visitor who has an open chat: a message in that chat."""
        message, _ = await self.conversation.store_and_deliver(
            chat.id,
            author="visitor",
            text=text,
            client_msg_id=payload.client_msg_id,
            sender=Sender(sid, VISITOR_NS),
        )
        if chat.status == "bot":
            self.bots.spawn(chat, message)
        if chat.status == "queued":
            # A retry after an `unavailable` answer: make sure the chat really waits.
            await self.dispatcher.enqueue(chat)
            await self.dispatcher.dispatch(chat.tenant_id)
            await self.dispatcher.publish_queue(chat.tenant_id, tell=frozenset({chat.id}))
            chat = await self.ctx.store.get_chat(chat.id) or chat
        return chat_ack(chat)

    async def message(
        self, tenant_id: str, visitor_id: str, payload: schemas.MessageIn, sid: str
    ) -> dict[str, Any]:
        message, chat = await self.conversation.store_and_deliver(
            payload.chat_id,
            author="visitor",
            text=redact(payload.text),
            client_msg_id=payload.client_msg_id,
            sender=Sender(sid, VISITOR_NS),
            check=writable(tenant_id, visitor_id, payload.chat_id),
        )
        if chat is not None and chat.status == "bot":
            self.bots.spawn(chat, message)
        elif chat is not None and chat.status in ("queued", "active"):
            self.bots.listen(chat, message)  # a correction of the bot's lead, if any
        return {"ok": True, "message": message.to_wire()}

    def session(self, tenant_id: str, visitor_id: str) -> dict[str, Any]:
        """The `session` event: who the visitor is, and their token for uploads (PROTOCOL
        1.2, Attachments) when the process can sign one."""
        sign = self.ctx.upload_token
        token = {} if sign is None else {"upload_token": sign(tenant_id, visitor_id)}
        return {"visitor_id": visitor_id, **token}

    async def attach(
        self, tenant_id: str, visitor_id: str, chat_id: str, attachment: dict[str, Any]
    ) -> Message:
        """A file the visitor sent (stored already): its message, stored and delivered."""
        message, _ = await self.conversation.store_and_deliver(
            chat_id,
            author="visitor",
            text="",
            client_msg_id=None,
            attachment=attachment,
            check=writable(tenant_id, visitor_id, chat_id),
        )
        return message

    async def own_chat(self, tenant_id: str, visitor_id: str, chat_id: str) -> Chat:
        """One of this visitor's chats, or `not_found`."""
        chat = await self.ctx.store.get_chat(chat_id)
        if chat is None or chat.tenant_id != tenant_id or chat.visitor_id != visitor_id:
            raise ProtocolError("not_found", f"no chat {chat_id} for this visitor")
        return chat

    async def sync(
        self, tenant_id: str, visitor_id: str, payload: schemas.SyncIn
    ) -> dict[str, Any]:
        chat = await self.own_chat(tenant_id, visitor_id, payload.chat_id)
        return await self.conversation.sync(chat, payload.after_id)

    async def end_chat(
        self, tenant_id: str, visitor_id: str, payload: schemas.ChatRef
    ) -> dict[str, Any]:
        chat = await self.own_chat(tenant_id, visitor_id, payload.chat_id)
        # a bot chat keeps what the bot learned (and files the callback ticket, if due)
        if chat.status != "bot" or not await self.bots.left(chat.id, reason="visitor_ended"):
            await self.chats.close(chat, reason="visitor_ended")
        return {"ok": True}

    async def typing(
        self, tenant_id: str, visitor_id: str, sid: str, payload: schemas.TypingIn
    ) -> None:
        await self.conversation.offer_typing(
            sid,
            payload.chat_id,
            payload.typing,
            author="visitor",
            may=lambda chat: chat.visitor_id == visitor_id and chat.tenant_id == tenant_id,
        )
