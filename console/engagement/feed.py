"""The live "On site now" list of agents who watch it (`watch_visitors`, `visitors`).

Agents who watch join the room `onsite:<tenant_id>` on this process. Once a second, for
each tenant watched here, the tenant's snapshot is computed once and compared with the
previous one; the rows that changed, the ids that left, the total and the counts the
supervisor's screen shows (in a chat, invited, with a lead) go to the whole room in one
event. The cost per tenant does not grow with the number of watchers: each process
computes for its own watchers (the snapshot comes from Redis, so every process sees every
visitor), and emits to them without the fan-out, so an agent never gets a diff twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from console.contract.plans import allows
from console.domain.errors import ProtocolError
from console.domain.types import Tenant
from console.engagement.presence import OnSite
from console.hub.upkeep import run_periodically
from console.realtime.rooms import AGENT_NS

FEED_PUSH_S = 1.0
ONSITE_PREFIX = "onsite:"


def onsite_room(tenant_id: str) -> str:
    """The sockets of the tenant's agents who watch the list, on one process."""
    return f"{ONSITE_PREFIX}{tenant_id}"


def check_plan(tenant: Tenant, action: str) -> None:
    if not allows(tenant.plan, "invitation_rules"):
        raise ProtocolError("plan_required", f"{action} needs the proactive or the premium plan")


def diff(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows new or changed, ids no longer shown)."""
    changed = [row for key, row in after.items() if before.get(key) != row]
    left = [key for key in before if key not in after]
    return changed, left


class VisitorsFeed:
    def __init__(self, onsite: OnSite, sio: socketio.AsyncServer) -> None:
        self.onsite = onsite
        self.sio = sio
        self._last: dict[str, tuple[dict[str, dict[str, Any]], int, dict[str, int]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def running(self, heartbeat_s: float) -> list[asyncio.Task[None]]:
        """The background work: this process's visitors stay listed (every heartbeat), and
        its watchers get the diff (every second)."""
        return [
            asyncio.create_task(run_periodically(heartbeat_s, self.onsite.refresh)),
            asyncio.create_task(run_periodically(FEED_PUSH_S, self.push)),
        ]

    def watched_tenants(self) -> list[str]:
        rooms: dict[Any, Any] = self.sio.manager.rooms.get(AGENT_NS, {})
        return [
            room.removeprefix(ONSITE_PREFIX)
            for room, members in rooms.items()
            if isinstance(room, str) and room.startswith(ONSITE_PREFIX) and members
        ]

    async def current(self, tenant: Tenant) -> dict[str, Any]:
        """`watch_visitors`'s answer: the list as the next diff will start from (the last
        one computed for this tenant here, at most a second old, or a new one)."""
        check_plan(tenant, "the list of visitors on the site")
        async with self._lock(tenant.id):
            if tenant.id not in self._last:
                rows, total, counts = await self.onsite.snapshot(tenant.id)
                self._last[tenant.id] = ({r["visitor_id"]: r for r in rows}, total, counts)
            shown, total, counts = self._last[tenant.id]
        return {"ok": True, "visitors": list(shown.values()), "total": total, "counts": counts}

    async def push(self) -> int:
        """One round: each tenant watched here gets at most one `visitors` event; returns
        how many were sent."""
        watched = self.watched_tenants()
        for gone in set(self._last) - set(watched):
            del self._last[gone]
            self._locks.pop(gone, None)
        sent = 0
        for tenant_id in watched:
            async with self._lock(tenant_id):
                before, total_before, counts_before = self._last.get(tenant_id, ({}, 0, {}))
                rows, total, counts = await self.onsite.snapshot(tenant_id)
                after = {r["visitor_id"]: r for r in rows}
                self._last[tenant_id] = (after, total, counts)
                changed, left = diff(before, after)
                if not changed and not left and (total, counts) == (total_before, counts_before):
                    continue
                await self.sio.emit(
                    "visitors",
                    {"changed": changed, "left": left, "total": total, "counts": counts},
                    to=onsite_room(tenant_id),
                    namespace=AGENT_NS,
                    ignore_queue=True,
                )
                sent += 1
        return sent

    def _lock(self, tenant_id: str) -> asyncio.Lock:
        return self._locks.setdefault(tenant_id, asyncio.Lock())
