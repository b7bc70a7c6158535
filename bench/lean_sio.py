"""A lean Socket.IO v5 client over Engine.IO v4 WebSocket (aiohttp), for load generation.

python-socketio's own AsyncClient saturates its core near 5k round trips/s and would measure
itself; this one does only what a load generator needs: the WebSocket transport, one
namespace, events with acks, and answering pings. Packets:
`0{...}` open, `40/ns,{auth}` connect, `42/ns,<id>["event",{...}]` event with ack id,
`43/ns,<id>[...]` ack, `44/ns,{...}` connect error, `2` ping -> `3` pong.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import aiohttp

EventHandler = Callable[[str, Any], None]


class ConnectRefusedError(RuntimeError):
    pass


class LeanSocket:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        namespace: str,
        auth: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        on_event: EventHandler | None = None,
        compress: int = 0,
    ) -> None:
        """`compress`: the permessage-deflate window to offer (browsers offer 15; 0 offers
        none)."""
        self.session = session
        self.url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.namespace = namespace
        self.auth = auth
        self.headers = headers or {}
        self.compress = compress
        self.on_event = on_event or (lambda _event, _data: None)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._connected: asyncio.Future[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._prefix = "" if namespace == "/" else namespace + ","

    async def connect(self, timeout_s: float = 10) -> None:
        self.ws = await self.session.ws_connect(
            self.url,
            headers=self.headers,
            autoping=False,
            max_msg_size=0,
            compress=self.compress,
        )
        opened = await asyncio.wait_for(self.ws.receive_str(), timeout_s)
        if not opened.startswith("0"):
            raise ConnectRefusedError(f"unexpected Engine.IO open packet {opened[:80]!r}")
        self._connected = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        await self.ws.send_str(f"40{self._prefix}{json.dumps(self.auth)}")
        await asyncio.wait_for(self._connected, timeout_s)

    async def call(self, event: str, data: Any, timeout_s: float = 30) -> Any:
        assert self.ws is not None
        ack_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        await self.ws.send_str(f"42{self._prefix}{ack_id}{json.dumps([event, data])}")
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            self._acks.pop(ack_id, None)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data: str = message.data
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("4"):
                self._packet(data[1:])
        for future in self._acks.values():
            if not future.done():
                future.set_exception(ConnectionError("the connection closed"))
        if self._connected is not None and not self._connected.done():
            self._connected.set_exception(ConnectionError("the connection closed"))

    def _packet(self, packet: str) -> None:
        kind, rest = packet[0], packet[1:]
        if rest.startswith("/"):
            _namespace, _, rest = rest.partition(",")
        digits = 0
        while digits < len(rest) and rest[digits].isdigit():
            digits += 1
        ack_id, body = (int(rest[:digits]) if digits else None), rest[digits:]
        if kind == "2":
            event, *args = json.loads(body)
            self.on_event(event, args[0] if args else None)
        elif kind == "3" and ack_id is not None:
            future = self._acks.get(ack_id)
            if future is not None and not future.done():
                args = json.loads(body)
                future.set_result(args[0] if args else None)
        elif kind == "0" and self._connected is not None and not self._connected.done():
            self._connected.set_result(None)
        elif kind == "4" and self._connected is not None and not self._connected.done():
            self._connected.set_exception(ConnectRefusedError(body))
