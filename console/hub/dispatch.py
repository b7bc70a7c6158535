"""Assignment and the queue's publication: waiting chats go to free agents (one Lua script
in Redis decides, SQL records), the team sees the queue and presence, and each waiting
visitor sees their place and estimated wait.

`dispatch` and `publish_queue` run after every start, close, transfer and status change;
callers who ask while a run is in progress share the next one (console/routing/coalesce.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.exceptions import LockError

from console.contract.plans import overflow_after_ms
from console.domain.clock import epoch_ms
from console.domain.types import Chat
from console.hub.context import HubContext, chat_log
from console.hub.conversation import Conversation
from console.realtime.rooms import AGENT_NS, VISITOR_NS, agent_room, tenant_room, visitor_room
from console.routing.coalesce import Coalesced
from console.routing.estimate import positions
from console.routing.state import Assignment

log = structlog.get_logger("charla.hub")

RECORD_BATCH = 100  # a dispatch run's chats recorded (and their histories read) at once


@dataclass(eq=False)
class Dispatcher:
    ctx: HubContext
    conversation: Conversation
    _dispatches: Coalesced[set[str]] = field(init=False)
    _queue_publishes: Coalesced[None] = field(init=False)

    def __post_init__(self) -> None:
        self._dispatches = Coalesced(self._dispatch)
        self._queue_publishes = Coalesced(self._publish_queue_locked)

    async def enqueue(
        self,
        chat: Chat,
        *,
        arrival_ms: int | None = None,
        exclude_agent: str | None = None,
        release_from: str | None = None,
    ) -> None:
        """Put a chat in its language queue, ahead of the rest when it has priority
        (transfers, returning visitors, requeued chats); by default it keeps its first
        arrival time."""
        if arrival_ms is None:
            arrival_ms = epoch_ms(chat.queued_at or chat.created_at)
        await self.ctx.state.enqueue(
            chat.tenant_id,
            chat.id,
            visitor_id=chat.visitor_id,
            language=chat.language,
            arrival_ms=arrival_ms,
            priority=chat.priority > 0,
            now_ms=self.ctx.now_ms(),
            exclude_agent=exclude_agent,
            release_from=release_from,
        )

    async def dispatch(self, tenant_id: str) -> set[str]:
        """Give waiting chats to free agents; returns the ids of the chats assigned (by a run
        that began after this call, shared with whoever asked meanwhile)."""
        return await self._dispatches(tenant_id)

    async def settle(self, tenant_id: str) -> set[str]:
        """Dispatch, then publish the queue as it is afterwards: what every change does."""
        assigned = await self.dispatch(tenant_id)
        await self.publish_queue(tenant_id)
        return assigned

    async def _dispatch(self, tenant_id: str, _tell: frozenset[str]) -> set[str]:
        tenant = await self.ctx.cached_tenant(tenant_id)
        if tenant is None:
            return set()
        given = await self.ctx.state.assign(
            tenant_id, now_ms=self.ctx.now_ms(), overflow_after_ms=overflow_after_ms(tenant)
        )
        assigned: set[str] = set()
        for start in range(0, len(given), RECORD_BATCH):
            assigned |= await self._record(tenant_id, given[start : start + RECORD_BATCH])
        return assigned

    async def _record(self, tenant_id: str, items: list[Assignment]) -> set[str]:
        """Record in SQL what Redis assigned, then tell each agent and visitor, and the team
        each agent's new load once. A burst of starts gives a run many chats: they are
        recorded in one transaction and their histories read in one query of each kind, not
        a transaction and four reads per chat."""
        ctx = self.ctx
        try:
            chats = await ctx.store.assign_chats(
                [(item.chat_id, item.agent_id, item.overflowed) for item in items]
            )
        except Exception:
            log.exception("assignment_failed", tenant_id=tenant_id, chats=len(items))
            for item in items:
                await self._undo_assignment(tenant_id, item.chat_id, item.agent_id)
            return set()
        recorded: list[Chat] = []
        for item in items:
            chat = chats.get(item.chat_id)
            if chat is None:  # closed while it waited: Redis gives the slot back
                await ctx.state.release(tenant_id, item.agent_id, item.chat_id, now_ms=ctx.now_ms())
                continue
            recorded.append(chat)
            self._count(chat, item)
            if item.overflowed:  # a note in the history the agent receives
                await self.conversation.system(chat, "overflowed")
        if not recorded:
            return set()
        agent_ids = sorted({item.agent_id for item in items if item.chat_id in chats})
        wires, agents = await asyncio.gather(
            self.conversation.chat_wires(tenant_id, recorded),
            asyncio.gather(*(ctx.store.get_agent(agent_id) for agent_id in agent_ids)),
        )
        names = {a: agent.name if agent else "" for a, agent in zip(agent_ids, agents, strict=True)}
        for chat in recorded:
            assert chat.agent_id is not None  # assign_chats set it
            await self.hand_over(
                chat, chat.agent_id, names[chat.agent_id], wires[chat.id], presence=False
            )
        for agent_id in agent_ids:
            await self.publish_presence(tenant_id, agent_id)
        return {chat.id for chat in recorded}

    async def _undo_assignment(self, tenant_id: str, chat_id: str, agent_id: str) -> None:
        """Redis gave the chat to the agent but SQL did not record it: give it back.

        If the store cannot even be read, the reconciler repairs it once the store is back.
        """
        ctx = self.ctx
        with contextlib.suppress(Exception):
            await ctx.state.release(tenant_id, agent_id, chat_id, now_ms=ctx.now_ms())
            chat = await ctx.store.get_chat(chat_id)
            if chat is not None and chat.status == "queued":
                await self.enqueue(chat)

    def _count(self, chat: Chat, item: Assignment) -> None:
        self.ctx.metrics.chats_assigned.labels(chat.tenant_id).inc()
        if chat.queued_at is not None and chat.assigned_at is not None:
            waited = (chat.assigned_at - chat.queued_at).total_seconds()
            self.ctx.metrics.queue_wait.observe(max(0.0, waited))
        chat_log(chat).info("chat_assigned", agent_id=item.agent_id, overflowed=item.overflowed)

    async def hand_over(
        self,
        chat: Chat,
        agent_id: str,
        agent_name: str,
        wire: dict[str, Any],
        *,
        presence: bool = True,
    ) -> None:
        """The agent gets the chat with its history (`wire`: `chat_wire`); the visitor
        learns who joined; and (unless the caller does it later) the team the agent's load."""
        await self.ctx.emit(
            "chat_assigned", {"chat": wire}, to=agent_room(agent_id), namespace=AGENT_NS
        )
        await self.ctx.emit(
            "agent_joined",
            {"chat_id": chat.id, "agent": {"name": agent_name}},
            to=visitor_room(chat.visitor_id),
            namespace=VISITOR_NS,
        )
        if presence:
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
        lock = self.ctx.state.queue_lock(tenant_id)
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
        ctx = self.ctx
        waiting = await ctx.state.waiting(tenant_id)
        ctx.metrics.queue_length.labels(tenant_id).set(len(waiting))
        presence = await ctx.state.presence(tenant_id)
        places = positions(
            waiting,
            presence,
            avg_handle_s=await ctx.avg_handle_s(tenant_id),
            now_ms=ctx.now_ms(),
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
            await ctx.emit("queue", queue, to=only_to, namespace=AGENT_NS)
            return
        await ctx.emit("queue", queue, to=tenant_room(tenant_id), namespace=AGENT_NS)
        sent: dict[str, str] = {}
        for item, place in zip(waiting, places, strict=True):
            said = f"{place.position}:{place.estimated_wait_s}"
            if said == item.last_sent and item.chat_id not in tell:
                continue
            sent[item.chat_id] = said
            await ctx.emit(
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
            await ctx.state.mark_sent(tenant_id, sent)

    async def publish_presence(self, tenant_id: str, agent_id: str) -> None:
        """The agent's status and load, to their whole team."""
        for item in await self.ctx.state.presence(tenant_id, [agent_id]):
            await self.ctx.emit(
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
