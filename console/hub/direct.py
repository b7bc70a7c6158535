"""A chat that goes straight to one agent (a personal invitation's, PROTOCOL 1.2): queued,
then handed to that agent at once if they are online with a free slot; otherwise it waits
for whoever is free, like any other chat."""

from __future__ import annotations

import structlog

from console.domain.types import Chat
from console.hub.context import chat_log
from console.hub.dispatch import Dispatcher

log = structlog.get_logger("charla.hub")


async def queue_for_agent(dispatcher: Dispatcher, chat: Chat, agent_id: str) -> set[str]:
    """Returns the ids of the chats assigned, as `ChatLifecycle.queue` does."""
    ctx = dispatcher.ctx
    await dispatcher.enqueue(chat)
    found = await ctx.state.presence(chat.tenant_id, [agent_id])
    if found and found[0].status == "online" and found[0].load < found[0].max_chats:
        outcome = await ctx.state.hand(
            chat.tenant_id, chat.id, from_agent=None, to_agent=agent_id, now_ms=ctx.now_ms()
        )
        if outcome == 1:
            moved = await _record(dispatcher, chat, agent_id)
            if moved is not None:
                agent = await ctx.store.get_agent(agent_id)
                wire = await dispatcher.conversation.chat_wire(moved)
                await dispatcher.hand_over(moved, agent_id, agent.name if agent else "", wire)
                chat_log(moved).info("chat_assigned", agent_id=agent_id, invited=True)
                await dispatcher.settle(chat.tenant_id)
                return {chat.id}
    return await dispatcher.settle(chat.tenant_id)


async def _record(dispatcher: Dispatcher, chat: Chat, agent_id: str) -> Chat | None:
    """SQL records what Redis did; if it cannot, Redis is put back and the chat waits."""
    ctx = dispatcher.ctx
    moved = None
    try:
        moved = await ctx.store.assign_chat(chat.id, agent_id, overflowed=False)
    except Exception:
        log.exception("assignment_failed", tenant_id=chat.tenant_id, chat_id=chat.id)
    if moved is None:
        await ctx.state.release(chat.tenant_id, agent_id, chat.id, now_ms=ctx.now_ms())
        current = await ctx.store.get_chat(chat.id)
        if current is not None and current.status == "queued":
            await dispatcher.enqueue(current)
    return moved
