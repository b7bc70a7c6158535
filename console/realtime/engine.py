"""Engine.IO's WebSocket transport, with no task made for each frame.

python-engine.io (4.x) waits for each frame a client sends by starting a task and wrapping it
in `asyncio.wait_for`, and its writer waits for each batch of outgoing packets with another
`wait_for`, which wraps the queue read in a task too: two or three tasks per message, which
at saturation cost the hub about as much as storing the message. `EngineSocket` runs the same
loops under `asyncio.timeout`, with the same timeouts, the same upgrade handshake and the same
packets on the wire; everything else is engine.io's own.

`SocketServer` is python-socketio's AsyncServer whose engine.io server makes its sockets
`EngineSocket`s (engine.io builds them itself, so their class is set as they connect).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import socketio
from engineio import exceptions, packet
from engineio.async_socket import AsyncSocket


class EngineSocket(AsyncSocket):  # type: ignore[misc]
    connected: bool
    upgraded: bool
    upgrading: bool

    async def poll(self) -> list[Any]:
        """Wait for packets to send to the client (as engine.io's own, without wait_for)."""
        try:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                first = await self.queue.get()
            self.queue.task_done()
        except (TimeoutError, asyncio.CancelledError):
            raise exceptions.QueueEmpty() from None
        if first is None:
            return []
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
            while True:
                try:
                    packets = await self.poll()
                except exceptions.QueueEmpty:
                    break
                if not packets:  # the connection is closing
                    break
                try:
                    for pkt in packets:
                        await ws.send(pkt.encode())
                except Exception:
                    break
            await ws.close()

        writer_task = asyncio.ensure_future(writer())
        idle_s = self.server.ping_interval + self.server.ping_timeout
        while True:
            try:
                async with asyncio.timeout(idle_s):
                    received = await wait()
            except (Exception, asyncio.CancelledError):  # timed out, closed, too large: the end
                break
            if received is None:  # closed by the client
                break
            try:
                await self.receive(packet.Packet(encoded_packet=received))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:
                self.server.logger.exception("Unknown receive error")

        await self.queue.put(None)  # unlock the writer task so it can exit
        await writer_task
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    async def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        if event == "connect":
            # engine.io has just made this connection's socket, before it serves any transport
            made = self.sockets.get(args[0])
            if type(made) is AsyncSocket:
                made.__class__ = EngineSocket
        return await super()._trigger_event(event, *args, **kwargs)


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return EngineServer
