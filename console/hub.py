"""The hub's chat logic, independent of the transport: what happens when a visitor or an
agent does something. The Socket.IO namespaces validate and authenticate, then call in here.

Every message is committed before it is emitted ("persist, then deliver").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from redis.exceptions import LockError

from console.botrunner import BotRunner, bot_chat_language, bot_takes
from console.contact import normalize_email, normalize_phone
from console.contract.hours import Schedule
from console.errors import ProtocolError
from console.i18n import system_text
from console.language import LanguageDetectors
from console.leads import Lead, LeadIn
from console.metrics import Metrics
from console.outbox import wake_outbox
from console.realtime import schemas
from console.realtime.throttle import TypingThrottle
from console.routing.coalesce import Coalesced
from console.routing.estimate import positions
from console.routing.state import Assignment, RoutingState
from console.security.redact import redact
from console.settings import Settings
from console.store.messages import Check
from console.store.repository import OPEN_STATUSES, Store
from console.types import (
    Agent,
    Author,
    Chat,
    Message,
    Tenant,
    Visitor,
    parse_message_id,
    utcnow,
)

log = structlog.get_logger("charla.hub")

VISITOR_NS = "/visitor"
AGENT_NS = "/agent"
PRIORITY = 1
SYNC_PAGE = 500
TENANT_CACHE_S = 2.0
TRANSCRIPT_LIMIT = 10_000
DEADLINE_RETRY_S = 5.0
RECORDING_AGENTS = 6  # agents whose new chats a dispatch records at once


def visitor_room(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


def tenant_room(tenant_id: str) -> str:
    return f"tenant:{tenant_id}"


class Emitter(Protocol):
    """python-socketio's AsyncServer, or a write-only AsyncRedisManager in a worker."""

    def emit(
        self,
        event: str,
        data: Any = None,
        *,
        to: str | None = None,
        skip_sid: str | None = None,
        namespace: str | None = None,
    ) -> Awaitable[None]: ...


@dataclass(frozen=True)
class AgentSession:
    agent_id: str
    tenant_id: str
    role: str
    name: str


def now_ms() -> int:
    return int(time.time() * 1000)


def chat_deadline(tenant_id: str, chat_id: str) -> str:
    """The grace deadline of a queued chat whose visitor left."""
    return f"chat|{tenant_id}|{chat_id}"


def agent_deadline(tenant_id: str, agent_id: str) -> str:
    """The grace deadline of an agent whose last connection dropped."""
    return f"agent|{tenant_id}|{agent_id}"


def contact_details(payload: schemas.StartChatIn) -> dict[str, str | None]:
    """A visitor's name, e-mail and phone as stored, or `invalid_payload` naming the field."""
    return {
        "name": (payload.name or "").strip() or None,
        "email": _checked("email", normalize_email, payload.email),
        "phone": _checked("phone", normalize_phone, payload.phone),
    }


