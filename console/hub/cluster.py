"""Several hub processes on one Redis: fan-out, liveness, and recovery of lost state.

- Fan-out: python-socketio's `AsyncRedisManager` on the shared Redis, so that an event for a
  room reaches the sockets of that room on every process (chosen by `CHARLA_FANOUT`).
- Liveness: each process refreshes `charla:proc:<id>` (a key with a TTL) and records the
  sockets it holds in `charla:proc:<id>:socks`. When a process dies (SIGKILL, a lost host),
  its key expires and one surviving process (whoever removes it from `charla:procs` first)
  disconnects its sockets in the routing state, so that grace periods start and the chats of
  its agents and visitors are handled as if they had disconnected.
- Recovery: `charla:epoch` exists while Redis holds routing state. A Redis that restarted
  empty has none; one process (under a lock) rebuilds the queue and the agents' loads from
  SQL, then every process registers again the sockets it holds and the statuses of its
  agents, so that connected people stay connected in the routing state.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import socketio
import structlog
from redis.asyncio import Redis

from console.hub import Hub, chat_deadline
from console.realtime.packets import LocalManager, emit_here, holds_bytes
from console.routing.state import PREFIX, LocalSocket, as_text, proc_key, socks_key
from console.settings import Settings

log = structlog.get_logger("charla.cluster")

FANOUT_CHANNEL = "charla:socketio"
HOST_MARK = "|"  # between the publishing process's id and the JSON batch
EPOCH_KEY = f"{PREFIX}epoch"
PROCS_KEY = f"{PREFIX}procs"
# Outside the `charla:` prefix, which a rebuild starts by deleting (RoutingState.reset).
REBUILD_LOCK = "charla-rebuild-lock"
TTL_BEATS = 3  # a process is dead after missing this many heartbeats
REBUILD_WAIT_S = 30.0
REBUILD_POLL_S = 0.1
REAP_LOCK_S = 30


def client_manager(settings: Settings, redis_url: str) -> socketio.AsyncManager:
    """The Socket.IO client manager for this deployment: in-process or through Redis.

    python-socketio publishes each emit once on the channel (two tries) and drops it if
    Redis does not answer; its listener reconnects with a backoff of 1 s doubling to 60 s.
    Pub/sub is at-most-once either way: `sync` is what guarantees delivery.
    """
    if settings.resolved_fanout != "redis":
        return LocalManager()
    return CoalescingRedisManager(
        redis_url,
        channel=FANOUT_CHANNEL,
        redis_options={"socket_connect_timeout": 2, "health_check_interval": 10},
    )


class CoalescingRedisManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager, publishing together what is emitted together.

    Each emit is still delivered to this process's sockets at once; what goes to the other
    processes is queued and published by one task, in order, as one Redis message (a JSON
    list) per turn of the event loop instead of one PUBLISH round trip per emit. A chat
    message makes two emits (the visitor's room and the agent's), so under load this halves
    the publishes at least. Each batch is prefixed with the publishing process's id, so that
    the publisher skips its own batches unread (it delivered them locally already), and the
    others parse one message per batch, not per emit. A plain python-socketio message (an
    object, no prefix), from an external emitter say, is read as well.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: list[dict[str, Any]] = []
        self._publisher: asyncio.Task[None] | None = None

    async def emit(  # noqa: PLR0917 (python-socketio's signature)
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: str | None = None,
        skip_sid: str | None = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        """As python-socketio's, which would walk `data` once more looking for bytes (and
        Charla sends none): plain data goes out as the same message without that walk."""
        if callback is not None or kwargs.get("ignore_queue") or holds_bytes(data):
            await super().emit(event, data, namespace, room, skip_sid, callback, to=to, **kwargs)
            return
        message = {
            "method": "emit",
            "event": event,
            "data": list(data) if isinstance(data, tuple) else [data],
            "binary": False,
            "namespace": namespace or "/",
            "room": to or room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": self.host_id,
        }
        # this process's sockets, then the other processes'
        await emit_here(
            self, event, data, namespace=namespace or "/", room=to or room, skip_sid=skip_sid
        )
        await self._publish(message)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        """An emit published by another process, for the sockets this one holds."""
        if message.get("callback") or message.get("binary"):
            await super()._handle_emit(message)
            return
        data = message.get("data")
        if isinstance(data, list):
            data = data[0] if len(data) == 1 else tuple(data)
        await emit_here(
            self,
            message["event"],
            data,
            namespace=message.get("namespace") or "/",
            room=message.get("room"),
            skip_sid=message.get("skip_sid"),
        )

    async def _publish(self, data: dict[str, Any]) -> None:
        self._outgoing.append(data)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.get_running_loop().create_task(self._publish_queued())

    async def _publish_queued(self) -> None:
        await asyncio.sleep(0)  # the rest of this turn's emits join the batch
        while self._outgoing:
            batch, self._outgoing = self._outgoing, []
            body = self.json.dumps(batch[0] if len(batch) == 1 else batch)
            await self._send(f"{self.host_id}{HOST_MARK}{body}")

    async def _send(self, payload: str) -> None:
        """Publish once, or twice after reconnecting; then give up (pub/sub is at-most-once,
        `sync` is what guarantees delivery), as python-socketio's publisher does."""
        for attempt in (1, 2):
            try:
                if not self.connected:  # type: ignore[has-type]
                    self._redis_connect()
                await self.redis.publish(self.channel, payload)
                return
            except Exception as exc:  # any failure: reconnect, then give up
                self.connected = False
                log.warning("fanout_publish_failed", attempt=attempt, error=str(exc))

    async def flush(self) -> None:
        """Wait until everything emitted so far has been handed to Redis (or given up)."""
        while self._publisher is not None and not self._publisher.done():
            await asyncio.shield(self._publisher)

    async def _listen(self) -> AsyncIterator[dict[str, Any]]:
        own = f"{self.host_id}{HOST_MARK}".encode()
        async for published in super()._listen():
            raw = published.encode() if isinstance(published, str) else published
            if raw.startswith(own):
                continue  # this process's own emits, delivered here when they were made
            head, mark, body = raw.partition(HOST_MARK.encode())
            try:
                data = self.json.loads(body if mark and head.isalnum() else raw)
            except ValueError:
                continue
            for message in data if isinstance(data, list) else [data]:
                if isinstance(message, dict):
                    yield message


