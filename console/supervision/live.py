"""Supervisors' live tiles on `/agent`: who gets them, how they are gathered, when pushed.

A supervisor or admin of a premium tenant joins the room `supervisors:<tenant_id>` on
connect and gets `stats` at once; then a background task recomputes each watched tenant's
tiles every STATS_PUSH_S and pushes them when something other than the clock changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import socketio

from console.errors import ProtocolError
from console.hub import AGENT_NS, Hub
from console.supervision import changed, start_of_day, tiles
from console.types import Agent, Tenant, plan_allows, utcnow

if TYPE_CHECKING:
    from console.realtime.namespaces import AgentNamespace

STATS_PUSH_S = 1.0
ROOM_PREFIX = "supervisors:"


def supervisors_room(tenant_id: str) -> str:
    return f"{ROOM_PREFIX}{tenant_id}"


def check_supervisor(agent: Agent, tenant: Tenant) -> None:
    """Supervisors and admins of premium tenants; the error says which rule refused."""
    if agent.role not in ("supervisor", "admin"):
        raise ProtocolError("forbidden", "only supervisors and admins see the floor's tiles")
    if not plan_allows(tenant.plan, "premium"):
        raise ProtocolError(
            "plan_required", "real-time analytics for supervisors need the premium plan"
        )


async def floor_stats(hub: Hub, tenant: Tenant) -> dict[str, Any]:
    now = utcnow()
    since = start_of_day(now, tenant.timezone)
    agents = await hub.store.list_agents(tenant.id)
    presence = await hub.state.presence(tenant.id, [a.id for a in agents if a.active])
    return tiles(
        now=now,
        since=since,
        agents=agents,
        presence=presence,
        waiting=await hub.state.waiting(tenant.id),
        chats=await hub.store.floor.chats_since(tenant.id, since),
        active=await hub.store.list_chats(tenant_id=tenant.id, statuses=("active",)),
    )


async def supervisor_joined(namespace: AgentNamespace, sid: str, agent: Agent) -> None:
    """Called on every `/agent` connect: supervisors of premium tenants get the tiles."""
    if agent.role not in ("supervisor", "admin"):
        return
    tenant = await namespace.hub.store.get_tenant(agent.tenant_id)
    if tenant is None or not plan_allows(tenant.plan, "premium"):
        return
    await namespace.enter_room(sid, supervisors_room(tenant.id))
    await namespace.emit("stats", await floor_stats(namespace.hub, tenant), to=sid)


class StatsPusher:
    """Pushes `stats` to the supervisors connected to this process, on change."""

    def __init__(self, hub: Hub, sio: socketio.AsyncServer) -> None:
        self.hub = hub
        self.sio = sio
        self._last: dict[str, dict[str, Any]] = {}

    def watched_tenants(self) -> list[str]:
        rooms: dict[Any, Any] = self.sio.manager.rooms.get(AGENT_NS, {})
        return [
            room.removeprefix(ROOM_PREFIX)
            for room, members in rooms.items()
            if isinstance(room, str) and room.startswith(ROOM_PREFIX) and members
        ]

    async def push(self) -> int:
        """One round; returns how many tenants were sent new tiles."""
        watched = self.watched_tenants()
        for gone in set(self._last) - set(watched):
            del self._last[gone]
        sent = 0
        for tenant_id in watched:
            tenant = await self.hub.cached_tenant(tenant_id)
            if tenant is None or not plan_allows(tenant.plan, "premium"):
                continue
            stats = await floor_stats(self.hub, tenant)
            if changed(self._last.get(tenant_id), stats):
                # Every process pushes to its own supervisors: not through the fan-out,
                # or a supervisor would get one push per process.
                await self.sio.emit(
                    "stats",
                    stats,
                    to=supervisors_room(tenant_id),
                    namespace=AGENT_NS,
                    ignore_queue=True,
                )
                sent += 1
            self._last[tenant_id] = stats
        return sent
