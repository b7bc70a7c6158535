"""Engine.IO's WebSocket transport, with no task made for each frame.

python-engine.io (4.x) waits for each frame a client sends by starting a task and wrapping it
in `asyncio.wait_for`, and sends every packet through a queue to a writer task, which waits
for it with another `wait_for` (a task again): per message, two or three tasks and a task
switch for each packet sent. `EngineSocket` reads with the same idle timeout (one timer per
idle period, not one per frame), writes a packet at once when nothing is queued ahead of it
and the transport is not backed up (else through the queue and writer, as before), with the
same upgrade handshake and the same packets on the wire. Long-polling and everything else
are engine.io's own.

Frames go uncompressed: a browser offers permessage-deflate, and aiohttp accepts it by
default, which gives each connection a zlib compressor and decompressor for its lifetime
(about 100 KB, three times an idle visitor's whole cost) to shrink messages of a few hundred
bytes. Socket.IO's own Node server turns it off by default for the same reason.

`SocketServer` is python-socketio's AsyncServer whose engine.io server makes its sockets
`EngineSocket`s (engine.io builds them itself, so their class is set as they connect), and
which answers the events of a namespace class below python-socketio's own dispatch.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import socketio
import structlog
from aiohttp import web
from engineio import exceptions, packet
from engineio.async_drivers import aiohttp as engineio_aiohttp
from engineio.async_socket import AsyncSocket

from console.domain.errors import ProtocolError

_log = structlog.get_logger("charla.realtime")
# The head of an EVENT packet: its namespace and ack id, if any (`2/visitor,17[...`)
_EVENT_HEAD = re.compile(r"2(?:(?P<namespace>/[^,\[{\"]*),)?(?P<id>\d{1,15})?")
_ENDING: set[asyncio.Future[None]] = set()  # connections being closed (tasks need a holder)
_ANSWERING: set[asyncio.Future[None]] = set()  # events being answered


def _carries_socketio(frame: Any) -> bool:
    """Whether a text frame is an engine.io MESSAGE holding a Socket.IO packet ("4" and the
    packet's type digit), whose data engine.io's decoder would pass on as the text after "4"."""
    return type(frame) is str and frame[:1] == "4" and frame[1:2].isdigit()


class _IdleReads:
    """Reads for the current task, cancelling a read that has waited `idle_s`. One timer per
    idle period, where `asyncio.timeout` around each read set and cancelled one per frame."""

    def __init__(self, idle_s: float) -> None:
        task = asyncio.current_task()
        assert task is not None, "made by the task that reads"
        self.task = task
        self.loop = task.get_loop()
        self.idle_s = idle_s
        self.waiting_since: float | None = None  # None while the reader handles a frame
        self.expired = False
        self.timer = self.loop.call_later(idle_s, self._check)

    async def read(self, wait: Callable[[], Awaitable[Any]]) -> Any:
        """`wait()`'s frame; CancelledError once it has waited `idle_s`."""
        self.waiting_since = self.loop.time()
        try:
            return await wait()
        finally:
            self.waiting_since = None

    def _check(self) -> None:
        now = self.loop.time()
        since = self.waiting_since
        if since is not None and now - since >= self.idle_s:
            self.expired = True
            self.task.cancel()
            return
        # handling a frame, or waiting for less than idle_s: look again when it would be idle
        due = now + self.idle_s if since is None else since + self.idle_s
        self.timer = self.loop.call_at(due, self._check)

    def stop(self) -> None:
        self.timer.cancel()
        if self.expired:
            self.task.uncancel()  # the cancel was ours, and it ended the read


class EngineSocket(AsyncSocket):  # type: ignore[misc]
    connected: bool
    upgraded: bool
    upgrading: bool
    # Set while the WebSocket transport serves this socket: the connection and its transport
    _ws: Any = None
    _transport: asyncio.Transport | None = None
    _writing = False  # the writer holds packets taken from the queue and is sending them

    async def send(self, pkt: packet.Packet) -> None:
        """Send a packet to the client: on a WebSocket with nothing queued or being sent
        ahead of it and nothing waiting in the transport's buffer, written at once (the
        frame goes to the socket without a wait); otherwise through engine.io's queue and
        writer, so that order is kept and a slow client never holds up the sender."""
        if not await self.check_ping_timeout():
            return
        transport = self._transport
        if (
            transport is not None
            and not self._writing
            and self.queue.empty()
            and not transport.is_closing()
            and transport.get_write_buffer_size() == 0
        ):
            with contextlib.suppress(Exception):  # a broken connection: the reader ends it
                await self._ws.send(pkt.encode())
            return
        await self.queue.put(pkt)

    async def _outgoing(self) -> list[Any] | None:
        """The writer's next packets; None once the transport ends (its reader queues None).

        No deadline: packets often go out without the queue (`send`), pings included, so an
        empty queue says nothing about the connection; its reader watches the client."""
        first = await self.queue.get()
        self.queue.task_done()
        if first is None:
            return None
        packets = [first]
        while not self.queue.empty():
            pkt = self.queue.get_nowait()
            self.queue.task_done()
            if pkt is None:
                self.queue.put_nowait(None)
                break
            packets.append(pkt)
        return packets

    async def _upgrade(self, ws: Any, wait: Callable[[], Awaitable[Any]]) -> bool:
        """engine.io's upgrade handshake from long-polling: probe, then UPGRADE."""
        self.upgrading = True  # hold packet sends during the upgrade
        try:
            pkt = await wait()
        except OSError:
            self.upgrading = False
            return False
        decoded = packet.Packet(encoded_packet=pkt)
        if decoded.packet_type != packet.PING or decoded.data != "probe":
            self.upgrading = False
            return False
        await ws.send(packet.Packet(packet.PONG, data="probe").encode())
        await self.queue.put(packet.Packet(packet.NOOP))  # end poll
        try:
            pkt = await wait()
        except OSError:
            self.upgrading = False
            return False
        self.upgrading = False
        self.upgraded = packet.Packet(encoded_packet=pkt).packet_type == packet.UPGRADE
        return bool(self.upgraded)

    async def _websocket_handler(self, ws: Any) -> None:
        """Engine.IO's handler for the WebSocket transport (upgrade handshake unchanged)."""
        limit = self.server.max_http_buffer_size

        async def wait() -> Any:
            data = await ws.wait()
            if data and len(data) > limit:
                raise ValueError("packet is too large")
            return data

        if self.connected:  # an upgrade from long-polling
            if not await self._upgrade(ws, wait):
                return
        else:
            self.connected = True
            self.upgraded = True

        async def writer() -> None:
            # a broken connection ends it: nothing more can be sent, and the reader stops
            with contextlib.suppress(Exception):
                while (packets := await self._outgoing()) is not None:
                    self._writing = True
                    try:
                        for pkt in packets:
                            await ws.send(pkt.encode())
                    finally:
                        self._writing = False
            await ws.close()

        writer_task = asyncio.ensure_future(writer())
        self._ws, self._transport = ws, ws.environ["aiohttp.request"].transport
        await self._read(wait)
        self._ws = self._transport = None
        # Shielded: a server that cancels a handler when its connection drops (aiohttp's
        # handler_cancellation) would otherwise skip the close, and so the disconnect.
        ending = asyncio.ensure_future(self._end(writer_task))
        _ENDING.add(ending)
        ending.add_done_callback(_ENDING.discard)
        await asyncio.shield(ending)

    async def _read(self, wait: Callable[[], Awaitable[Any]]) -> None:
        """Hand each frame the client sends to engine.io (a Socket.IO packet straight to
        Socket.IO), until the connection closes, fails or stays idle past the ping window."""
        on_message = self.server.handlers.get("message")  # Socket.IO's, set before any socket
        idle = _IdleReads(self.server.ping_interval + self.server.ping_timeout)
        try:
            while True:
                try:
                    received = await idle.read(wait)
                except (Exception, asyncio.CancelledError):  # timed out, closed, too large: the end
                    break
                if received is None:  # closed by the client
                    break
                try:
                    if on_message is not None and _carries_socketio(received):
                        # what receive() does with a MESSAGE, without decoding it twice
                        await on_message(self.sid, received[1:])
                    else:
                        await self.receive(packet.Packet(encoded_packet=received))
                except exceptions.UnknownPacketError:
                    pass
                except exceptions.SocketIsClosedError:
                    break
                except Exception:
                    self.server.logger.exception("Unknown receive error")
        finally:
            idle.stop()

    async def _end(self, writer_task: asyncio.Future[None]) -> None:
        await self.queue.put(None)  # unlock the writer task so it can exit
        await writer_task
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)


