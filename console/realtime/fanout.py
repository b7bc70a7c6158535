"""Fan-out across hub processes: python-socketio's `AsyncRedisManager` on the shared
Redis (chosen by `CHARLA_FANOUT`), publishing together what is emitted together, so that an
event for a room reaches that room's sockets on every process, and only the processes that
hold a member of the room read it (console/realtime/holders.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import socketio
import structlog

from console.realtime.holders import (
    PROCESS_CHANNEL_PREFIX,
    ROUTE_SCRIPT,
    RoomHolders,
    forget_process,
    holders_key,
    process_channel,
)
from console.realtime.packets import LocalManager, emit_here, holds_bytes
from console.runtime.redis_client import socketio_options, socketio_url
from console.settings import Settings

log = structlog.get_logger("charla.cluster")

FANOUT_CHANNEL = "charla:socketio"
HOST_MARK = "|"  # between the publishing process's id and the JSON batch


def client_manager(settings: Settings, redis_url: str | None) -> socketio.AsyncManager:
    """The Socket.IO client manager for this deployment: in-process or through Redis (the
    primary Sentinel names, when CHARLA_REDIS_SENTINELS is set: the listener's reconnection
    finds the new one after a failover).

    python-socketio publishes each emit once on the channel (two tries) and drops it if
    Redis does not answer; its listener reconnects with a backoff of 1 s doubling to 60 s.
    Pub/sub is at-most-once either way: `sync` is what guarantees delivery.
    """
    if settings.resolved_fanout != "redis":
        return LocalManager()
    return CoalescingRedisManager(
        socketio_url(settings, redis_url),
        channel=FANOUT_CHANNEL,
        redis_options=socketio_options(
            settings, {"socket_connect_timeout": 2, "health_check_interval": 10}
        ),
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

    Addressed: an emit to a room goes, in one write per batch (a Lua script whose reply is
    never asked for: `RouteWriter`), only to the processes recorded as holding a member of
    that room, each on its own channel
    (`charla:socketio:<host id>`); what has no room (a namespace-wide emit, python-socketio's
    own messages) still goes on the channel every process reads. Each process records its
    rooms as its first socket enters one and its last leaves (`RoomHolders`), records them
    all again whenever its listener (re)subscribes (a Redis restart or failover), and is
    removed from them when it leaves or is reaped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (routed, message): routed emits go by room, the rest on the shared channel
        self._outgoing: list[tuple[bool, dict[str, Any]]] = []
        self._publisher: asyncio.Task[None] | None = None
        self.holders = RoomHolders(self.host_id, lambda: self.redis)
        self.router = RouteWriter(lambda: self.redis)

    # -- who holds which room ---------------------------------------------------------------

    def basic_enter_room(
        self, sid: str, namespace: str, room: str | None, eio_sid: str | None = None
    ) -> None:
        first = room is not None and room != sid and not self.rooms.get(namespace, {}).get(room)
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if first and room is not None:
            self.holders.entered(holders_key(namespace, room))

    def basic_leave_room(self, sid: str, namespace: str, room: str | None) -> None:
        was_in = (
            room is not None and room != sid and sid in self.rooms.get(namespace, {}).get(room, {})
        )
        super().basic_leave_room(sid, namespace, room)
        if was_in and room is not None and room not in self.rooms.get(namespace, {}):
            self.holders.left(holders_key(namespace, room))

    async def enter_room(
        self, sid: str, namespace: str, room: str, eio_sid: str | None = None
    ) -> None:
        """As python-socketio's, and only once this process is recorded as the room's."""
        await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        await self.holders.flushed()

    def held_rooms(self) -> list[str]:
        """The holders keys of every room this process has a member of (sid rooms aside)."""
        keys = []
        for namespace, rooms in self.rooms.items():
            sids = rooms.get(None, {})
            keys += [holders_key(namespace, r) for r in rooms if r is not None and r not in sids]
        return keys

    async def register_all(self) -> None:
        await self.holders.register_all(self.held_rooms())

    async def forget(self, process: str) -> None:
        """Remove a process (this one at a clean shutdown, or one reaped) from the rooms."""
        await forget_process(self.redis, process)

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
        namespace = namespace or "/"
        room = to or room
        await emit_here(self, event, data, namespace=namespace, room=room, skip_sid=skip_sid)
        if room is None:
            await self._publish(message)
        elif not self.is_sid_room(namespace, room):  # a sid here is a socket of this process
            self._queue(True, message)

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
        """On the channel every process reads (python-socketio's messages use it too)."""
        self._queue(False, data)

    def _queue(self, routed: bool, data: dict[str, Any]) -> None:
        self._outgoing.append((routed, data))
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.get_running_loop().create_task(self._publish_queued())

    async def _publish_queued(self) -> None:
        await asyncio.sleep(0)  # the rest of this turn's emits join the batch
        while self._outgoing:
            batch, self._outgoing = self._outgoing, []
            start = 0
            for end in range(1, len(batch) + 1):  # runs of one kind, in order
                if end < len(batch) and batch[end][0] == batch[start][0]:
                    continue
                run = [message for _, message in batch[start:end]]
                await (self._send_routed(run) if batch[start][0] else self._send_shared(run))
                start = end

    async def _send_shared(self, run: list[dict[str, Any]]) -> None:
        body = self.json.dumps(run[0] if len(run) == 1 else run)
        await self._send(
            lambda: self.redis.publish(self.channel, f"{self.host_id}{HOST_MARK}{body}")
        )

    async def _send_routed(self, run: list[dict[str, Any]]) -> None:
        keys = [holders_key(m["namespace"], m["room"]) for m in run]
        args = [self.host_id, PROCESS_CHANNEL_PREFIX, *(self.json.dumps(m) for m in run)]
        await self._send(lambda: self.router.send(keys, args))

    async def _send(self, send: Any) -> None:
        """Publish once, or twice after reconnecting; then give up (pub/sub is at-most-once,
        `sync` is what guarantees delivery), as python-socketio's publisher does."""
        for attempt in (1, 2):
            try:
                if not self.connected:  # type: ignore[has-type]
                    self._redis_connect()
                await send()
                return
            except Exception as exc:  # any failure: reconnect, then give up
                self.connected = False
                log.warning("fanout_publish_failed", attempt=attempt, error=str(exc))

    async def flush(self) -> None:
        """Wait until everything emitted so far has been handed to Redis (or given up)."""
        while self._publisher is not None and not self._publisher.done():
            await asyncio.shield(self._publisher)

    async def _redis_listen_with_retries(self) -> AsyncIterator[dict[str, Any]]:
        """As python-socketio's, on the shared channel and this process's own; after each
        (re)subscription this process's rooms are recorded again (Redis may have restarted
        empty, or failed over)."""
        retry_s = 1.0
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel, process_channel(self.host_id))
                    subscribed = True
                    await self.router.reset()  # Redis may have restarted, or failed over
                    retry_s = 1.0
                    await self.register_all()
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # any failure: resubscribe after a backoff
                log.warning("fanout_listen_failed", error=str(exc), retry_s=retry_s)
                subscribed = False
                await asyncio.sleep(retry_s)
                retry_s = min(retry_s * 2, 60.0)

    async def _listen(self) -> AsyncIterator[dict[str, Any]]:
        own = f"{self.host_id}{HOST_MARK}".encode()
        async for received in self._redis_listen_with_retries():
            if received.get("type") != "message" or "data" not in received:
                continue
            published = received["data"]
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


