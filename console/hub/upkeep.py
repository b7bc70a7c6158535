"""Background upkeep of the hub: grace periods that ran out, dispatches that waiting alone
makes due (overflow), repair of drift between SQL (the truth) and Redis, and the rebuild of
routing state after Redis restarted empty."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from console.domain.types import Chat
from console.hub.agents import AgentActions, agent_deadline
from console.hub.bots import BotRunner
from console.hub.chats import ChatLifecycle
from console.hub.context import HubContext, chat_log
from console.hub.dispatch import Dispatcher
from console.hub.visitors import chat_deadline
from console.realtime.rooms import VISITOR_NS, visitor_room

log = structlog.get_logger("charla.hub")


@dataclass(eq=False)
class Upkeep:
    ctx: HubContext
    dispatcher: Dispatcher
    chats: ChatLifecycle
    agents: AgentActions
    bots: BotRunner
    # a grace deadline whose handling failed (the store was down) is tried again this late
    deadline_retry_s: float = 5.0
    # drift seen on the last reconcile pass: repaired when the next pass sees it again
    _drift: set[tuple[str, str, str]] = field(default_factory=set)

    async def sweep(self) -> int:
        """Act on grace periods that ran out; returns how many were handled.

        Then dispatch every tenant with waiting chats: a chat becomes eligible for overflow
        by waiting alone, with no event to trigger a dispatch.
        """
        ctx = self.ctx
        handled = 0
        for member in await ctx.state.claim_due(ctx.now_ms()):
            kind, tenant_id, ident = member.split("|", 2)
            try:
                if kind == "chat":
                    await self._abandon(tenant_id, ident)
                elif kind == "agent":
                    await self.agents.gone(tenant_id, ident)
            except Exception:
                log.exception("deadline_failed", tenant_id=tenant_id, kind=kind)
                # Claiming removed it: arm it again, or the chats behind it wait forever.
                await ctx.state.set_deadline(member, ctx.ms_from_now(self.deadline_retry_s))
            handled += 1
        for tenant_id in await ctx.state.tenants_waiting():
            try:
                if await self.dispatcher.dispatch(tenant_id):
                    await self.dispatcher.publish_queue(tenant_id)
            except Exception:
                log.exception("dispatch_failed", tenant_id=tenant_id)
        return handled

    async def _abandon(self, tenant_id: str, chat_id: str) -> None:
        """A queued visitor did not come back in time (a bot chat: the bot keeps its lead)."""
        if await self.bots.left(chat_id):
            return
        ctx = self.ctx
        chat = await ctx.store.abandon_chat(chat_id)
        if chat is None:
            return
        await ctx.state.dequeue(tenant_id, chat_id)
        ctx.metrics.chats_abandoned.labels(tenant_id).inc()
        chat_log(chat).info("chat_abandoned")
        await ctx.emit(
            "chat_closed",
            {"chat_id": chat_id, "reason": "abandoned"},
            to=visitor_room(chat.visitor_id),
            namespace=VISITOR_NS,
        )
        await self.dispatcher.publish_queue(tenant_id)
        await self.chats.chat_closed_events(chat, "abandoned")

    async def reconcile(self) -> int:
        """Repair drift between SQL (the truth) and Redis that a failure left behind: a
        queued chat missing from the queue, an active chat missing from its agent's load,
        a load entry for a chat that is no longer the agent's. A drift is repaired only when
        two passes in a row see it, since an assignment in progress is inconsistent for
        milliseconds, never for a whole pass. Returns how many repairs were made."""
        state = self.ctx.state
        seen: set[tuple[str, str, str]] = set()
        open_chats = await self.ctx.store.list_chats(statuses=("queued", "active"))
        by_id = {chat.id: chat for chat in open_chats}
        # Every agent's load in one scan, and every queued chat's place in the queue, read
        # after the chats in pipelined round trips (a few for thousands of chats), not one
        # or more per open chat, in every process every pass
        # (tests/test_reconcile_batched.py counts them).
        loads = await state.loads()
        load_of = dict(loads)
        queued = [(chat.tenant_id, chat.id) for chat in open_chats if chat.status == "queued"]
        waiting = await state.waiting_among(queued)
        for chat in open_chats:
            if chat.status == "queued" and chat.id not in waiting:
                holders = [
                    owner.split("|", 1)[1]
                    for owner, chat_ids in loads
                    if chat.id in chat_ids and owner.startswith(f"{chat.tenant_id}|")
                ]
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
        await self._repair(confirmed, by_id)
        return len(confirmed)

    async def _repair(self, confirmed: set[tuple[str, str, str]], by_id: dict[str, Chat]) -> None:
        state = self.ctx.state
        now_ms = self.ctx.now_ms()
        for kind, chat_id, extra in confirmed:
            log.warning("routing_drift_repaired", kind=kind, chat_id=chat_id)
            if kind == "release":
                tenant_id, agent_id = extra.split("|")
                await state.release(tenant_id, agent_id, chat_id, now_ms=now_ms)
                continue
            chat = by_id[chat_id]
            if kind == "hold" and chat.agent_id:
                await state.hold(chat.tenant_id, chat.agent_id, chat.id)
            elif kind == "requeue":
                for holder in filter(None, extra.split(",")):
                    await state.release(chat.tenant_id, holder, chat.id, now_ms=now_ms)
                await self.dispatcher.enqueue(chat)
        requeued = {by_id[chat_id].tenant_id for kind, chat_id, _ in confirmed if kind == "requeue"}
        for tenant_id in requeued:
            await self.dispatcher.settle(tenant_id)

    async def rebuild(self) -> None:
        """Restore routing state from SQL after Redis started empty."""
        ctx = self.ctx
        await ctx.state.reset()
        grace_agent = ctx.ms_from_now(ctx.settings.agent_grace_s)
        grace_visitor = ctx.ms_from_now(ctx.settings.visitor_grace_s)
        for chat in await ctx.store.list_chats(statuses=("queued", "active")):
            if chat.status == "queued":
                await self.dispatcher.enqueue(chat)
                await ctx.state.set_deadline(chat_deadline(chat.tenant_id, chat.id), grace_visitor)
            elif chat.agent_id:
                await ctx.state.hold(chat.tenant_id, chat.agent_id, chat.id)
                await ctx.state.set_deadline(
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
