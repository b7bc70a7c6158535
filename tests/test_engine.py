"""Charla's Engine.IO WebSocket loop (console/realtime/engine.py) keeps engine.io's contract:
the upgrade from long-polling, pings answered, and a silent client closed (by engine.io's
ping check; the loop's own idle timeout is only a backstop for a half-open connection)."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp

from console.realtime.engine import EngineSocket, _IdleReads
from console.settings import Limits
from console.web.keys import SIO
from tests.support.harness import ORIGIN, HubFactory, LiveHub, Peer, eventually, start_chat


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


async def engine_io(
    hub: LiveHub,
    http: aiohttp.ClientSession,
    headers: dict[str, str] | None = None,
    *,
    compress: int = 0,
) -> aiohttp.ClientWebSocketResponse:
    """A bare Engine.IO WebSocket, opened (the hub's OPEN packet read); it reads only when
    the test does. `compress`: the permessage-deflate window it offers (0: none)."""
    url = hub.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = await http.ws_connect(
        url, headers=headers or {}, autoping=False, max_msg_size=0, compress=compress
    )
    opened = await ws.receive_str()
    assert opened.startswith("0"), opened
    assert json.loads(opened[1:])["sid"]
    return ws


async def raw_websocket(
    hub: LiveHub, http: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    """An Engine.IO connection with no Socket.IO namespace, from an allowed origin."""
    await hub.tenant()
    return await engine_io(hub, http, {"Origin": ORIGIN})


async def test_a_browser_offering_compression_gets_plain_frames(hub: LiveHub) -> None:
    """Browsers offer permessage-deflate; accepting it would keep a zlib compressor and
    decompressor per connection (about 100 KB) to shrink messages of a few hundred bytes."""
    tenant = await hub.tenant()
    async with aiohttp.ClientSession() as http:
        ws = await engine_io(hub, http, {"Origin": ORIGIN}, compress=15)
        assert ws.compress == 0, "the hub accepted permessage-deflate"
        await ws.send_str("40/visitor," + json.dumps({"site_key": tenant["site_key"]}))
        got = [await asyncio.wait_for(ws.receive_str(), 10) for _ in range(2)]
        assert any(frame.startswith("40/visitor,") for frame in got), got
        assert any(frame.startswith('42/visitor,["session"') for frame in got), got
        await ws.close()


async def test_event_packets_of_every_shape_get_what_python_socketio_gives_them(
    hub: LiveHub,
) -> None:
    """Events reach the namespaces below python-socketio's own dispatch (SocketServer): an
    event with an ack id gets exactly one ack, with its id and namespace, an event that is
    not an array with a name an `invalid_payload` one too (python-socketio's own dispatch
    failed on it); an event to a namespace the socket is not in gets nothing; and the
    connection serves the next event after each."""
    tenant = await hub.tenant()
    async with aiohttp.ClientSession() as http:
        ws = await engine_io(hub, http, {"Origin": ORIGIN})
        await ws.send_str("40/visitor," + json.dumps({"site_key": tenant["site_key"]}))
        while not (await asyncio.wait_for(ws.receive_str(), 10)).startswith("40/visitor,"):
            pass
        for frame in (
            '42/visitor,7["no_such_event",{}]',  # unknown: an error ack
            '42/visitor,8["message"]',  # no payload: an error ack
            '42/visitor,9["no_such_event",{},"extra",2]',  # extra arguments: one ack
            '42/visitor,10{"event":"message"}',  # not an array: an error ack
            "42/visitor,11[]",  # no event name: an error ack
            '42/agent,12["set_status",{"status":"online"}]',  # not connected there: dropped
            '42/visitor,["typing",{"chat_id":"c","typing":true}]',  # no ack id: no ack
            '42/visitor,13["no_such_event"]',
        ):
            await ws.send_str(frame)
        acks: dict[int, list[dict[str, object]]] = {}
        while 13 not in acks:
            frame = await asyncio.wait_for(ws.receive_str(), 10)
            if frame.startswith("43"):
                assert frame.startswith("43/visitor,"), f"an ack for another namespace: {frame}"
                body = frame[len("43/visitor,") :]
                ack_id = int(body[: body.index("[")])
                assert ack_id not in acks, f"two acks for {ack_id}"
                acks[ack_id] = json.loads(body[body.index("[") :])
        await ws.send_str('42/visitor,14["no_such_event"]')
        while not (frame := await asyncio.wait_for(ws.receive_str(), 10)).startswith("43/"):
            pass
        assert frame.startswith("43/visitor,14["), frame
        await ws.close()
    assert [7, 8, 9, 10, 11, 13] == sorted(acks)
    for ack_id, (ack,) in acks.items():
        assert ack["ok"] is False, (ack_id, ack)
        assert "invalid_payload" == ack["error"]["code"], (ack_id, ack)  # type: ignore[index]
    assert "no_such_event" in str(acks[7])
    assert "no_such_event" in str(acks[9])


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


async def agent_websocket(
    hub: LiveHub, http: aiohttp.ClientSession, token: str
) -> aiohttp.ClientWebSocketResponse:
    """An agent online on a bare Engine.IO/Socket.IO WebSocket, which reads only when told."""
    ws = await engine_io(hub, http)
    await ws.send_str("40/agent," + json.dumps({"token": token}))
    while not (await ws.receive_str()).startswith("40/agent,"):
        pass
    await ws.send_str('42/agent,1["set_status",{"status":"online"}]')
    while not (await ws.receive_str()).startswith("43/agent,1"):
        pass
    return ws


async def test_an_agent_who_stops_reading_gets_every_message_in_order_when_reading_again(
    make_hub: HubFactory,
) -> None:
    """A connection that backs up (a slow network) still gets every packet, in order: while
    the hub's transport holds unsent bytes, packets go through engine.io's queue and writer.
    (The rule's other guards, nothing queued and no writer mid-batch, cover a window between
    a transport flush and the writer's next turn that no test here can hold open.)"""
    hub = await make_hub(limits=Limits(visitor_events_per_s=1000, visitor_burst=1000))
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"])
    async with aiohttp.ClientSession() as http:
        ws = await agent_websocket(hub, http, agent["token"])
        visitor = await hub.visitor_peer(tenant)
        chat = await start_chat(visitor, "Hola", language="es")
        while "chat_assigned" not in await ws.receive_str():
            pass
        [engine_socket] = [  # the agent's, on the hub: the only one with no Socket.IO client
            s for s in hub.app[SIO].eio.sockets.values() if s.sid not in visitor_eio_sids(hub)
        ]
        # A slow network: the agent stops reading, and both ends buffer little
        client = ws._conn.transport if ws._conn else None  # aiohttp keeps it there
        assert client is not None
        assert engine_socket._transport is not None
        client.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hub_side = engine_socket._transport.get_extra_info("socket")
        hub_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        client.pause_reading()
        sent = [f"{n:04d} " + "x" * 3900 for n in range(150)]  # ~600 KB

        async def send(text: str) -> None:
            ack = await visitor.call(
                "message", {"chat_id": chat["id"], "text": text, "client_msg_id": text[:4]}, 30
            )
            assert ack["ok"], ack

        await asyncio.gather(*(send(text) for text in sent))
        # What the agent has not read waits in the hub's transport: every packet sent while
        # it does goes through engine.io's queue and writer instead of straight out.
        backlog = engine_socket._transport.get_write_buffer_size()
        assert backlog > 0, "the agent's connection never backed up: nothing was queued"
        for side, option in (
            (client.get_extra_info("socket"), socket.SO_RCVBUF),
            (hub_side, socket.SO_SNDBUF),
        ):
            side.setsockopt(socket.SOL_SOCKET, option, 1 << 20)  # the network is fast again
        client.resume_reading()
        received: list[tuple[str, str]] = []
        while len(received) < len(sent):
            frame = await asyncio.wait_for(ws.receive_str(), 10)
            if frame.startswith('42/agent,["message"'):
                message = json.loads(frame[len("42/agent,") :])[1]["message"]
                received.append((message["id"], message["text"]))
        await ws.close()
    ids = [message_id for message_id, _ in received]
    assert ids == sorted(ids), "messages reached the agent out of order"
    assert sorted(sent) == sorted(text for _, text in received)


def visitor_eio_sids(hub: LiveHub) -> set[str]:
    visitors = hub.app[SIO].namespace_handlers["/visitor"]
    manager = hub.app[SIO].manager
    return {manager.eio_sid_from_sid(sid, "/visitor") for sid in visitors.sessions}


async def test_a_reader_is_cancelled_only_after_waiting_the_whole_idle_window() -> None:
    """The reading loop's backstop (`_IdleReads`): a reader that gets a frame every 50 ms is
    left alone well past its 200 ms window; one that then waits 200 ms for a frame is
    cancelled, and the cancel is taken back once it ends the read."""
    loop = asyncio.get_running_loop()
    frames: asyncio.Queue[str] = asyncio.Queue()

    async def feed() -> None:
        for n in range(12):
            await asyncio.sleep(0.05)
            frames.put_nowait(f"frame {n}")

    async def reader() -> tuple[int, float, int]:
        idle = _IdleReads(0.2)
        got = 0
        try:
            while True:
                try:
                    await idle.read(frames.get)
                except asyncio.CancelledError:
                    break
                got += 1
                await asyncio.sleep(0.01)  # handling a frame is not waiting for one
        finally:
            idle.stop()
        task = asyncio.current_task()
        assert task is not None
        return got, loop.time(), task.cancelling()

    feeder = asyncio.create_task(feed())
    started = loop.time()
    got, ended, cancelling = await asyncio.wait_for(reader(), 5)
    await feeder
    assert 12 == got, "the reader was cancelled while frames kept coming"
    assert 0.6 + 0.2 <= ended - started < 2, ended - started
    assert 0 == cancelling