class RouteWriter:
    """The routing script (holders.py's `ROUTE_SCRIPT`), sent on a Redis connection of its
    own that gets no replies (`CLIENT REPLY OFF`).

    The script's answer (how many processes it published to) was never used, yet waiting
    for it woke the hub once more for each batch of emits: at the load a hub meets most of
    the day a batch is one message, and going without the answer took about a tenth off
    that message's CPU (docs/performance.md). Pub/sub is at-most-once either way (`sync` is what
    guarantees delivery): a write that fails resets the connection and raises, for the
    publisher's second try, and the listener resets it whenever it subscribes again (Redis
    restarted or failed over), so that the next batch goes to the Redis it now reads. The
    script goes in full each time (EVAL, not EVALSHA): with no replies, a script missing
    from Redis's cache would fail unseen.
    """

    def __init__(self, redis: Callable[[], Any]) -> None:
        self._redis = redis  # the manager's client (replaced when it reconnects)
        self._connection: Any = None

    async def send(self, keys: list[str], args: list[str]) -> None:
        connection = self._connection
        try:
            if connection is None:
                # the client's kind of connection (Sentinel's too), outside its pool
                connection = self._redis().connection_pool.make_connection()
                self._connection = connection
                await connection.connect()
                # no health checks: their PING would wait for a reply that never comes
                await connection.send_command("CLIENT", "REPLY", "OFF", check_health=False)
            command = connection.pack_command("EVAL", ROUTE_SCRIPT, len(keys), *keys, *args)
            await connection.send_packed_command(command, check_health=False)
        except BaseException:
            await self.reset()
            raise

    async def reset(self) -> None:
        """Drop the connection: the next batch opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.disconnect()
