"""Conversation delivery: a message is committed, then delivered to whoever holds the chat
at that commit ("persist, then deliver"); `sync` replays what a client missed; typing
notices are forwarded, throttled, and never stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Unpack

from console.domain.errors import ProtocolError
from console.domain.types import Chat, Draft, Message, parse_message_id
from console.hub.context import HubContext
from console.hub.texts import system_text
from console.realtime.rooms import AGENT_NS, VISITOR_NS, agent_room, visitor_room, watch_room
from console.realtime.throttle import TypingThrottle
from console.store.messages import Check

SYNC_PAGE = 500
TRANSCRIPT_LIMIT = 10_000


class Sender(NamedTuple):
    """The socket a message came from: its own tab already has it (the ack)."""

    sid: str
    namespace: str


@dataclass(eq=False)
class Conversation:
    ctx: HubContext
    typing: TypingThrottle = field(init=False)

    def __post_init__(self) -> None:
        self.typing = TypingThrottle(self.ctx.settings.limits.typing_min_interval_s)

    async def store_and_deliver(
        self,
        chat_id: str,
        *,
        sender: Sender | None = None,
        check: Check | None = None,
        **draft: Unpack[Draft],
    ) -> tuple[Message, Chat | None]:
        """Commit a message, then deliver it to whoever holds the chat at that commit (an
        agent who took it meanwhile got a history without it). Returns the message and, when
        this call stored it, the chat as the commit saw it (None for a resend)."""
        started = time.perf_counter()
        message, created, current = await self.ctx.store.post_message(chat_id, check=check, **draft)
        if created and current is not None:
            metrics = self.ctx.metrics
            metrics.messages.labels(message.author).inc()
            await self.deliver(current, message, sender)
            metrics.delivery_latency.observe(time.perf_counter() - started)
        return message, current

    async def deliver(self, chat: Chat, message: Message, sender: Sender | None = None) -> None:
        """To the chat's visitor and agent and the supervisors who joined it, every tab but
        the sender's own; a whisper never to the visitor."""
        event = {"chat_id": chat.id, "message": message.to_wire()}
        rooms = [] if message.whisper else [(visitor_room(chat.visitor_id), VISITOR_NS)]
        if chat.agent_id:
            rooms.append((agent_room(chat.agent_id), AGENT_NS))
        rooms.append((watch_room(chat.id), AGENT_NS))
        for room, namespace in rooms:
            skip = sender.sid if sender and sender.namespace == namespace else None
            await self.ctx.emit("message", event, to=room, namespace=namespace, skip_sid=skip)

    async def system(self, chat: Chat, key: str, **values: str) -> None:
        """A system note in the chat's language (console/hub/texts.py)."""
        await self.store_and_deliver(
            chat.id,
            author="system",
            text=system_text(key, chat.language, **values),
            client_msg_id=None,
        )

    async def chat_wire(self, chat: Chat) -> dict[str, Any]:
        """The chat as an agent receives it: visitor, pages, transcript and lead."""
        return (await self.chat_wires(chat.tenant_id, [chat]))[chat.id]

    async def chat_wires(self, tenant_id: str, chats: list[Chat]) -> dict[str, dict[str, Any]]:
        """`chat_wire` of several chats of one tenant (a dispatch run's): each read is one
        query for all of them, the three side by side (on the assignment path each is a
        round trip waited for)."""
        store = self.ctx.store
        ids = [chat.id for chat in chats]
        visitors, messages, leads = await asyncio.gather(
            store.get_visitors([chat.visitor_id for chat in chats]),
            store.first_messages(ids, limit=TRANSCRIPT_LIMIT, whispers=True),
            # the lead an agent or the bot saved earlier, so whoever takes the chat sees it
            store.leads.for_chats(tenant_id, ids),
        )
        wires = {}
        for chat in chats:
            wire = chat.to_wire(visitors.get(chat.visitor_id), messages[chat.id])
            lead = leads.get(chat.id)
            if lead is not None:
                wire["lead"] = lead.to_wire(with_deliveries=False)
            wires[chat.id] = wire
        return wires

    async def sync(
        self, chat: Chat, after_id: str | None, *, whispers: bool = False
    ) -> dict[str, Any]:
        """Every message after `after_id`, a page at a time (whispers for the console)."""
        try:
            after = parse_message_id(after_id) if after_id else None
        except ValueError as exc:
            raise ProtocolError("invalid_payload", f"after_id: {exc}") from None
        messages = await self.ctx.store.list_messages(
            chat.id, after=after, limit=SYNC_PAGE + 1, whispers=whispers
        )
        return {
            "ok": True,
            "chat": {"id": chat.id, "status": chat.status},
            "messages": [m.to_wire() for m in messages[:SYNC_PAGE]],
            "more": len(messages) > SYNC_PAGE,
        }

    async def offer_typing(
        self, sid: str, chat_id: str, typing: bool, *, author: str, may: Callable[[Chat], bool]
    ) -> None:
        """Forward a typing notice to the other side of an active chat the sender is in."""

        async def forward(typing: bool) -> None:
            chat = await self.ctx.store.get_chat(chat_id)
            if chat is None or chat.status != "active" or not chat.agent_id or not may(chat):
                return
            to, namespace = (
                (agent_room(chat.agent_id), AGENT_NS)
                if author == "visitor"
                else (visitor_room(chat.visitor_id), VISITOR_NS)
            )
            event = {"chat_id": chat.id, "author": author, "typing": typing}
            await self.ctx.emit("typing", event, to=to, namespace=namespace)

        await self.typing.offer(sid, chat_id, typing, forward)
