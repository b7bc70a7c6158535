"""Socket.IO packets as python-socketio encodes them, made and sent for less.

python-socketio asks of every packet it builds (each emit, each ack) whether its data holds
bytes, by a recursive walk that builds a list at each level; on the message path that walk
cost more than storing the message. This one walks the same data with one explicit stack and
stops at the first bytes: the same answer, and the same packets on the wire.
"""

from __future__ import annotations

from typing import Any

import engineio
import socketio


def holds_bytes(data: Any) -> bool:
    """Whether `data` (JSON-like: dicts, lists, tuples, scalars) contains bytes anywhere."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, bytes | bytearray):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class JsonPacket(socketio.packet.Packet):  # type: ignore[misc]
    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        return holds_bytes(data)


async def emit_here(
    manager: socketio.AsyncManager,
    event: str,
    data: Any,
    *,
    namespace: str,
    room: str | None,
    skip_sid: str | list[str] | None,
) -> None:
    """Send `event` to the sockets of `room` that this process holds, as python-socketio's
    AsyncManager.emit does for data without bytes and without a callback: one packet, encoded
    once, to each recipient. Unlike it, nothing is encoded when nobody here is in the room
    (the visitor's own room, when the visitor has one tab and sent the message), and each
    packet is handed to engine.io's queue directly rather than through a task per recipient.
    """
    if namespace not in manager.rooms:
        return
    skipped = skip_sid if isinstance(skip_sid, list) else [skip_sid]
    recipients = [
        eio_sid for sid, eio_sid in manager.get_participants(namespace, room) if sid not in skipped
    ]
    if not recipients:
        return
    if isinstance(data, tuple):
        args = [event, *data]
    elif data is None:
        args = [event]
    else:
        args = [event, data]
    server = manager.server
    encoded = server.packet_class(
        socketio.packet.EVENT, namespace=namespace, data=args, binary=False
    ).encode()
    eio_packet = engineio.packet.Packet(engineio.packet.MESSAGE, encoded)
    for eio_sid in recipients:
        await server._send_eio_packet(eio_sid, eio_packet)


class LocalManager(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's in-process manager, emitting plain data through `emit_here`."""

    async def emit(  # noqa: PLR0917 (python-socketio's signature)
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: str | list[str] | None = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None or holds_bytes(data):
            await super().emit(event, data, namespace, room, skip_sid, callback, to=to, **kwargs)
            return
        await emit_here(self, event, data, namespace=namespace, room=to or room, skip_sid=skip_sid)
