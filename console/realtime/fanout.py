"""Fan-out across hub processes: python-socketio's `AsyncRedisManager` on the shared
Redis (chosen by `CHARLA_FANOUT`), publishing together what is emitted together, so that an
event for a room reaches that room's sockets on every process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import socketio
import structlog

from console.realtime.packets import LocalManager, emit_here, holds_bytes
from console.settings import Settings

log = structlog.get_logger("charla.cluster")

FANOUT_CHANNEL = "charla:socketio"
HOST_MARK = "|"  # between the publishing process's id and the JSON batch


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
