"""What a supervisor does to the floor (PROTOCOL 1.2, "Supervision"): hand a chat to an
agent (`assign`), join a chat to coach its agent unseen (`whisper`) or to speak to the
visitor (`visible`), and `leave`; and the one gate every agent message passes, so that a
whisper never reaches the visitor and a supervisor who joined to whisper never speaks to
the visitor by mistake.

Who joined which chat is Redis state (`charla:watch:<chat_id>`, supervisor -> mode), so any
hub process can check a whisper; the joined socket itself hears the chat through the room
`watch:<chat_id>` (console/realtime/rooms.py), which the `/agent` namespace enters; a join
ends with `leave`, or by itself after WATCH_TTL_S.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.domain.errors import ProtocolError
from console.domain.types import Agent, Chat
from console.hub.agents import AgentActions, AgentSession, may_act
from console.hub.chats import ChatLifecycle
from console.hub.context import HubContext
from console.hub.conversation import Conversation
from console.hub.dispatch import Dispatcher
from console.realtime import schemas
from console.realtime.rooms import VISITOR_NS, visitor_room
from console.store.repository import OPEN_STATUSES

WATCH_TTL_S = 12 * 3600  # a join a supervisor never left (a closed tab) ends by itself


def watch_key(chat_id: str) -> str:
    return f"charla:watch:{chat_id}"


def supervisor_only(me: AgentSession, action: str) -> None:
    if not me.supervises:
        raise ProtocolError("forbidden", f"only supervisors and admins may {action}")


@dataclass(eq=False)
class Supervision:
    ctx: HubContext
    conversation: Conversation
    dispatcher: Dispatcher
    chats: ChatLifecycle
    agents: AgentActions

    # -- joined chats --------------------------------------------------------------------

    async def watchers(self, chat_id: str) -> dict[str, str]:
        """The supervisors who joined the chat, with their mode."""
        raw = await self.ctx.state.redis.hgetall(watch_key(chat_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def join(self, me: AgentSession, payload: schemas.JoinIn) -> dict[str, Any]:
        supervisor_only(me, "join a chat")
        chat = await self._chat(me, payload.chat_id)
        if chat.status not in OPEN_STATUSES:
            raise ProtocolError("closed", "this chat is closed; read it in History")
        redis = self.ctx.state.redis
        async with redis.pipeline(transaction=True) as pipe:
            pipe.hset(watch_key(chat.id), me.agent_id, payload.mode)
            pipe.expire(watch_key(chat.id), WATCH_TTL_S)
            await pipe.execute()
        if payload.mode == "visible":
            await self.ctx.emit(
                "agent_joined",
                {"chat_id": chat.id, "agent": {"name": me.name}},
                to=visitor_room(chat.visitor_id),
                namespace=VISITOR_NS,
            )
        return {"ok": True, "chat": await self.conversation.chat_wire(chat)}

    async def leave(self, me: AgentSession, payload: schemas.ChatRef) -> dict[str, Any]:
        supervisor_only(me, "leave a chat")
        await self._chat(me, payload.chat_id)
        await self.ctx.state.redis.hdel(watch_key(payload.chat_id), me.agent_id)
        return {"ok": True}

    async def message(
        self, me: AgentSession, payload: schemas.AgentMessageIn, sid: str
    ) -> dict[str, Any]:
        """Every agent message goes through here: a whisper only where a supervisor has
        joined; a supervisor who joined to whisper writes whispers only."""
        if payload.whisper:
            await self.agents.chat(me, payload.chat_id, own=True)
            if not await self.watchers(payload.chat_id):
                raise ProtocolError(
                    "conflict", "no supervisor has joined this chat: a whisper has nobody to hear"
                )
        elif me.supervises and (await self.watchers(payload.chat_id)).get(me.agent_id) == (
            "whisper"
        ):
            raise ProtocolError(
                "conflict",
                "you joined this chat to whisper: send with whisper true, or join it visibly",
            )
        return await self.agents.message(me, payload, sid, whisper=payload.whisper)

    # -- assignment by hand --------------------------------------------------------------

    async def assign(self, me: AgentSession, payload: schemas.AssignIn) -> dict[str, Any]:
        supervisor_only(me, "assign chats")
        ctx = self.ctx
        chat = await self._chat(me, payload.chat_id)
        target = await ctx.store.get_agent(payload.agent_id)
        why = refusal(chat, target, me.tenant_id)
        if why:
            raise ProtocolError("conflict", why)
        assert target is not None
        from_agent = chat.agent_id if chat.status == "active" else None
        outcome = await ctx.state.hand(
            chat.tenant_id, chat.id, from_agent=from_agent, to_agent=target.id, now_ms=ctx.now_ms()
        )
        if outcome == -1:
            raise ProtocolError("conflict", f"{target.name} is offline")
        if outcome == 0:
            raise ProtocolError("conflict", f"{target.name} has no free chat slot")
        if outcome == -2:
            raise ProtocolError("conflict", "the chat is no longer waiting; look at it again")
        if from_agent is None:
            moved = await ctx.store.assign_chat(chat.id, target.id, overflowed=False)
        else:
            moved = await ctx.store.move_chat(chat.id, from_agent, target.id)
        if moved is None:
            await self._undo(chat, target.id)
            raise ProtocolError("conflict", "the chat changed meanwhile; look at it again")
        if from_agent is not None:
            await self.chats.left_agent(chat.id, from_agent, "transferred")
            await self.conversation.system(moved, "transferred_agent", name=target.name)
            await self.dispatcher.publish_presence(chat.tenant_id, from_agent)
        wire = await self.conversation.chat_wire(moved)
        await self.dispatcher.hand_over(moved, target.id, target.name, wire)
        await self.dispatcher.settle(chat.tenant_id)
        return {"ok": True}

    async def _undo(self, chat: Chat, target_id: str) -> None:
        """Redis moved the chat but SQL did not: put Redis back as SQL has it."""
        ctx = self.ctx
        await ctx.state.release(chat.tenant_id, target_id, chat.id, now_ms=ctx.now_ms())
        current = await ctx.store.get_chat(chat.id)
        if current is None:
            return
        if current.status == "queued":
            await self.dispatcher.enqueue(current)
        elif current.status == "active" and current.agent_id:
            await ctx.state.hold(chat.tenant_id, current.agent_id, chat.id)

    async def _chat(self, me: AgentSession, chat_id: str) -> Chat:
        return may_act(me, chat_id, await self.ctx.store.get_chat(chat_id), own=False)


def refusal(chat: Chat, target: Agent | None, tenant_id: str) -> str | None:
    """Why a chat cannot be handed to this agent (None when it can, as far as SQL knows;
    routing state decides presence and capacity)."""
    if target is None or target.tenant_id != tenant_id or not target.active:
        return "no such agent in your tenant"
    if chat.status not in ("queued", "active"):
        return f"only a queued or active chat can be assigned; it is {chat.status}"
    if chat.agent_id == target.id:
        return f"the chat is {target.name}'s already"
    if chat.language not in target.languages:
        return f"{target.name} does not speak {chat.language}"
    return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
