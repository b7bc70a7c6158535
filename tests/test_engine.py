"""Charla's Engine.IO WebSocket loop (console/realtime/engine.py) keeps engine.io's contract:
the upgrade from long-polling, pings answered, and a silent client closed (by engine.io's
ping check; the loop's own idle timeout is only a backstop for a half-open connection)."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from console.realtime.engine import EngineSocket
from console.web.keys import SIO
from tests.harness import ORIGIN, LiveHub, Peer, eventually, start_chat


async def test_a_client_upgraded_from_long_polling_chats_over_the_lean_websocket(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = Peer(hub.url, "/visitor")
    hub.peers.append(visitor)
    await visitor.connect(
        {"site_key": tenant["site_key"]},
        headers={"Origin": ORIGIN},
        transports=["polling", "websocket"],
    )
    await eventually(lambda: visitor.sio.transport() == "websocket", what="the upgrade")
    chat = await start_chat(visitor, "Hola", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    ack = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "¿Tienen la Tacoma?", "client_msg_id": "m1"}
    )
    assert ack["ok"], ack
    got = await agent_peer.wait_for("message", lambda d: d["message"]["client_msg_id"] == "m1")
    assert "¿Tienen la Tacoma?" == got["message"]["text"]
    sockets = hub.app[SIO].eio.sockets.values()
    assert sockets, "the hub holds engine.io sockets"
    assert all(type(s) is EngineSocket for s in sockets), [type(s) for s in sockets]


async def raw_websocket(
    hub: LiveHub, http: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    """An Engine.IO connection with no Socket.IO namespace, from an allowed origin."""
    await hub.tenant()
    url = hub.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = await http.ws_connect(url, headers={"Origin": ORIGIN}, autoping=False)
    opened = await ws.receive_str()
    assert opened.startswith("0"), opened
    assert json.loads(opened[1:])["sid"]
    return ws


async def test_a_client_that_stops_answering_pings_is_closed_after_the_ping_window(
    hub: LiveHub,
) -> None:
    eio = hub.app[SIO].eio
    eio.ping_interval, eio.ping_timeout = 0.2, 0.3
    async with aiohttp.ClientSession() as http:
        silent = await raw_websocket(hub, http)
        got: list[str] = []
        started = asyncio.get_running_loop().time()
        while True:  # read what the hub sends (pings) and never answer
            message = await asyncio.wait_for(silent.receive(), 10)
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            got.append(message.data)
        elapsed = asyncio.get_running_loop().time() - started
    assert "2" in got, f"the hub pinged before closing: {got}"
    assert elapsed < 5, f"closed after {elapsed:.1f} s, ping window 0.5 s"
    await eventually(lambda: not eio.sockets, what="the silent socket forgotten")


async def test_a_client_that_answers_pings_stays_connected(hub: LiveHub) -> None:
    eio = hub.app[SIO].eio
    eio.ping_interval, eio.ping_timeout = 0.2, 0.3
    async with aiohttp.ClientSession() as http:
        ws = await raw_websocket(hub, http)
        pings = 0
        loop = asyncio.get_running_loop()
        until = loop.time() + 2  # four ping windows
        while loop.time() < until:
            message = await asyncio.wait_for(ws.receive(), 5)
            assert aiohttp.WSMsgType.TEXT == message.type, message
            if message.data == "2":
                pings += 1
                await ws.send_str("3")
        assert pings >= 3, pings
        assert not ws.closed
        await ws.close()
