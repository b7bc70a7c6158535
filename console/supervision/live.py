"""Supervisors' live tiles: who gets them, how they are gathered, when they are pushed.

A supervisor or admin of a premium tenant joins the room `supervisors:<tenant_id>` when
they connect to `/agent` and gets `stats` at once; then a background task recomputes each
watched tenant's tiles every STATS_PUSH_S and pushes them when something other than the
clock changed. The arithmetic is in console/supervision/tiles.py.
"""

from __future__ import annotations

from typing import Any

import socketio

from console.contract.plans import allows
from console.domain.errors import ProtocolError
from console.domain.types import Agent, Tenant
from console.hub.context import HubContext
from console.realtime.rooms import AGENT_NS, SUPERVISORS_PREFIX, supervisors_room
from console.supervision.tiles import changed, start_of_day, tiles

STATS_PUSH_S = 1.0


def check_supervisor(agent: Agent, tenant: Tenant) -> None:
    """Supervisors and admins of premium tenants; the error says which rule refused."""
    if not agent.supervises:
        raise ProtocolError("forbidden", "only supervisors and admins see the floor's tiles")
    if not allows(tenant.plan, "analytics"):
        raise ProtocolError(
            "plan_required", "real-time analytics for supervisors need the premium plan"
        )


async def floor_stats(ctx: HubContext, tenant: Tenant) -> dict[str, Any]:
    """The tenant's tiles now (`GET /api/supervisor/stats` and the `stats` event)."""
    now = ctx.clock.now()
    since = start_of_day(now, tenant.timezone)
    store, state = ctx.store, ctx.state
    agents = await store.list_agents(tenant.id)
    presence = await state.presence(tenant.id, [a.id for a in agents if a.active])
    return tiles(
        now=now,
        since=since,
        agents=agents,
        presence=presence,
        waiting=await state.waiting(tenant.id),
        chats=await store.floor.chats_since(tenant.id, since),
        active=await store.list_chats(tenant_id=tenant.id, statuses=("active",)),
    )


async def stats_on_connect(ctx: HubContext, agent: Agent) -> dict[str, Any] | None:
    """The tiles for an agent who just connected, if they are a premium supervisor (they
    then join `supervisors_room`); None for everyone else."""
    if not agent.supervises:
        return None
    tenant = await ctx.store.get_tenant(agent.tenant_id)
    if tenant is None or not allows(tenant.plan, "analytics"):
        return None
    return await floor_stats(ctx, tenant)


class StatsPusher:
    """Pushes `stats` to the supervisors connected to this process, on change."""

    def __init__(self, ctx: HubContext, sio: socketio.AsyncServer) -> None:
        self.ctx = ctx
        self.sio = sio
        self._last: dict[str, dict[str, Any]] = {}

    def watched_tenants(self) -> list[str]:
        rooms: dict[Any, Any] = self.sio.manager.rooms.get(AGENT_NS, {})
        return [
            room.removeprefix(SUPERVISORS_PREFIX)
            for room, members in rooms.items()
            if isinstance(room, str) and room.startswith(SUPERVISORS_PREFIX) and members
        ]

    async def push(self) -> int:
        """One round; returns how many tenants were sent new tiles."""
        watched = self.watched_tenants()
        for gone in set(self._last) - set(watched):
            del self._last[gone]
        sent = 0
        for tenant_id in watched:
            tenant = await self.ctx.cached_tenant(tenant_id)
            if tenant is None or not allows(tenant.plan, "analytics"):
                continue
            stats = await floor_stats(self.ctx, tenant)
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