def parse_socket(member: str) -> LocalSocket | None:
    """A socket record of `charla:proc:<id>:socks` ("kind|tenant|owner|sid"), or None."""
    parts = member.split("|", 3)
    if len(parts) != 4 or parts[0] not in ("visitor", "agent"):
        return None
    return LocalSocket(kind=parts[0], tenant_id=parts[1], owner_id=parts[2], sid=parts[3])


@dataclass
class Cluster:
    """This process's membership of the cluster of hubs sharing one Redis."""

    redis: Redis
    hub: Hub
    heartbeat_s: float
    instance: str = ""

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

    async def beat(self) -> None:
        """Every heartbeat: notice a Redis that lost its state, stay alive, reap the dead."""
        if not await self.redis.exists(EPOCH_KEY):
            log.warning("routing_state_lost")
            await self._rebuild_once(force=False)
            await self._announce()
            await self.restore_local_sockets()
        elif not await self._announce():
            # Our heartbeat had expired (a long pause) and another process reaped our
            # sockets: we are alive after all, so register them again.
            log.warning("process_was_reaped", instance=self.instance)
            await self.restore_local_sockets()
        await self.reap()

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
                for chat in await self.hub.store.list_chats(
                    visitor_id=socket.owner_id, statuses=("queued", "bot")
                ):
                    await state.cancel_deadline(chat_deadline(socket.tenant_id, chat.id))
                continue
            await self.hub.agent_present(socket.tenant_id, socket.owner_id, socket.sid)
        for tenant_id in tenants:
            await self.hub.dispatch(tenant_id)
            await self.hub.publish_queue(tenant_id)
        log.info("local_sockets_restored", sockets=len(state.local_sockets))

    async def _socket_gone(self, socket: LocalSocket) -> None:
        if socket.kind == "visitor":
            await self.hub.visitor_socket_gone(socket.tenant_id, socket.owner_id, socket.sid)
        else:
            await self.hub.agent_socket_gone(socket.tenant_id, socket.owner_id, socket.sid)

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
                    await self.hub.rebuild()
                    await self.redis.set(EPOCH_KEY, uuid.uuid4().hex)
            finally:
                with contextlib.suppress(Exception):
                    await lock.release()
            return
        for _ in range(int(REBUILD_WAIT_S / REBUILD_POLL_S)):
            if await self.redis.exists(EPOCH_KEY):
                return
            await asyncio.sleep(REBUILD_POLL_S)
