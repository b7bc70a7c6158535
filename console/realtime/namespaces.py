"""The `/visitor` and `/agent` namespaces: authenticate, validate, rate-limit, dispatch.

Every event sent with an ack gets exactly one ack, whatever happens: unknown events, bad
payloads and internal failures all answer with the protocol's error shape.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

import socketio
import structlog
from pydantic import BaseModel, ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from console.domain.errors import ProtocolError, from_validation
from console.domain.types import Tenant
from console.engagement.feed import VisitorsFeed, check_plan, onsite_room
from console.engagement.payloads import InvitationResponseIn, InviteIn, RateIn, WatchVisitorsIn
from console.engagement.service import Engagement
from console.hub import Hub
from console.hub.agents import AgentSession, Disconnect
from console.realtime import schemas
from console.realtime.ratelimit import AddressBudget, Buckets
from console.realtime.rooms import (
    AGENT_NS,
    VISITOR_NS,
    agent_room,
    supervisors_room,
    tenant_room,
    visitor_room,
    watch_room,
)
from console.runtime.logs import event_ids
from console.security.tokens import InvalidToken, TokenSigner
from console.supervision.live import stats_on_connect

log = structlog.get_logger("charla.realtime")
P = TypeVar("P", bound=BaseModel)
# The database or Redis cannot answer now: `unavailable`, and the client retries
STORE_DOWN = (OperationalError, InterfaceError, PoolTimeout, RedisError, ConnectionError, OSError)
Handler = Callable[[str, Any], Awaitable[dict[str, Any] | None]]


def parse(model: type[P], data: Any) -> P:
    if not isinstance(data, dict):
        raise ProtocolError("invalid_payload", "the payload must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation(exc, max_text=schemas.MAX_TEXT) from None


def agent_disconnector(sio: socketio.AsyncServer) -> Disconnect:
    """Disconnects every socket of an agent (a deactivated agent's): those in their room on
    this process, and `sids` wherever they are (the manager asks the process holding one)."""

    async def disconnect(agent_id: str, sids: Collection[str] = ()) -> None:
        here = [sid for sid, _ in sio.manager.get_participants(AGENT_NS, agent_room(agent_id))]
        for sid in dict.fromkeys([*here, *sids]):
            with contextlib.suppress(Exception):
                await sio.disconnect(sid, namespace=AGENT_NS)

    return disconnect


def credentials(model: type[P], auth: Any) -> P:
    """The connect's `auth`, or a refusal that says what to pass."""
    try:
        return parse(model, auth)
    except ProtocolError as exc:
        wanted = ", ".join(name for name, info in model.model_fields.items() if info.is_required())
        raise refuse("unauthorized", f"auth: {exc.message}; pass {{{wanted}}}") from None


def refuse(code: str, message: str) -> socketio.exceptions.ConnectionRefusedError:
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code, "message": message})


class Gate:
    """Counts events in flight, so that shutdown can let their writes finish first."""

    def __init__(self) -> None:
        self.draining = False
        self.inflight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        if self.draining:
            raise ProtocolError("unavailable", "this hub is shutting down; reconnect and retry")
        self.inflight += 1
        self._idle.clear()

    def leave(self) -> None:
        self.inflight -= 1
        if self.inflight == 0:
            self._idle.set()

    async def drain(self, timeout_s: float) -> bool:
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True


class BaseNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Routes events through one table; anything else gets an error ack."""

    no_ack_events: frozenset[str] = frozenset({"typing"})
    events: tuple[str, ...] = ()  # the protocol's client events: each a method of that name

    def __init__(self, namespace: str, hub: Hub, buckets: Buckets, gate: Gate) -> None:
        super().__init__(namespace)
        self.hub = hub
        self.buckets = buckets
        self.gate = gate
        self.handlers: dict[str, Handler] = {event: getattr(self, event) for event in self.events}
        self.sessions: dict[str, dict[str, Any]] = {}

    # Sessions live here, not in python-socketio's per-socket store, whose look-up (three
    # awaits through engine.io) was read three times per event on the message path.
    async def save_session(
        self, sid: str, session: dict[str, Any], namespace: str | None = None
    ) -> None:
        self.sessions[sid] = session

    async def get_session(self, sid: str, namespace: str | None = None) -> dict[str, Any]:
        return self.sessions.get(sid, {})

    async def trigger_event(self, event: str, *args: Any) -> Any:
        # python-socketio runs these while the sid is still pending; from a connected
        # client, an event of that name is an unknown event like any other.
        lifecycle = not self.server.manager.is_connected(args[0], self.namespace)
        if event == "connect" and lifecycle:
            return await self._connect(*args)
        if event == "disconnect" and lifecycle:
            try:
                return await self.on_disconnect(args[0])
            finally:
                self.sessions.pop(args[0], None)
        sid, data = (args[0], args[1] if len(args) > 1 else None)
        with event_ids(await self.log_context(sid, data)):
            return await self._dispatch(event, sid, data)

    async def log_context(self, sid: str, data: Any) -> dict[str, str]:
        """Ids every log line of this event carries: who, which tenant, which chat."""
        session = await self.get_session(sid)
        context = {key: value for key, value in session.items() if isinstance(value, str)}
        me = session.get("me")
        if isinstance(me, AgentSession):
            context.update(tenant_id=me.tenant_id, agent_id=me.agent_id)
        if isinstance(data, dict) and isinstance(data.get("chat_id"), str):
            context["chat_id"] = data["chat_id"][:64]
        return context

    async def _dispatch(self, event: str, sid: str, data: Any) -> Any:
        handler = self.handlers.get(event) if isinstance(event, str) else None
        entered = False
        try:
            self.gate.enter()
            entered = True
            if handler is None:
                raise ProtocolError(
                    "invalid_payload", f"unknown event {event!r} on {self.namespace}"
                )
            if event not in self.no_ack_events and not self.buckets.take(await self.rate_key(sid)):
                raise ProtocolError("rate_limited", "too many events; slow down and retry")
            return await handler(sid, data)
        except ProtocolError as exc:
            self.hub.ctx.metrics.rejected.labels(exc.code).inc()
            return exc.ack()
        except (
            OperationalError,
            InterfaceError,
            PoolTimeout,
            RedisError,
            ConnectionError,
            OSError,
        ):
            log.exception("store_unavailable", socket_event=event)
            self.hub.ctx.metrics.rejected.labels("unavailable").inc()
            return ProtocolError(
                "unavailable", "the hub cannot store this now; retry shortly"
            ).ack()
        except Exception:
            log.exception("event_failed", socket_event=event, namespace=self.namespace)
            self.hub.ctx.metrics.rejected.labels("unavailable").inc()
            return ProtocolError("unavailable", "the hub failed on this event; retry").ack()
        finally:
            if entered:
                self.gate.leave()

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            await self.on_connect(sid, environ, auth)
        except socketio.exceptions.ConnectionRefusedError:
            self.sessions.pop(sid, None)
            raise
        except Exception:
            self.sessions.pop(sid, None)
            log.exception("connect_failed", namespace=self.namespace)
            raise refuse("unavailable", "the hub cannot take connections now; retry") from None

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        raise NotImplementedError

    async def on_disconnect(self, sid: str) -> None:
        raise NotImplementedError

    async def rate_key(self, sid: str) -> str:
        """Whose budget an event spends: the visitor's or the agent's, across their tabs."""
        raise NotImplementedError


class VisitorNamespace(BaseNamespace):
    events = (
        "page_view",
        "start_chat",
        "message",
        "sync",
        "end_chat",
        "typing",
        "invitation_response",
        "rate",
        "email_transcript",
    )

    def __init__(self, hub: Hub, buckets: Buckets, gate: Gate, engagement: Engagement) -> None:
        super().__init__(VISITOR_NS, hub, buckets, gate)
        self.engagement = engagement
        self.starts = AddressBudget.chat_starts(hub.ctx.settings)  # by tenant and address

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        creds = credentials(schemas.VisitorAuth, auth)
        tenant = await self.hub.store.get_tenant_by_site_key(creds.site_key)
        if tenant is None:
            raise refuse("unauthorized", "unknown site_key")
        origin = environ.get("HTTP_ORIGIN")
        if origin and origin not in tenant.allowed_origins:
            raise refuse("forbidden", f"origin {origin} is not allowed for this site")
        visitor = await self.hub.store.visitor_arrives(tenant.id, creds.visitor_id)
        await self.save_session(sid, {"tenant_id": tenant.id, "visitor_id": visitor.id})
        await self.enter_room(sid, visitor_room(visitor.id))
        await self.emit("session", self.hub.visitors.session(tenant.id, visitor.id), to=sid)
        await self.hub.visitors.connected(tenant, visitor, sid)

    async def on_disconnect(self, sid: str) -> None:
        self.engagement.forget(sid)
        with contextlib.suppress(*STORE_DOWN):  # the record expires on its own
            await self.engagement.onsite.left(sid)
        session = await self.get_session(sid)
        if session:
            await self.hub.visitors.disconnected(session["tenant_id"], session["visitor_id"], sid)

    async def rate_key(self, sid: str) -> str:
        _, visitor_id = await self._who(sid)
        return visitor_id

    async def _who(self, sid: str) -> tuple[str, str]:
        session = await self.get_session(sid)
        return session["tenant_id"], session["visitor_id"]

    async def _tenant(self, sid: str) -> tuple[Tenant, str]:
        tenant_id, visitor_id = await self._who(sid)
        return await self.hub.ctx.tenant(tenant_id), visitor_id

    async def page_view(self, sid: str, data: Any) -> dict[str, Any]:
        tenant_id, visitor_id = await self._who(sid)
        payload = parse(schemas.PageViewIn, data)
        ack = await self.hub.visitors.page_view(tenant_id, visitor_id, payload)
        self.engagement.page_viewed(sid, tenant_id, visitor_id, payload)
        await self.engagement.onsite.viewed(sid, tenant_id, visitor_id, payload)
        return ack

    async def start_chat(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.StartChatIn, data)
        tenant, visitor_id = await self._tenant(sid)
        self.starts.take(self.server.get_environ(sid, self.namespace), tenant.id)
        if payload.invitation_id:  # an agent's invitation, accepted (PROTOCOL 1.2)
            personal = self.engagement.personal
            return await personal.start_chat(self.hub.visitors, tenant, visitor_id, payload, sid)
        return await self.hub.visitors.start_chat(tenant, visitor_id, payload, sid)

    async def message(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.MessageIn, data)
        tenant_id, visitor_id = await self._who(sid)
        return await self.hub.visitors.message(tenant_id, visitor_id, payload, sid)

    async def sync(self, sid: str, data: Any) -> dict[str, Any]:
        tenant_id, visitor_id = await self._who(sid)
        return await self.hub.visitors.sync(tenant_id, visitor_id, parse(schemas.SyncIn, data))

    async def end_chat(self, sid: str, data: Any) -> dict[str, Any]:
        tenant_id, visitor_id = await self._who(sid)
        return await self.hub.visitors.end_chat(tenant_id, visitor_id, parse(schemas.ChatRef, data))

    async def typing(self, sid: str, data: Any) -> None:
        tenant_id, visitor_id = await self._who(sid)
        await self.hub.visitors.typing(tenant_id, visitor_id, sid, parse(schemas.TypingIn, data))

    async def invitation_response(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(InvitationResponseIn, data)
        tenant_id, visitor_id = await self._who(sid)
        return await self.engagement.respond(tenant_id, visitor_id, payload, sid)

    async def rate(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(RateIn, data)
        tenant_id, visitor_id = await self._who(sid)
        return await self.engagement.rate(tenant_id, visitor_id, payload)

    async def email_transcript(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.EmailTranscriptIn, data)
        tenant_id, visitor_id = await self._who(sid)
        return await self.hub.transcripts.request(tenant_id, visitor_id, payload)


class AgentNamespace(BaseNamespace):
    events = (
        "set_status",
        "message",
        "close_chat",
        "transfer",
        "sync",
        "typing",
        "save_lead",
        "assign",
        "join",
        "leave",
        "watch_visitors",
        "invite",
    )

    def __init__(
        self,
        hub: Hub,
        buckets: Buckets,
        gate: Gate,
        signer: TokenSigner,
        *,
        engagement: Engagement,
        feed: VisitorsFeed,
    ) -> None:
        super().__init__(AGENT_NS, hub, buckets, gate)
        self.signer = signer
        self.engagement = engagement
        self.feed = feed

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        creds = credentials(schemas.AgentAuth, auth)
        try:
            claims = self.signer.verify(creds.token)
        except InvalidToken as exc:
            raise refuse("unauthorized", str(exc)) from None
        agent = await self.hub.store.get_agent(claims.agent_id)
        if agent is None or agent.tenant_id != claims.tenant_id or not agent.active:
            raise refuse("unauthorized", "this agent no longer exists; log in again")
        me = AgentSession(agent.id, agent.tenant_id, agent.role, agent.name)
        await self.save_session(sid, {"me": me})
        await self.enter_room(sid, agent_room(agent.id))
        await self.enter_room(sid, tenant_room(agent.tenant_id))
        if agent.supervises:
            # every plan's supervisors hear the SLA warnings; premium ones get the tiles too
            await self.enter_room(sid, supervisors_room(agent.tenant_id))
        stats = await stats_on_connect(self.hub.ctx, agent)
        if stats is not None:
            await self.emit("stats", stats, to=sid)
        await self.hub.agents.connected(agent, sid)

    async def on_disconnect(self, sid: str) -> None:
        session = await self.get_session(sid)
        if session:
            me: AgentSession = session["me"]
            await self.hub.agents.disconnected(me.tenant_id, me.agent_id, sid)

    async def rate_key(self, sid: str) -> str:
        return (await self._me(sid)).agent_id

    async def _me(self, sid: str) -> AgentSession:
        session = await self.get_session(sid)
        me: AgentSession = session["me"]
        return me

    async def set_status(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.SetStatusIn, data)
        return await self.hub.agents.set_status(await self._me(sid), payload)

    async def message(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.AgentMessageIn, data)
        return await self.hub.supervision.message(await self._me(sid), payload, sid)

    async def close_chat(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.CloseChatIn, data)
        return await self.hub.agents.close_chat(await self._me(sid), payload)

    async def transfer(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.TransferIn, data)
        return await self.hub.agents.transfer(await self._me(sid), payload)

    async def sync(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.SyncIn, data)
        return await self.hub.agents.sync(await self._me(sid), payload)

    async def typing(self, sid: str, data: Any) -> None:
        await self.hub.agents.typing(await self._me(sid), sid, parse(schemas.TypingIn, data))

    async def save_lead(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.SaveLeadIn, data)
        return await self.hub.agents.save_lead(await self._me(sid), payload)

    async def assign(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.AssignIn, data)
        return await self.hub.supervision.assign(await self._me(sid), payload)

    async def join(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.JoinIn, data)
        ack = await self.hub.supervision.join(await self._me(sid), payload)
        # this socket hears the chat from now on (console/hub/supervision.py)
        await self.enter_room(sid, watch_room(payload.chat_id))
        return ack

    async def leave(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(schemas.ChatRef, data)
        ack = await self.hub.supervision.leave(await self._me(sid), payload)
        await self.leave_room(sid, watch_room(payload.chat_id))
        return ack

    async def watch_visitors(self, sid: str, data: Any) -> dict[str, Any]:
        """The live list of visitors on the site (PROTOCOL 1.2): on, with the list, or off."""
        payload = parse(WatchVisitorsIn, data)
        me = await self._me(sid)
        room = onsite_room(me.tenant_id)
        if not payload.watching:
            await self.leave_room(sid, room)
            return {"ok": True}
        tenant = await self.hub.ctx.tenant(me.tenant_id)
        check_plan(tenant, "the list of visitors on the site")
        await self.enter_room(sid, room)
        return await self.feed.current(tenant)

    async def invite(self, sid: str, data: Any) -> dict[str, Any]:
        payload = parse(InviteIn, data)
        return await self.engagement.personal.invite(await self._me(sid), payload)
