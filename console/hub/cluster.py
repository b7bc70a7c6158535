"""Several hub processes on one Redis: liveness, and recovery of lost state.

- Liveness: each process refreshes `charla:proc:<id>` (a key with a TTL) and records the
  sockets it holds in `charla:proc:<id>:socks`. When a process dies (SIGKILL, a lost host),
  its key expires and one surviving process (whoever removes it from `charla:procs` first)
  disconnects its sockets in the routing state, so that grace periods start and the chats of
  its agents and visitors are handled as if they had disconnected.
- Recovery: `charla:epoch` exists while Redis holds routing state. A Redis that restarted
  empty has none; one process (under a lock) rebuilds the queue and the agents' loads from
  SQL, then every process registers again the sockets it holds and the statuses of its
  agents, so that connected people stay connected in the routing state.

Fan-out of events between the processes is the realtime layer's (console/realtime/fanout.py);
it records which process holds members of which room, and is told here (`forget_rooms`,
`restore_rooms`) when a process is reaped, leaves, or finds it had been reaped.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis

from console.hub import Hub
from console.routing.state import PREFIX, LocalSocket, as_text, parse_socket, proc_key, socks_key

log = structlog.get_logger("charla.cluster")

EPOCH_KEY = f"{PREFIX}epoch"
PROCS_KEY = f"{PREFIX}procs"
# Outside the `charla:` prefix, which a rebuild starts by deleting (RoutingState.reset).
REBUILD_LOCK = "charla-rebuild-lock"
TTL_BEATS = 3  # a process is dead after missing this many heartbeats
REBUILD_WAIT_S = 30.0
REBUILD_POLL_S = 0.1
REAP_LOCK_S = 30


@dataclass
class Cluster:
    """This process's membership of the cluster of hubs sharing one Redis."""

    redis: Redis
    hub: Hub
    heartbeat_s: float
    instance: str = ""
    # the fan-out's records of who holds which room: remove a process's, record ours again
    forget_rooms: Callable[[str], Awaitable[None]] | None = None
    restore_rooms: Callable[[], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        self.instance = self.instance or self.hub.state.instance or uuid.uuid4().hex

    @property
    def ttl_s(self) -> int:
        return max(1, round(self.heartbeat_s * TTL_BEATS + 0.49))

    async def join(self) -> None:
        """At start: rebuild from SQL when Redis holds no routing state (or only that of
        processes that are gone), then announce this process."""
        if not await self.redis.exists(EPOCH_KEY) or not await self._others_alive():
            await self._rebuild_once(force=True)
        await self._announce()

    async def leave(self) -> None:
        """At a clean shutdown the sockets were disconnected one by one: drop the records."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(proc_key(self.instance))
            pipe.srem(PROCS_KEY, self.instance)
            pipe.delete(socks_key(self.instance))
            await pipe.execute()
        if self.forget_rooms is not None:
            await self.forget_rooms(self.instance)

    async def beat(self) -> None:
        """Every heartbeat: notice a Redis that lost its state, stay alive, reap the dead."""
        if not await self.redis.exists(EPOCH_KEY):
            log.warning("routing_state_lost")
            await self._rebuild_once(force=False)
            await self._announce()
            await self.restore_local_sockets()
            await self._restore_rooms()
        elif not await self._announce():
            # Our heartbeat had expired (a long pause) and another process reaped our
            # sockets: we are alive after all, so register them again.
            log.warning("process_was_reaped", instance=self.instance)
            await self.restore_local_sockets()
            await self._restore_rooms()
        await self.reap()

    async def _restore_rooms(self) -> None:
        if self.restore_rooms is not None:
            await self.restore_rooms()

    async def reap(self) -> int:
        """Disconnect, in the routing state, the sockets of processes whose heartbeat ran
        out; returns how many sockets were released.

        A reaper claims a dead process under a short lock and pops its sockets one at a
        time, so that if the reaper dies too, another survivor finishes the job."""
        released = 0
        for raw in await self.redis.smembers(PROCS_KEY):
            other = as_text(raw)
            if other == self.instance or await self.redis.exists(proc_key(other)):
                continue
            claim = f"{PREFIX}reaping:{other}"
            if not await self.redis.set(claim, self.instance, nx=True, ex=REAP_LOCK_S):
                continue  # another survivor is on it
            count = await self._release_sockets_of(other)
            if count is not None:
                released += count
                if self.forget_rooms is not None:
                    await self.forget_rooms(other)
                await self.redis.srem(PROCS_KEY, other)
                log.warning("dead_process_reaped", instance=other, sockets=count)
            await self.redis.delete(claim)
        return released

    async def _release_sockets_of(self, other: str) -> int | None:
        """Release every socket record of a dead process; None when one failed (it is put
        back, and the next heartbeat tries again)."""
        count = 0
        while True:
            raw = await self.redis.spop(socks_key(other))  # without a count: one member
            if raw is None:
                break
            member = as_text(raw) if isinstance(raw, bytes | str) else ""
            socket = parse_socket(member)
            if socket is None:
                continue
            try:
                await self._socket_gone(socket)
            except Exception:
                log.exception("reap_failed", instance=other)
                await self.redis.sadd(socks_key(other), member)
                return None
            count += 1
        return count

    async def restore_local_sockets(self) -> None:
        """Register again, in a Redis that forgot them, the sockets this process holds."""
        state = self.hub.state
        tenants: set[str] = set()
        for socket in list(state.local_sockets.values()):
            await state.add_socket(
                socket.kind, socket.owner_id, socket.sid, tenant_id=socket.tenant_id
            )
            tenants.add(socket.tenant_id)
            if socket.kind == "visitor":
                await self.hub.visitors.back(socket.tenant_id, socket.owner_id, publish=False)
                continue
            await self.hub.agents.present(socket.tenant_id, socket.owner_id, socket.sid)
        for tenant_id in tenants:
            await self.hub.dispatcher.settle(tenant_id)
        log.info("local_sockets_restored", sockets=len(state.local_sockets))

    async def _socket_gone(self, socket: LocalSocket) -> None:
        if socket.kind == "visitor":
            await self.hub.visitors.socket_gone(socket.tenant_id, socket.owner_id, socket.sid)
        else:
            await self.hub.agents.socket_gone(socket.tenant_id, socket.owner_id, socket.sid)

    async def _announce(self) -> bool:
        """Refresh this process's heartbeat; False when it had been reaped meanwhile."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(proc_key(self.instance), "1", ex=self.ttl_s)
            pipe.sadd(PROCS_KEY, self.instance)
            _, added = await pipe.execute()
        return not added

    async def _others_alive(self) -> bool:
        for raw in await self.redis.smembers(PROCS_KEY):
            if as_text(raw) != self.instance and await self.redis.exists(proc_key(as_text(raw))):
                return True
        return False

    async def _rebuild_once(self, *, force: bool) -> None:
        """One process rebuilds the routing state from SQL; the others wait for it."""
        lock = self.redis.lock(REBUILD_LOCK, timeout=REBUILD_WAIT_S, blocking_timeout=0)
        if await lock.acquire():
            try:
                if force or not await self.redis.exists(EPOCH_KEY):
                    await self.hub.upkeep.rebuild()
                    await self.redis.set(EPOCH_KEY, uuid.uuid4().hex)
            finally:
                with contextlib.suppress(Exception):
                    await lock.release()
            return
        for _ in range(int(REBUILD_WAIT_S / REBUILD_POLL_S)):
            if await self.redis.exists(EPOCH_KEY):
                return
            await asyncio.sleep(REBUILD_POLL_S)