class PlainWebSocket(engineio_aiohttp.WebSocket):  # type: ignore[misc]
    """engine.io's aiohttp WebSocket, answering a permessage-deflate offer with no; frames
    up to `max_http_buffer_size` bytes are read, a larger one closes the connection (1009)."""

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request = environ["aiohttp.request"]
        # aiohttp refuses a frame of max_msg_size bytes itself: one more, so that a frame of
        # exactly max_http_buffer_size (the hard cap) is still read
        self._sock = web.WebSocketResponse(
            max_msg_size=self.server.max_http_buffer_size + 1, compress=False
        )
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    _async: dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.async_mode == "aiohttp":  # the driver's table is shared: copy, then change
            self._async = {**self._async, "websocket": PlainWebSocket}

    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "connect":
            # engine.io has just made this connection's socket, before it serves any transport
            made = self.sockets.get(args[0])
            if type(made) is AsyncSocket:
                made.__class__ = EngineSocket
        return await super()._trigger_event(event, *args, **kwargs)


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server, answering events for a namespace class in one task each.

    For an EVENT packet, python-socketio starts a task that resolves the handler (plain
    handlers first, then catch-alls, then the namespace class), calls it, and builds the ack
    as a Packet, which walks the result looking for bytes before encoding it. When a
    namespace class is the only handler its events can reach, as it is for every namespace
    of Charla's, this calls it as python-socketio would, in a task of its own per event (so
    a slow event never holds up the next), and builds the ack as a Packet told that it holds
    no bytes (the walk skipped). Any other packet, and an ack holding bytes, takes
    python-socketio's own path.
    """

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return EngineServer

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if type(data) is not str or data[:1] != "2" or eio_sid in self._binary_packet:
            try:
                await super()._handle_eio_message(eio_sid, data)  # not an EVENT, or binary
            except ValueError:  # a packet that does not parse: dropped, as engine.io would
                _log.warning("malformed_packet", packet_type=str(data)[:1])
            return
        try:
            pkt = self.packet_class(encoded_packet=data)
        except ValueError:  # not JSON (a lone surrogate, a number past a double...)
            await self._refuse(eio_sid, data, "the event is not valid JSON")
            return
        namespace = pkt.namespace or "/"
        handler = self.namespace_handlers.get(namespace)
        args = pkt.data
        if not isinstance(args, list) or not args or not isinstance(args[0], str):
            await self._refuse(eio_sid, data, "an event is a JSON array: [name, payload]")
            return
        if (
            handler is None
            or not self.async_handlers
            or namespace in self.handlers
            or "*" in self.handlers
        ):
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, args)
            return
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if not self.manager.is_connected(sid, namespace):
            return  # as python-socketio: an event from a socket not connected is dropped
        task = asyncio.ensure_future(self._answer(handler, sid, eio_sid, namespace, pkt.id, args))
        _ANSWERING.add(task)
        task.add_done_callback(_ANSWERING.discard)

    async def _refuse(self, eio_sid: str, frame: str, why: str) -> None:
        """An EVENT packet that is no event: `invalid_payload` to its ack id, if it has one
        that can be read (`2/namespace,<id>...`), else dropped (python-socketio's own
        dispatch failed on these with a traceback). The connection stays."""
        found = _EVENT_HEAD.match(frame)
        if found is None or not found["id"]:
            return
        namespace = found["namespace"] or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if not self.manager.is_connected(sid, namespace):
            return  # as for any event: nothing to a namespace the socket is not in
        ack = ProtocolError("invalid_payload", why).ack()
        encoded = self.packet_class(
            socketio.packet.ACK, namespace=namespace, id=int(found["id"]), data=[ack], binary=False
        ).encode()
        await self.eio.send(eio_sid, encoded)

    async def _answer(  # noqa: PLR0917 (what one event needs)
        self,
        handler: socketio.AsyncNamespace,
        sid: str,
        eio_sid: str,
        namespace: str,
        ack_id: int | None,
        args: list[Any],
    ) -> None:
        result = await handler.trigger_event(args[0], sid, *args[1:])
        if ack_id is None:
            return
        if result is None:
            data = []
        elif isinstance(result, tuple):
            data = list(result)
        else:
            data = [result]
        ack = socketio.packet.ACK
        try:  # told it holds no bytes, the packet skips its walk looking for them
            encoded = self.packet_class(
                ack, namespace=namespace, id=ack_id, data=data, binary=False
            ).encode()
        except TypeError:  # not plain JSON (bytes): python-socketio's binary ack
            binary = self.packet_class(ack, namespace=namespace, id=ack_id, data=data)
            await self._send_packet(eio_sid, binary)
            return
        await self.eio.send(eio_sid, encoded)
