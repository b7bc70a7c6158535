"""What an agent does: connect and leave (with a grace period that keeps their chats), set
a status, write, sync, close, save a lead, type and transfer; and what a tenant admin's
change to an agent means for routing. The `/agent` namespace and the team API call here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any

from console.contract.plans import allows
from console.domain.errors import ProtocolError
from console.domain.types import SUPERVISING, Agent, Chat, Message, Tenant
from console.hub.chats import PRIORITY, ChatLifecycle
from console.hub.conversation import Sender
from console.hub.dispatch import Dispatcher
from console.hub.sockets import SocketSide
from console.realtime import schemas
from console.realtime.rooms import AGENT_NS
from console.store.repository import OPEN_STATUSES

# Disconnects every socket of an agent (the realtime layer's; handed in by the app factory)
# closes an agent's sockets: those on this process, and the given sids wherever they are
Disconnect = Callable[[str, Collection[str]], Awaitable[None]]


@dataclass(frozen=True)
class AgentSession:
    agent_id: str
    tenant_id: str
    role: str
    name: str

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISING


def agent_deadline(tenant_id: str, agent_id: str) -> str:
    """The grace deadline of an agent whose last connection dropped."""
    return f"agent|{tenant_id}|{agent_id}"


def may_act(me: AgentSession, chat_id: str, chat: Chat | None, *, own: bool) -> Chat:
    """A chat of the agent's tenant; with `own`, one this agent may act on (theirs, or any
    for a supervisor)."""
    if chat is None or chat.tenant_id != me.tenant_id:
        raise ProtocolError("not_found", f"no chat {chat_id} in your tenant")
    if own and chat.agent_id != me.agent_id and not me.supervises:
        raise ProtocolError("forbidden", "this chat is assigned to another agent")
    return chat


def may_write(me: AgentSession, chat_id: str, chat: Chat | None) -> None:
    """Refuses unless the agent may write in the chat now: theirs (or any, for a
    supervisor), and active."""
    status = may_act(me, chat_id, chat, own=True).status
    if status != "active":
        raise ProtocolError("closed", f"this chat is {status}; it takes no agent messages")


@dataclass(eq=False)
class AgentActions(SocketSide):
    dispatcher: Dispatcher
    chats: ChatLifecycle
    disconnect: Disconnect
    kind = "agent"

    # -- connections ---------------------------------------------------------------------

    async def connected(self, agent: Agent, sid: str) -> None:
        await self.opened(agent.tenant_id, agent.id, sid, lambda: self._back(agent, sid))

    async def _back(self, agent: Agent, sid: str) -> None:
        state = self.ctx.state
        await state.cancel_deadline(agent_deadline(agent.tenant_id, agent.id))
        remembered = await state.agent_status(agent.tenant_id, agent.id)
        if remembered == "online":
            await self._route_as(agent, "online")
        await self._resend_chats(agent.id, sid)
        await self.dispatcher.publish_queue(agent.tenant_id, only_to=sid)
        if remembered == "online":
            await self.dispatcher.settle(agent.tenant_id)

    async def _resend_chats(self, agent_id: str, sid: str) -> None:
        """Each of the agent's chats again, with its transcript, to one connection."""
        for chat in await self.ctx.store.list_chats(agent_id=agent_id, statuses=("active",)):
            await self.ctx.emit(
                "chat_assigned",
                {"chat": await self.conversation.chat_wire(chat)},
                to=sid,
                namespace=AGENT_NS,
            )

    async def _route_as(self, agent: Agent, status: str) -> None:
        """Tell routing the agent's status, languages and capacity as they are now."""
        await self.ctx.state.set_agent_status(
            agent.tenant_id,
            agent.id,
            status=status,
            max_chats=agent.max_chats,
            languages=agent.languages,
            now_ms=self.ctx.now_ms(),
        )

    async def last_socket_gone(self, tenant_id: str, agent_id: str) -> None:
        ctx = self.ctx
        state = ctx.state
        await state.suspend_agent(tenant_id, agent_id)
        deadline = agent_deadline(tenant_id, agent_id)
        await state.set_deadline(deadline, ctx.ms_from_now(ctx.settings.agent_grace_s))
        if await state.socket_count("agent", agent_id) > 0:
            # A new connection of the agent's came in meanwhile (a page reload): it already
            # restored their status, which the suspension above has just undone.
            await state.cancel_deadline(deadline)
            if await state.agent_status(tenant_id, agent_id) == "online":
                await state.resume_agent(tenant_id, agent_id)
                await self.dispatcher.dispatch(tenant_id)
        await self.dispatcher.publish_presence(tenant_id, agent_id)
        await self.dispatcher.publish_queue(tenant_id)

    async def present(self, tenant_id: str, agent_id: str, sid: str) -> None:
        """An agent's socket on this process, registered again after Redis lost its state:
        the status they last set here (else `away`), no grace deadline running, and each
        of their chats again with its transcript, which holds what the fan-out dropped
        while Redis was away (the console merges it into what it shows)."""
        state = self.ctx.state
        await state.cancel_deadline(agent_deadline(tenant_id, agent_id))
        agent = await self.ctx.store.get_agent(agent_id)
        if agent is None:
            return
        await self._route_as(agent, state.local_status.get(agent_id, "away"))
        await self.dispatcher.publish_presence(tenant_id, agent_id)
        await self._resend_chats(agent_id, sid)

    async def gone(self, tenant_id: str, agent_id: str) -> None:
        """The agent's grace period ran out with no connection back: their chats requeue."""
        state = self.ctx.state
        if await state.socket_count("agent", agent_id):
            return
        await state.mark_offline(tenant_id, agent_id)
        await self.ctx.store.reports.record_presence(tenant_id, agent_id, "offline")
        await self.chats.requeue_agent_chats(tenant_id, agent_id, reason="agent_left")
        await self.dispatcher.publish_presence(tenant_id, agent_id)
        await self.dispatcher.settle(tenant_id)

    # -- status, and an admin's changes --------------------------------------------------

    async def set_status(self, me: AgentSession, payload: schemas.SetStatusIn) -> dict[str, Any]:
        agent = await self.ctx.store.get_agent(me.agent_id)
        if agent is None:
            raise ProtocolError("unauthorized", "this agent no longer exists; log in again")
        await self._change_status(agent, payload.status)
        return {"ok": True, "status": payload.status}

    async def _change_status(self, agent: Agent, status: str) -> None:
        await self._route_as(agent, status)
        await self.ctx.store.reports.record_presence(agent.tenant_id, agent.id, status)
        if status == "offline":
            await self.chats.requeue_agent_chats(agent.tenant_id, agent.id, reason="agent_left")
        await self.dispatcher.publish_presence(agent.tenant_id, agent.id)
        await self.dispatcher.settle(agent.tenant_id)

    async def changed(self, agent: Agent) -> None:
        """An admin changed the agent's languages, capacity or role: routing reads them
        from Redis, so an online agent's new ones apply now."""
        if await self.ctx.state.agent_status(agent.tenant_id, agent.id) == "online":
            await self._route_as(agent, "online")
            await self.dispatcher.settle(agent.tenant_id)
        await self.dispatcher.publish_presence(agent.tenant_id, agent.id)

    async def deactivated(self, agent: Agent) -> None:
        """The agent can no longer log in: offline (their chats requeued), disconnected
        on every process (the routing state knows each of their sockets)."""
        await self._change_status(agent, "offline")
        await self.disconnect(agent.id, await self.ctx.state.sockets_of("agent", agent.id))

    # -- chats ---------------------------------------------------------------------------

    async def chat(self, me: AgentSession, chat_id: str, *, own: bool) -> Chat:
        """A chat of the agent's tenant; with `own`, one this agent may act on."""
        return may_act(me, chat_id, await self.ctx.store.get_chat(chat_id), own=own)

    async def message(
        self, me: AgentSession, payload: schemas.MessageIn, sid: str, *, whisper: bool = False
    ) -> dict[str, Any]:
        """An agent's (or a supervisor's) message; a whisper only after the checks of
        console/hub/supervision.py, which calls this."""

        message, _ = await self.conversation.store_and_deliver(
            payload.chat_id,
            author="agent",
            text=payload.text,
            client_msg_id=payload.client_msg_id,
            author_name=me.name,
            agent_id=me.agent_id,
            whisper=whisper,
            sender=Sender(sid, AGENT_NS),
            check=lambda chat: may_write(me, payload.chat_id, chat),
        )
        return {"ok": True, "message": message.to_wire()}

    async def attach(self, me: AgentSession, chat_id: str, attachment: dict[str, Any]) -> Message:
        """A file the agent sent (stored already): its message, stored and delivered."""
        message, _ = await self.conversation.store_and_deliver(
            chat_id,
            author="agent",
            text="",
            client_msg_id=None,
            author_name=me.name,
            agent_id=me.agent_id,
            attachment=attachment,
            check=lambda chat: may_write(me, chat_id, chat),
        )
        return message

    async def sync(self, me: AgentSession, payload: schemas.SyncIn) -> dict[str, Any]:
        chat = await self.chat(me, payload.chat_id, own=False)
        return await self.conversation.sync(chat, payload.after_id, whispers=True)

    async def close_chat(self, me: AgentSession, payload: schemas.CloseChatIn) -> dict[str, Any]:
        chat = await self.chat(me, payload.chat_id, own=True)
        if chat.status not in OPEN_STATUSES:
            raise ProtocolError("closed", "this chat is closed already")
        await self.chats.close(chat, reason="agent_closed", disposition=payload.disposition)
        return {"ok": True}

    async def save_lead(self, me: AgentSession, payload: schemas.SaveLeadIn) -> dict[str, Any]:
        chat = await self.chat(me, payload.chat_id, own=True)
        tenant = await self.ctx.tenant(chat.tenant_id)
        lead = await self.chats.save_lead(
            tenant, chat, payload.lead, source="agent", agent_id=me.agent_id
        )
        return {"ok": True, "lead": lead.to_wire()}

    async def typing(self, me: AgentSession, sid: str, payload: schemas.TypingIn) -> None:
        await self.conversation.offer_typing(
            sid,
            payload.chat_id,
            payload.typing,
            author="agent",
            may=lambda chat: chat.agent_id == me.agent_id,
        )

    # -- transfers -----------------------------------------------------------------------

    async def transfer(self, me: AgentSession, payload: schemas.TransferIn) -> dict[str, Any]:
        chat = await self.chat(me, payload.chat_id, own=True)
        if chat.status != "active" or chat.agent_id is None:
            raise ProtocolError(
                "conflict", f"only an active chat can be transferred; it is {chat.status}"
            )
        if (payload.agent_id is None) == (payload.language is None):
            raise ProtocolError("invalid_payload", "give either agent_id or language, not both")
        tenant = await self.ctx.tenant(me.tenant_id)
        if payload.agent_id is not None:
            return await self._to_agent(tenant, chat, chat.agent_id, payload.agent_id)
        return await self._to_queue(tenant, chat, chat.agent_id, (payload.language or "").lower())

    async def _to_queue(
        self, tenant: Tenant, chat: Chat, from_agent: str, language: str
    ) -> dict[str, Any]:
        if language not in tenant.languages:
            raise ProtocolError(
                "invalid_payload",
                f"language: this tenant serves {', '.join(tenant.languages)}",
            )
        if language != tenant.primary_language and not allows(tenant.plan, "multilingual"):
            raise ProtocolError(
                "plan_required", "routing in other languages needs the premium plan"
            )
        moved = await self.ctx.store.requeue_chat(
            chat.id, language=language, priority=PRIORITY, from_agent=from_agent
        )
        if moved is None:
            raise ProtocolError("conflict", "the chat changed meanwhile; look at it again")
        await self.dispatcher.enqueue(
            moved,
            arrival_ms=self.ctx.now_ms(),
            exclude_agent=from_agent,
            release_from=from_agent,
        )
        await self.chats.left_agent(chat.id, from_agent, "transferred")
        await self.conversation.system(moved, "transferred_queue")
        await self.dispatcher.settle(tenant.id)
        await self.dispatcher.publish_presence(tenant.id, from_agent)
        return {"ok": True, "chat": {"id": chat.id, "status": "queued", "language": language}}

    async def _to_agent(
        self, tenant: Tenant, chat: Chat, from_agent: str, to_agent_id: str
    ) -> dict[str, Any]:
        ctx = self.ctx
        target = await ctx.store.get_agent(to_agent_id)
        if target is None or target.tenant_id != tenant.id:
            raise ProtocolError("not_found", f"no agent {to_agent_id} in your tenant")
        if target.id == from_agent:
            raise ProtocolError("conflict", "the chat is already yours")
        outcome = await ctx.state.transfer(
            tenant.id, chat.id, from_agent=from_agent, to_agent=target.id, now_ms=ctx.now_ms()
        )
        if outcome == -1:
            raise ProtocolError("unavailable", f"{target.name} is not online")
        if outcome == 0:
            raise ProtocolError("conflict", f"{target.name} has no free chat slot")
        moved = await ctx.store.move_chat(chat.id, from_agent, target.id)
        if moved is None:
            await ctx.state.transfer(
                tenant.id, chat.id, from_agent=target.id, to_agent=from_agent, now_ms=ctx.now_ms()
            )
            raise ProtocolError("conflict", "the chat changed meanwhile; look at it again")
        await self.chats.left_agent(chat.id, from_agent, "transferred")
        await self.conversation.system(moved, "transferred_agent", name=target.name)
        wire = await self.conversation.chat_wire(moved)
        await self.dispatcher.hand_over(moved, target.id, target.name, wire)
        await self.dispatcher.publish_presence(tenant.id, from_agent)
        await self.dispatcher.settle(tenant.id)
        return {"ok": True, "chat": {"id": chat.id, "status": "active", "agent_id": target.id}}
