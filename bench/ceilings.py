"""The ceilings Charla is compared with, run as their own processes by bench/scale.py:

- `echo`: a raw aiohttp WebSocket server that sends every text frame back;
- `bare`: a python-socketio server (aiohttp) whose `/visitor` namespace acks every
  `message` event with `{"ok": true}` and does nothing else;
- `bare-tuned`: the same with what Charla changes in a serving process around
  python-socketio (orjson for JSON, the garbage collector's settings, uvloop, and
  Engine.IO's WebSocket loop from console/realtime/engine.py), so that the ratio to it
  shows what Charla's own work costs.

Run: .venv/bin/python -m bench.ceilings echo|bare|bare-tuned PORT
"""

from __future__ import annotations

import sys
from typing import Any

import socketio
from aiohttp import WSMsgType, web

from console.realtime import fastjson
from console.realtime.engine import SocketServer
from console.runtime.eventloop import new_event_loop
from console.runtime.gctune import freeze_startup_objects, tune_for_serving


def echo_app() -> web.Application:
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                await ws.send_str(message.data)
        return ws

    app = web.Application()
    app.router.add_get("/echo", echo)
    app.router.add_get("/healthz", lambda _request: _ok())
    return app


async def _freeze(_app: web.Application) -> None:
    freeze_startup_objects()


async def _ok() -> web.Response:
    return web.json_response({"status": "ok"})


def bare_app(*, tuned: bool = False) -> web.Application:
    options: dict[str, Any] = {"json": fastjson} if tuned else {}
    server = SocketServer if tuned else socketio.AsyncServer
    sio = server(async_mode="aiohttp", cors_allowed_origins="*", **options)

    async def connect(_sid: str, _environ: dict[str, Any], _auth: Any = None) -> None:
        return None

    async def message(_sid: str, _data: Any) -> dict[str, Any]:
        return {"ok": True}

    # registered as calls: python-socketio is untyped, so its decorator would untype them
    sio.on("connect", connect, namespace="/visitor")
    sio.on("message", message, namespace="/visitor")
    app = web.Application()
    sio.attach(app)
    app.router.add_get("/healthz", lambda _request: _ok())
    return app


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    app = echo_app() if kind == "echo" else bare_app(tuned=kind == "bare-tuned")
    if kind == "bare-tuned":
        tune_for_serving()
        app.on_startup.append(_freeze)
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        print=lambda _m: None,
        access_log=None,
        loop=new_event_loop("uvloop" if kind == "bare-tuned" else "asyncio"),
    )


if __name__ == "__main__":
    main()