def _checked(field: str, normalize: Callable[[str], str], raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return normalize(raw)
    except ValueError as exc:
        raise ProtocolError("invalid_payload", f"{field}: {exc}") from None


class Hub:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        state: RoutingState,
        emitter: Emitter,
        metrics: Metrics,
        detectors: LanguageDetectors,
    ) -> None:
        self.settings = settings
        self.store = store
        self.state = state
        self.emitter = emitter
        self.metrics = metrics
        self.detectors = detectors
        self._schedules: dict[str, Schedule] = {}
        self.typing = TypingThrottle(settings.limits.typing_min_interval_s)
        self._handle_time: dict[str, tuple[float, float]] = {}
        self._tenants: dict[str, tuple[float, Tenant]] = {}
        self._drift: set[tuple[str, str, str]] = set()
        self.bots = BotRunner(self)
        self._dispatches = Coalesced(self._dispatch)
        self._queue_publishes = Coalesced(self._publish_queue_locked)

    # -- helpers -------------------------------------------------------------------------

    async def emit(
        self, event: str, data: Any, *, to: str, namespace: str, skip_sid: str | None = None
    ) -> None:
        await self.emitter.emit(event, data, to=to, namespace=namespace, skip_sid=skip_sid)

    def schedule(self, tenant: Tenant) -> Schedule:
        key = json.dumps([tenant.timezone, tenant.hours, tenant.holidays], sort_keys=True)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = Schedule(
                timezone=tenant.timezone, hours=tenant.hours, holidays=tenant.holidays
            )
            self._schedules[key] = schedule
        return schedule

    async def tenant(self, tenant_id: str) -> Tenant:
        tenant = await self.store.get_tenant(tenant_id)
        if tenant is None:
            raise ProtocolError("not_found", "this tenant no longer exists")
        return tenant

    async def avg_handle_s(self, tenant_id: str) -> float:
        cached = self._handle_time.get(tenant_id)
        now = time.monotonic()
        if cached and now - cached[0] < 60:
            return cached[1]
        value = await self.store.average_handle_time(
            tenant_id, default=self.settings.default_handle_time_s
        )
        self._handle_time[tenant_id] = (now, value)
        return value

    async def chat_wire(self, chat: Chat) -> dict[str, Any]:
        # three reads side by side: on the assignment path, each is a round trip waited for
        visitor, messages, lead = await asyncio.gather(
            self.store.get_visitor(chat.visitor_id),
            self.store.list_messages(chat.id, limit=TRANSCRIPT_LIMIT),
            # the lead an agent or the bot saved earlier, so whoever takes the chat sees it
            self.store.leads.for_chat(chat.tenant_id, chat.id),
        )
        wire = chat.to_wire(visitor, messages)
        if lead is not None:
            wire["lead"] = lead.to_wire(with_deliveries=False)
        return wire

    async def _visitor_chat(self, tenant_id: str, visitor_id: str, chat_id: str) -> Chat:
        chat = await self.store.get_chat(chat_id)
        if chat is None or chat.tenant_id != tenant_id or chat.visitor_id != visitor_id:
            raise ProtocolError("not_found", f"no chat {chat_id} for this visitor")
        return chat

    async def _agent_chat(self, me: AgentSession, chat_id: str, *, own: bool) -> Chat:
        """A chat of the agent's tenant; with `own`, one this agent may act on."""
        return self._agent_may_act(me, chat_id, await self.store.get_chat(chat_id), own=own)

    @staticmethod
    def _agent_may_act(me: AgentSession, chat_id: str, chat: Chat | None, *, own: bool) -> Chat:
        if chat is None or chat.tenant_id != me.tenant_id:
            raise ProtocolError("not_found", f"no chat {chat_id} in your tenant")
        if own and chat.agent_id != me.agent_id and me.role not in ("supervisor", "admin"):
            raise ProtocolError("forbidden", "this chat is assigned to another agent")
        return chat

    async def _store_and_deliver(
        self,
        chat_id: str,
        *,
        author: Author,
        text: str,
        client_msg_id: str | None,
        author_name: str | None = None,
        agent_id: str | None = None,
        sender_sid: str | None = None,
        sender_ns: str | None = None,
        check: Check | None = None,
    ) -> tuple[Message, Chat | None]:
        """Commit a message, then deliver it to whoever holds the chat at that commit (an
        agent who took it meanwhile got a history without it). Returns the message and, when
        this call stored it, the chat as the commit saw it (None for a resend)."""
        started = time.perf_counter()
        message, created, current = await self.store.post_message(
            chat_id,
            author=author,
            text=text,
            client_msg_id=client_msg_id,
            author_name=author_name,
            agent_id=agent_id,
            check=check,
        )
        if created and current is not None:
            self.metrics.messages.labels(author).inc()
            await self.deliver(current, message, sender_sid=sender_sid, sender_ns=sender_ns)
            self.metrics.delivery_latency.observe(time.perf_counter() - started)
        return message, current

    async def deliver(
        self,
        chat: Chat,
        message: Message,
        *,
        sender_sid: str | None = None,
        sender_ns: str | None = None,
    ) -> None:
        event = {"chat_id": chat.id, "message": message.to_wire()}
        await self.emit(
            "message",
            event,
            to=visitor_room(chat.visitor_id),
            namespace=VISITOR_NS,
            skip_sid=sender_sid if sender_ns == VISITOR_NS else None,
        )
        if chat.agent_id:
            await self.emit(
                "message",
                event,
                to=agent_room(chat.agent_id),
                namespace=AGENT_NS,
                skip_sid=sender_sid if sender_ns == AGENT_NS else None,
            )

    async def _system(self, chat: Chat, key: str, **values: str) -> None:
        await self._store_and_deliver(
            chat.id,
            author="system",
            text=system_text(key, chat.language, **values),
            client_msg_id=None,
        )

    # -- visitors ------------------------------------------------------------------------

    async def visitor_connected(self, tenant: Tenant, visitor: Visitor, sid: str) -> None:
        self.metrics.connected_visitors.inc()
        try:
            await self.state.add_socket("visitor", visitor.id, sid, tenant_id=tenant.id)
            await self._visitor_back(tenant, visitor)
        except Exception:
            # The connection is refused and will never disconnect: uncount its socket.
            with contextlib.suppress(Exception):
                await self.visitor_disconnected(tenant.id, visitor.id, sid)
            raise

    async def _visitor_back(self, tenant: Tenant, visitor: Visitor) -> None:
        queued = await self.store.list_chats(visitor_id=visitor.id, statuses=("queued", "bot"))
        for chat in queued:
            await self.state.cancel_deadline(chat_deadline(tenant.id, chat.id))
        if queued:
            await self.publish_queue(tenant.id, tell=frozenset(c.id for c in queued))

    async def visitor_disconnected(self, tenant_id: str, visitor_id: str, sid: str) -> None:
        self.metrics.connected_visitors.dec()
        await self.typing.forget(sid)
        await self.visitor_socket_gone(tenant_id, visitor_id, sid)

    async def visitor_socket_gone(self, tenant_id: str, visitor_id: str, sid: str) -> None:
        """A visitor's socket is gone (here, or with a dead process: console.cluster)."""
        if await self.state.remove_socket("visitor", visitor_id, sid, tenant_id=tenant_id) > 0:
            return
        deadline = now_ms() + int(self.settings.visitor_grace_s * 1000)
        for chat in await self.store.list_chats(visitor_id=visitor_id, statuses=("queued", "bot")):
            await self.state.set_deadline(chat_deadline(tenant_id, chat.id), deadline)

    async def page_view(
        self, tenant_id: str, visitor_id: str, payload: schemas.PageViewIn
    ) -> dict[str, Any]:
        view = await self.store.add_page_view(
            visitor_id, url=payload.url, title=payload.title, referrer=payload.referrer
        )
        for chat in await self.store.list_chats(
            visitor_id=visitor_id, statuses=("active", "queued")
        ):
            # A queued visitor's page is shown in every agent's queue: the whole team hears.
            to = agent_room(chat.agent_id) if chat.agent_id else tenant_room(tenant_id)
            await self.emit(
                "visitor_activity",
                {"chat_id": chat.id, "page_view": view.to_wire()},
                to=to,
                namespace=AGENT_NS,
            )
        return {"ok": True}

    async def choose_language(self, tenant: Tenant, payload: schemas.StartChatIn) -> str:
        if tenant.plan != "premium":
            return tenant.primary_language
        if payload.language and payload.language.lower() in tenant.languages:
            return payload.language.lower()
        detector = self.detectors.get(tenant.languages)
        return await asyncio.to_thread(detector.detect, payload.text)

    async def start_chat(
        self, tenant: Tenant, visitor_id: str, payload: schemas.StartChatIn, sid: str
    ) -> dict[str, Any]:
        """One at a time per visitor: two tabs starting at once share one chat."""
        async with self.state.visitor_lock(visitor_id):
            return await self._start_chat(tenant, visitor_id, payload, sid)

    async def _start_chat(
        self, tenant: Tenant, visitor_id: str, payload: schemas.StartChatIn, sid: str
    ) -> dict[str, Any]:
        contact = contact_details(payload)
        text = redact(payload.text)
        open_chats, visitor = await asyncio.gather(
            self.store.list_chats(visitor_id=visitor_id, statuses=OPEN_STATUSES),
            self.store.get_visitor(visitor_id, pages=False),
        )
        if open_chats:
            chat = open_chats[-1]
            message, _ = await self._store_and_deliver(
                chat.id,
                author="visitor",
                text=text,
                client_msg_id=payload.client_msg_id,
                sender_sid=sid,
                sender_ns=VISITOR_NS,
            )
            if chat.status == "bot":
                self.bots.spawn(chat, message)
            if chat.status == "queued":
                # A retry after an `unavailable` answer: make sure the chat really waits.
                await self.enqueue(chat, priority=chat.priority > 0)
                await self.dispatch(tenant.id)
                await self.publish_queue(tenant.id, tell=frozenset({chat.id}))
                chat = await self.store.get_chat(chat.id) or chat
            return {
                "ok": True,
                "chat": {"id": chat.id, "status": chat.status, "language": chat.language},
            }

        await self.store.update_visitor_contact(visitor_id, **contact)
        language = await self.choose_language(tenant, payload)
        closed_reason = await self.closed_reason(tenant, language)
        returning = bool(visitor and visitor.visits > 1)
        with_bot = bot_takes(tenant, closed_reason)
        if with_bot:
            language = bot_chat_language(tenant, payload.language, language)
        status = "bot" if with_bot else "offline" if closed_reason else "queued"
        chat, message, _ticket = await self.store.start_chat(
            tenant_id=tenant.id,
            visitor_id=visitor_id,
            language=language,
            status=status,
            text=text,
            client_msg_id=payload.client_msg_id,
            priority=PRIORITY if returning else 0,
            ticket_reason=None if with_bot else closed_reason,
            contact=contact,
        )
        self.metrics.chats_started.labels(tenant.id, status).inc()
        self.metrics.messages.labels("visitor").inc()
        log.info(
            "chat_started",
            tenant_id=tenant.id,
            chat_id=chat.id,
            status=status,
            language=language,
            reason=closed_reason,
        )
        if with_bot:
            self.bots.spawn(chat, message)
            return {"ok": True, "chat": {"id": chat.id, "status": "bot", "language": language}}
        if status == "offline":
            return {
                "ok": True,
                "chat": {
                    "id": chat.id,
                    "status": "offline",
                    "reason": closed_reason,
                    "language": language,
                },
            }
        await self.enqueue(chat, priority=returning)
        assigned = await self.dispatch(tenant.id)
        await self.publish_queue(tenant.id)
        final = "active" if chat.id in assigned else "queued"
        return {"ok": True, "chat": {"id": chat.id, "status": final, "language": language}}

    async def closed_reason(self, tenant: Tenant, language: str) -> str | None:
        """Why no agent could take a new chat in `language` now (closed, holiday, nobody
        online who speaks it, or with premium overflow nobody at all); None when one can."""
        reason = self.schedule(tenant).closed_reason(utcnow())
        overflow = tenant.plan == "premium" and tenant.overflow_after_s is not None
        if reason is None and not await self.state.can_serve(
            tenant.id, None if overflow else language
        ):
            reason = "no_agents"
        return reason

    async def enqueue(
        self,
        chat: Chat,
        *,
        priority: bool,
        arrival_ms: int | None = None,
        exclude_agent: str | None = None,
        release_from: str | None = None,
    ) -> None:
        """Put a chat in its language queue; by default it keeps its first arrival time."""
        if arrival_ms is None:
            arrival_ms = int((chat.queued_at or chat.created_at).timestamp() * 1000)
        await self.state.enqueue(
            chat.tenant_id,
            chat.id,
            visitor_id=chat.visitor_id,
            language=chat.language,
            arrival_ms=arrival_ms,
            priority=priority,
            now_ms=now_ms(),
            exclude_agent=exclude_agent,
            release_from=release_from,
        )

    async def visitor_message(
        self, tenant_id: str, visitor_id: str, payload: schemas.MessageIn, sid: str
    ) -> dict[str, Any]:
        chat_id = payload.chat_id

        def check(chat: Chat | None) -> None:
            if chat is None or chat.tenant_id != tenant_id or chat.visitor_id != visitor_id:
                raise ProtocolError("not_found", f"no chat {chat_id} for this visitor")
            if chat.status not in OPEN_STATUSES:
                raise ProtocolError(
                    "closed", "this chat has ended; start a new chat to write again"
                )

        message, chat = await self._store_and_deliver(
            chat_id,
            author="visitor",
            text=redact(payload.text),
            client_msg_id=payload.client_msg_id,
            sender_sid=sid,
            sender_ns=VISITOR_NS,
            check=check,
        )
        if chat is not None and chat.status == "bot":
            self.bots.spawn(chat, message)
        return {"ok": True, "message": message.to_wire()}

    async def visitor_sync(
        self, tenant_id: str, visitor_id: str, payload: schemas.SyncIn
    ) -> dict[str, Any]:
        chat = await self._visitor_chat(tenant_id, visitor_id, payload.chat_id)
        return await self._sync(chat, payload.after_id)

    async def _sync(self, chat: Chat, after_id: str | None) -> dict[str, Any]:
        try:
            after = parse_message_id(after_id) if after_id else None
        except ValueError as exc:
            raise ProtocolError("invalid_payload", f"after_id: {exc}") from None
        messages = await self.store.list_messages(chat.id, after=after, limit=SYNC_PAGE + 1)
        return {
            "ok": True,
            "chat": {"id": chat.id, "status": chat.status},
            "messages": [m.to_wire() for m in messages[:SYNC_PAGE]],
            "more": len(messages) > SYNC_PAGE,
        }

    async def end_chat(
        self, tenant_id: str, visitor_id: str, payload: schemas.ChatRef
    ) -> dict[str, Any]:
        chat = await self._visitor_chat(tenant_id, visitor_id, payload.chat_id)
        await self.close(chat, reason="visitor_ended")
        return {"ok": True}

    async def visitor_typing(
        self, tenant_id: str, visitor_id: str, sid: str, payload: schemas.TypingIn
    ) -> None:
        await self._offer_typing(
            sid,
            payload,
            author="visitor",
            may=lambda chat: chat.visitor_id == visitor_id and chat.tenant_id == tenant_id,
        )

    async def _offer_typing(
        self, sid: str, payload: schemas.TypingIn, *, author: str, may: Callable[[Chat], bool]
    ) -> None:
        """Forward a typing notice to the other side of an active chat the sender is in."""

        async def forward(typing: bool) -> None:
            chat = await self.store.get_chat(payload.chat_id)
            if chat is None or chat.status != "active" or not chat.agent_id or not may(chat):
                return
            to, namespace = (
                (agent_room(chat.agent_id), AGENT_NS)
                if author == "visitor"
                else (visitor_room(chat.visitor_id), VISITOR_NS)
            )
            event = {"chat_id": chat.id, "author": author, "typing": typing}
            await self.emit("typing", event, to=to, namespace=namespace)

        await self.typing.offer(sid, payload.chat_id, payload.typing, forward)

    # -- agents --------------------------------------------------------------------------

    async def agent_connected(self, agent: Agent, sid: str) -> None:
        self.metrics.connected_agents.inc()
        try:
            await self.state.add_socket("agent", agent.id, sid, tenant_id=agent.tenant_id)
            await self._agent_back(agent, sid)
        except Exception:
            # The connection is refused and will never disconnect: uncount its socket, or
            # the agent's last real disconnect would leave them online with no one there.
            me = AgentSession(agent.id, agent.tenant_id, agent.role, agent.name)
            with contextlib.suppress(Exception):
                await self.agent_disconnected(me, sid)
            raise

    async def _agent_back(self, agent: Agent, sid: str) -> None:
        await self.state.cancel_deadline(agent_deadline(agent.tenant_id, agent.id))
        remembered = await self.state.agent_status(agent.tenant_id, agent.id)
        if remembered == "online":
            await self.state.set_agent_status(
                agent.tenant_id,
                agent.id,
                status="online",
                max_chats=agent.max_chats,
                languages=agent.languages,
                now_ms=now_ms(),
            )
        for chat in await self.store.list_chats(agent_id=agent.id, statuses=("active",)):
            await self.emit(
                "chat_assigned", {"chat": await self.chat_wire(chat)}, to=sid, namespace=AGENT_NS
            )
        await self.publish_queue(agent.tenant_id, only_to=sid)
        if remembered == "online":
            await self.dispatch(agent.tenant_id)
            await self.publish_queue(agent.tenant_id)

    async def agent_disconnected(self, me: AgentSession, sid: str) -> None:
        self.metrics.connected_agents.dec()
        await self.typing.forget(sid)
        await self.agent_socket_gone(me.tenant_id, me.agent_id, sid)

    async def agent_socket_gone(self, tenant_id: str, agent_id: str, sid: str) -> None:
        """An agent's socket is gone (here, or with a dead process: console.cluster)."""
        if await self.state.remove_socket("agent", agent_id, sid, tenant_id=tenant_id) > 0:
            return
        await self.state.suspend_agent(tenant_id, agent_id)
        deadline = agent_deadline(tenant_id, agent_id)
        await self.state.set_deadline(deadline, now_ms() + int(self.settings.agent_grace_s * 1000))
        if await self.state.socket_count("agent", agent_id) > 0:
            # A new connection of the agent's came in meanwhile (a page reload): it already
            # restored their status, which the suspension above has just undone.
            await self.state.cancel_deadline(deadline)
            if await self.state.agent_status(tenant_id, agent_id) == "online":
                await self.state.resume_agent(tenant_id, agent_id)
                await self.dispatch(tenant_id)
        await self.publish_presence(tenant_id, agent_id)
        await self.publish_queue(tenant_id)

    async def agent_present(self, tenant_id: str, agent_id: str, sid: str) -> None:
        """An agent's socket on this process, registered again after Redis lost its state:
        the status they last set here (else `away`), no grace deadline running, and each
        of their chats again with its transcript, which holds what the fan-out dropped
        while Redis was away (the console merges it into what it shows)."""
        await self.state.cancel_deadline(agent_deadline(tenant_id, agent_id))
        agent = await self.store.get_agent(agent_id)
        if agent is None:
            return
        await self.state.set_agent_status(
            tenant_id,
            agent_id,
            status=self.state.local_status.get(agent_id, "away"),
            max_chats=agent.max_chats,
            languages=agent.languages,
            now_ms=now_ms(),
        )
        await self.publish_presence(tenant_id, agent_id)
        for chat in await self.store.list_chats(agent_id=agent_id, statuses=("active",)):
            await self.emit(
                "chat_assigned", {"chat": await self.chat_wire(chat)}, to=sid, namespace=AGENT_NS
            )

    async def set_status(self, me: AgentSession, payload: schemas.SetStatusIn) -> dict[str, Any]:
        agent = await self.store.get_agent(me.agent_id)
        if agent is None:
            raise ProtocolError("unauthorized", "this agent no longer exists; log in again")
        await self.state.set_agent_status(
            me.tenant_id,
            me.agent_id,
            status=payload.status,
            max_chats=agent.max_chats,
            languages=agent.languages,
            now_ms=now_ms(),
        )
        if payload.status == "offline":
            await self.requeue_agent_chats(me.tenant_id, me.agent_id, reason="agent_left")
        await self.publish_presence(me.tenant_id, me.agent_id)
        await self.dispatch(me.tenant_id)
        await self.publish_queue(me.tenant_id)
        return {"ok": True, "status": payload.status}

    async def agent_message(
        self, me: AgentSession, payload: schemas.MessageIn, sid: str
    ) -> dict[str, Any]:
        def check(chat: Chat | None) -> None:
            self._agent_may_act(me, payload.chat_id, chat, own=True)
            assert chat is not None
            if chat.status != "active":
                raise ProtocolError(
                    "closed", f"this chat is {chat.status}; it takes no agent messages"
                )

        message, _ = await self._store_and_deliver(
            payload.chat_id,
            author="agent",
            text=payload.text,
            client_msg_id=payload.client_msg_id,
            author_name=me.name,
            agent_id=me.agent_id,
            sender_sid=sid,
            sender_ns=AGENT_NS,
            check=check,
        )
        return {"ok": True, "message": message.to_wire()}

    async def agent_sync(self, me: AgentSession, payload: schemas.SyncIn) -> dict[str, Any]:
        chat = await self._agent_chat(me, payload.chat_id, own=False)
        return await self._sync(chat, payload.after_id)

    async def close_chat(self, me: AgentSession, payload: schemas.CloseChatIn) -> dict[str, Any]:
        chat = await self._agent_chat(me, payload.chat_id, own=True)
        if chat.status not in OPEN_STATUSES:
            raise ProtocolError("closed", "this chat is closed already")
        await self.close(chat, reason="agent_closed", disposition=payload.disposition)
        return {"ok": True}

    async def agent_save_lead(
        self, me: AgentSession, payload: schemas.SaveLeadIn
    ) -> dict[str, Any]:
        chat = await self._agent_chat(me, payload.chat_id, own=True)
        tenant = await self.tenant(chat.tenant_id)
        lead = await self.save_lead(
            tenant, chat, payload.lead, source="agent", agent_id=me.agent_id
        )
        return {"ok": True, "lead": lead.to_wire()}

    async def save_lead(
        self, tenant: Tenant, chat: Chat, lead_in: LeadIn, *, source: str, agent_id: str | None
    ) -> Lead:
        """Stores the chat's lead (and its outbox rows), then tells the tenant's agents."""
        lead, queued = await self.store.leads.save(
            tenant, chat, lead_in, source=source, agent_id=agent_id
        )
        self.metrics.leads_saved.labels(source).inc()
        log.info(
            "lead_saved",
            lead_id=lead.id,
            source=source,
            qualified=lead.qualified,
            deliveries=[d.destination for d in queued],
        )
        if queued:
            await wake_outbox(self.state.redis)
        await self.emit(
            "lead_saved",
            {"chat_id": chat.id, "lead": lead.to_wire()},
            to=tenant_room(tenant.id),
            namespace=AGENT_NS,
        )
        return lead

    async def agent_typing(self, me: AgentSession, sid: str, payload: schemas.TypingIn) -> None:
        await self._offer_typing(
            sid, payload, author="agent", may=lambda chat: chat.agent_id == me.agent_id
        )

    async def transfer(self, me: AgentSession, payload: schemas.TransferIn) -> dict[str, Any]:
        chat = await self._agent_chat(me, payload.chat_id, own=True)
        if chat.status != "active" or chat.agent_id is None:
            raise ProtocolError(
                "conflict", f"only an active chat can be transferred; it is {chat.status}"
            )
        if (payload.agent_id is None) == (payload.language is None):
            raise ProtocolError("invalid_payload", "give either agent_id or language, not both")
        tenant = await self.tenant(me.tenant_id)
        from_agent = chat.agent_id
        if payload.agent_id is not None:
            return await self._transfer_to_agent(tenant, chat, from_agent, payload.agent_id)
        language = (payload.language or "").lower()
        if language not in tenant.languages:
            raise ProtocolError(
                "invalid_payload",
                f"language: this tenant serves {', '.join(tenant.languages)}",
            )
        if language != tenant.primary_language and tenant.plan != "premium":
            raise ProtocolError(
                "plan_required", "routing in other languages needs the premium plan"
            )
        moved = await self.store.requeue_chat(
            chat.id, language=language, priority=PRIORITY, from_agent=from_agent
        )
        if moved is None:
            raise ProtocolError("conflict", "the chat changed meanwhile; look at it again")
        await self.enqueue(
            moved,
            priority=True,
            arrival_ms=now_ms(),
            exclude_agent=from_agent,
            release_from=from_agent,
        )
        await self.emit(
            "chat_closed",
            {"chat_id": chat.id, "reason": "transferred"},
            to=agent_room(from_agent),
            namespace=AGENT_NS,
        )
        await self._system(moved, "transferred_queue")
        await self.dispatch(tenant.id)
        await self.publish_queue(tenant.id)
        await self.publish_presence(tenant.id, from_agent)
        return {"ok": True, "chat": {"id": chat.id, "status": "queued", "language": language}}

    async def _transfer_to_agent(
        self, tenant: Tenant, chat: Chat, from_agent: str, to_agent_id: str
    ) -> dict[str, Any]:
        target = await self.store.get_agent(to_agent_id)
        if target is None or target.tenant_id != tenant.id:
            raise ProtocolError("not_found", f"no agent {to_agent_id} in your tenant")
        if target.id == from_agent:
            raise ProtocolError("conflict", "the chat is already yours")
        outcome = await self.state.transfer(
            tenant.id, chat.id, from_agent=from_agent, to_agent=target.id, now_ms=now_ms()
        )
        if outcome == -1:
            raise ProtocolError("unavailable", f"{target.name} is not online")
        if outcome == 0:
            raise ProtocolError("conflict", f"{target.name} has no free chat slot")
        moved = await self.store.move_chat(chat.id, from_agent, target.id)
        if moved is None:
            await self.state.transfer(
                tenant.id, chat.id, from_agent=target.id, to_agent=from_agent, now_ms=now_ms()
            )
            raise ProtocolError("conflict", "the chat changed meanwhile; look at it again")
        await self.emit(
            "chat_closed",
            {"chat_id": chat.id, "reason": "transferred"},
            to=agent_room(from_agent),
            namespace=AGENT_NS,
        )
        await self._system(moved, "transferred_agent", name=target.name)
        await self._hand_over(moved, target.id, target.name, await self.chat_wire(moved))
        await self.publish_presence(tenant.id, from_agent)
        await self.dispatch(tenant.id)
        await self.publish_queue(tenant.id)
        return {"ok": True, "chat": {"id": chat.id, "status": "active", "agent_id": target.id}}

    # -- shared lifecycle ----------------------------------------------------------------

    async def close(
        self, chat: Chat, *, reason: str, disposition: str | None = None
    ) -> Chat | None:
        closed = await self.store.close_chat(chat.id, reason, disposition=disposition)
        if closed is None:
            return None
        self.metrics.chats_closed.labels(chat.tenant_id, reason).inc()
        log.info("chat_closed", tenant_id=chat.tenant_id, chat_id=chat.id, reason=reason)
        # `chat` may be stale (read before an assignment or a transfer): act on `closed`,
        # the chat as the close found it.
        chat = closed
        await self.state.dequeue(chat.tenant_id, chat.id)
        if chat.agent_id:
            await self.state.release(chat.tenant_id, chat.agent_id, chat.id, now_ms=now_ms())
        event = {"chat_id": chat.id, "reason": reason}
        await self.emit(
            "chat_closed", event, to=visitor_room(chat.visitor_id), namespace=VISITOR_NS
        )
        if chat.agent_id:
            await self.emit("chat_closed", event, to=agent_room(chat.agent_id), namespace=AGENT_NS)
            await self.publish_presence(chat.tenant_id, chat.agent_id)
        await self.dispatch(chat.tenant_id)
        await self.publish_queue(chat.tenant_id)
        await self._queue_chat_closed(chat, reason)
        return closed

    async def _queue_chat_closed(self, chat: Chat, reason: str) -> None:
        """The chat.closed webhooks (outbox rows); a failure here must not undo the close."""
        try:
            tenant = await self.cached_tenant(chat.tenant_id)
            if tenant is not None and await self.store.outbox.chat_closed(tenant, chat, reason):
                await wake_outbox(self.state.redis)
        except Exception:
            log.exception("chat_closed_event_failed", tenant_id=chat.tenant_id, chat_id=chat.id)

    async def requeue_agent_chats(self, tenant_id: str, agent_id: str, *, reason: str) -> int:
        """Put an agent's chats back at the front of their language queue."""
        count = 0
        for chat in await self.store.list_chats(agent_id=agent_id, statuses=("active",)):
            moved = await self.store.requeue_chat(
                chat.id, language=chat.language, priority=PRIORITY, from_agent=agent_id
            )
            if moved is None:
                continue
            await self.enqueue(moved, priority=True, release_from=agent_id)
            await self.emit(
                "chat_closed",
                {"chat_id": chat.id, "reason": "requeued"},
                to=agent_room(agent_id),
                namespace=AGENT_NS,
            )
            await self._system(moved, reason)
            count += 1
        log.info("agent_chats_requeued", tenant_id=tenant_id, agent_id=agent_id, count=count)
        return count

    async def cached_tenant(self, tenant_id: str) -> Tenant | None:
        """A tenant read at most TENANT_CACHE_S ago: for the sweep's frequent dispatches."""
        cached = self._tenants.get(tenant_id)
        now = time.monotonic()
        if cached and now - cached[0] < TENANT_CACHE_S:
            return cached[1]
        tenant = await self.store.get_tenant(tenant_id)
        if tenant is not None:
            self._tenants[tenant_id] = (now, tenant)
        return tenant

    async def dispatch(self, tenant_id: str) -> set[str]:
        """Give waiting chats to free agents; returns the ids of the chats assigned (by a run
        that began after this call, shared with whoever asked meanwhile)."""
        return await self._dispatches(tenant_id)

    async def _dispatch(self, tenant_id: str, _tell: frozenset[str]) -> set[str]:
        tenant = await self.cached_tenant(tenant_id)
        if tenant is None:
            return set()
        overflow_ms = (
            tenant.overflow_after_s * 1000
            if tenant.plan == "premium" and tenant.overflow_after_s is not None
            else 0
        )
        assigned: set[str] = set()
        per_agent: dict[str, list[Assignment]] = {}
        for item in await self.state.assign(
            tenant_id, now_ms=now_ms(), overflow_after_ms=overflow_ms
        ):
            per_agent.setdefault(item.agent_id, []).append(item)

        # Agents' assignments side by side (each is a few round trips to SQL and Redis), but
        # a few agents at a time: each takes up to four pooled connections at once (the
        # reads for chat_assigned), and a burst must leave the message writer some.
        side_by_side = asyncio.Semaphore(RECORDING_AGENTS)

        async def record(items: list[Assignment]) -> None:
            async with side_by_side:
                for item in items:  # one agent's chats in queue order
                    if await self._record_assignment(tenant_id, item):
                        assigned.add(item.chat_id)

        await asyncio.gather(*(record(items) for items in per_agent.values()))
        return assigned

    async def _record_assignment(self, tenant_id: str, item: Assignment) -> bool:
        """Record in SQL what Redis assigned, and tell the agent and the visitor."""
        try:
            chat = await self.store.assign_chat(
                item.chat_id, item.agent_id, overflowed=item.overflowed
            )
        except Exception:
            log.exception("assignment_failed", tenant_id=tenant_id, chat_id=item.chat_id)
            await self._undo_assignment(tenant_id, item.chat_id, item.agent_id)
            return False
        if chat is None:
            await self.state.release(tenant_id, item.agent_id, item.chat_id, now_ms=now_ms())
            return False
        await self._announce_assignment(chat, item.agent_id, overflowed=item.overflowed)
        return True

    async def _undo_assignment(self, tenant_id: str, chat_id: str, agent_id: str) -> None:
        """Redis gave the chat to the agent but SQL did not record it: give it back.

        If the store cannot even be read, the reconciler repairs it once the store is back.
        """
        with contextlib.suppress(Exception):
            await self.state.release(tenant_id, agent_id, chat_id, now_ms=now_ms())
            chat = await self.store.get_chat(chat_id)
            if chat is not None and chat.status == "queued":
                await self.enqueue(chat, priority=chat.priority > 0)

    async def _announce_assignment(self, chat: Chat, agent_id: str, *, overflowed: bool) -> None:
        self.metrics.chats_assigned.labels(chat.tenant_id).inc()
        log.info(
            "chat_assigned",
            tenant_id=chat.tenant_id,
            chat_id=chat.id,
            agent_id=agent_id,
            overflowed=overflowed,
        )
        if overflowed:
            await self._system(chat, "overflowed")
        agent, wire = await asyncio.gather(self.store.get_agent(agent_id), self.chat_wire(chat))
        await self._hand_over(chat, agent_id, agent.name if agent else "", wire)

    async def _hand_over(
        self, chat: Chat, agent_id: str, agent_name: str, wire: dict[str, Any]
    ) -> None:
        """The agent gets the chat with its history (`wire`: `chat_wire`); the visitor
        learns who joined."""
        await self.emit(
            "chat_assigned",
            {"chat": wire},
            to=agent_room(agent_id),
            namespace=AGENT_NS,
        )
        await self.emit(
            "agent_joined",
            {"chat_id": chat.id, "agent": {"name": agent_name}},
            to=visitor_room(chat.visitor_id),
            namespace=VISITOR_NS,
        )
        await self.publish_presence(chat.tenant_id, agent_id)

    async def publish_queue(
        self, tenant_id: str, *, only_to: str | None = None, tell: frozenset[str] = frozenset()
    ) -> None:
        """Tell the tenant's agents the whole queue, and each waiting visitor their place
        when it changed (or when their chat is in `tell`, e.g. after a reconnect).

        One at a time per tenant across processes: two publishers reading the queue a moment
        apart could otherwise send an older place last, and mark the newer one as sent. In a
        process, callers who ask while a publish runs share the next one."""
        if only_to is not None:
            await self._publish_queue(tenant_id, only_to=only_to, tell=tell)
            return
        await self._queue_publishes(tenant_id, tell)

    async def _publish_queue_locked(self, tenant_id: str, tell: frozenset[str]) -> None:
        lock = self.state.queue_lock(tenant_id)
        locked = await lock.acquire()  # False after a wait: publish anyway, from fresh state
        try:
            await self._publish_queue(tenant_id, only_to=None, tell=tell)
        finally:
            if locked:
                with contextlib.suppress(LockError):
                    await lock.release()

    async def _publish_queue(
        self, tenant_id: str, *, only_to: str | None, tell: frozenset[str]
    ) -> None:
        waiting = await self.state.waiting(tenant_id)
        self.metrics.queue_length.labels(tenant_id).set(len(waiting))
        presence = await self.state.presence(tenant_id)
        places = positions(
            waiting, presence, avg_handle_s=await self.avg_handle_s(tenant_id), now_ms=now_ms()
        )
        queue = {
            "waiting": [
                {
                    "chat_id": p.chat_id,
                    "language": p.language,
                    "waiting_s": p.waiting_s,
                    "position": p.position,
                }
                for p in places
            ]
        }
        if only_to is not None:
            await self.emit("queue", queue, to=only_to, namespace=AGENT_NS)
            return
        await self.emit("queue", queue, to=tenant_room(tenant_id), namespace=AGENT_NS)
        sent: dict[str, str] = {}
        for item, place in zip(waiting, places, strict=True):
            said = f"{place.position}:{place.estimated_wait_s}"
            if said == item.last_sent and item.chat_id not in tell:
                continue
            sent[item.chat_id] = said
            await self.emit(
                "queue_position",
                {
                    "chat_id": item.chat_id,
                    "position": place.position,
                    "estimated_wait_s": place.estimated_wait_s,
                },
                to=visitor_room(item.visitor_id),
                namespace=VISITOR_NS,
            )
        if sent:
            await self.state.mark_sent(tenant_id, sent)

    async def publish_presence(self, tenant_id: str, agent_id: str) -> None:
        for item in await self.state.presence(tenant_id, [agent_id]):
            await self.emit(
                "agent_status",
                {
                    "agent_id": item.agent_id,
                    "status": item.status,
                    "load": item.load,
                    "max_chats": item.max_chats,
                },
                to=tenant_room(tenant_id),
                namespace=AGENT_NS,
            )

    # -- background work -----------------------------------------------------------------

    async def sweep(self) -> int:
        """Act on grace periods that ran out; returns how many were handled.

        Then dispatch every tenant with waiting chats: a chat becomes eligible for overflow
        by waiting alone, with no event to trigger a dispatch.
        """
        handled = 0
        for member in await self.state.claim_due(now_ms()):
            kind, tenant_id, ident = member.split("|", 2)
            try:
                if kind == "chat":
                    await self._abandon(tenant_id, ident)
                elif kind == "agent":
                    await self._agent_gone(tenant_id, ident)
            except Exception:
                log.exception("deadline_failed", tenant_id=tenant_id, kind=kind)
                # Claiming removed it: arm it again, or the chats behind it wait forever.
                await self.state.set_deadline(member, now_ms() + int(DEADLINE_RETRY_S * 1000))
            handled += 1
        for tenant_id in await self.state.tenants_waiting():
            try:
                if await self.dispatch(tenant_id):
                    await self.publish_queue(tenant_id)
            except Exception:
                log.exception("dispatch_failed", tenant_id=tenant_id)
        return handled

    async def _abandon(self, tenant_id: str, chat_id: str) -> None:
        if await self.bots.left(chat_id):
            return
        chat = await self.store.abandon_chat(chat_id)
        if chat is None:
            return
        await self.state.dequeue(tenant_id, chat_id)
        self.metrics.chats_abandoned.labels(tenant_id).inc()
        log.info("chat_abandoned", tenant_id=tenant_id, chat_id=chat_id)
        await self.emit(
            "chat_closed",
            {"chat_id": chat_id, "reason": "abandoned"},
            to=visitor_room(chat.visitor_id),
            namespace=VISITOR_NS,
        )
        await self.publish_queue(tenant_id)
        await self._queue_chat_closed(chat, "abandoned")

    async def _agent_gone(self, tenant_id: str, agent_id: str) -> None:
        if await self.state.socket_count("agent", agent_id):
            return
        await self.state.mark_offline(tenant_id, agent_id)
        await self.requeue_agent_chats(tenant_id, agent_id, reason="agent_left")
        await self.publish_presence(tenant_id, agent_id)
        await self.dispatch(tenant_id)
        await self.publish_queue(tenant_id)

    async def reconcile(self) -> int:
        """Repair drift between SQL (the truth) and Redis that a failure left behind: a
        queued chat missing from the queue, an active chat missing from its agent's load,
        a load entry for a chat that is no longer the agent's. A drift is repaired only when
        two passes in a row see it, since an assignment in progress is inconsistent for
        milliseconds, never for a whole pass. Returns how many repairs were made."""
        seen: set[tuple[str, str, str]] = set()
        open_chats = await self.store.list_chats(statuses=("queued", "active"))
        by_id = {chat.id: chat for chat in open_chats}
        # Every agent's load in one scan, read after the chats (as each read was before),
        # not a round trip per active chat reading its agent's whole load: at a thousand
        # open chats, a thousand round trips in every process every pass.
        loads = await self.state.loads()
        load_of = dict(loads)
        for chat in open_chats:
            if chat.status == "queued" and not await self.state.is_waiting(chat.tenant_id, chat.id):
                holders = await self.state.holders(chat.tenant_id, chat.id)
                seen.add(("requeue", chat.id, ",".join(sorted(holders))))
            elif (
                chat.status == "active"
                and chat.agent_id
                and chat.id not in load_of.get(f"{chat.tenant_id}|{chat.agent_id}", set())
            ):
                seen.add(("hold", chat.id, chat.agent_id))
        for owner, chat_ids in loads:
            agent_id = owner.split("|", 1)[1]
            for chat_id in chat_ids:
                held = by_id.get(chat_id)
                if held is None or held.status != "active" or held.agent_id != agent_id:
                    seen.add(("release", chat_id, owner))
        confirmed, self._drift = seen & self._drift, seen
        for kind, chat_id, extra in confirmed:
            log.warning("routing_drift_repaired", kind=kind, chat_id=chat_id)
            if kind == "release":
                tenant_id, agent_id = extra.split("|")
                await self.state.release(tenant_id, agent_id, chat_id, now_ms=now_ms())
                continue
            chat = by_id[chat_id]
            if kind == "hold" and chat.agent_id:
                await self.state.hold(chat.tenant_id, chat.agent_id, chat.id)
            elif kind == "requeue":
                for holder in filter(None, extra.split(",")):
                    await self.state.release(chat.tenant_id, holder, chat.id, now_ms=now_ms())
                await self.enqueue(chat, priority=chat.priority > 0)
        requeued = {by_id[chat_id].tenant_id for kind, chat_id, _ in confirmed if kind == "requeue"}
        for tenant_id in requeued:
            await self.dispatch(tenant_id)
            await self.publish_queue(tenant_id)
        return len(confirmed)

    async def rebuild(self) -> None:
        """Restore routing state from SQL after Redis started empty."""
        await self.state.reset()
        grace_agent = now_ms() + int(self.settings.agent_grace_s * 1000)
        grace_visitor = now_ms() + int(self.settings.visitor_grace_s * 1000)
        for chat in await self.store.list_chats(statuses=("queued", "active")):
            if chat.status == "queued":
                await self.enqueue(chat, priority=chat.priority > 0)
                await self.state.set_deadline(chat_deadline(chat.tenant_id, chat.id), grace_visitor)
            elif chat.agent_id:
                await self.state.hold(chat.tenant_id, chat.agent_id, chat.id)
                await self.state.set_deadline(
                    agent_deadline(chat.tenant_id, chat.agent_id), grace_agent
                )
        log.info("routing_state_rebuilt")


async def run_periodically(interval_s: float, work: Callable[[], Awaitable[object]]) -> None:
    """Run `work` every interval until cancelled; one failure never stops the loop."""
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("periodic_work_failed")
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            log.warning("periodic_work_swallowed_cancel", work=getattr(work, "__qualname__", ""))
            raise asyncio.CancelledError  # `work` swallowed it (seen in redis-py calls)
        await asyncio.sleep(interval_s)
