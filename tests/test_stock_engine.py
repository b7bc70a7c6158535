"""CHARLA_SOCKETIO_ENGINE=stock: python-socketio's and python-engineio's own loops in place
of console/realtime/engine.py (the fallback for a release of either that engine.py no longer
fits), speaking the same protocol: a chat over WebSocket and over long-polling."""

from __future__ import annotations

import pytest
import socketio
from engineio.async_socket import AsyncSocket

from console.realtime.engine import SocketServer
from console.web.keys import SIO
from tests.support.harness import ORIGIN, HubFactory, Peer, start_chat


@pytest.mark.parametrize("transports", [["websocket"], ["polling"]])
async def test_a_chat_runs_on_the_stock_engine(make_hub: HubFactory, transports: list[str]) -> None:
    hub = await make_hub(socketio_engine="stock")
    assert type(hub.app[SIO]) is socketio.AsyncServer
    assert not isinstance(hub.app[SIO], SocketServer)
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = Peer(hub.url, "/visitor")
    hub.peers.append(visitor)
    await visitor.connect(
        {"site_key": tenant["site_key"]}, headers={"Origin": ORIGIN}, transports=transports
    )
    chat = await start_chat(visitor, "Hola", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    ack = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "¿Y la Tacoma?", "client_msg_id": "m1"}
    )
    assert ack["ok"], ack
    got = await agent_peer.wait_for("message", lambda d: d["message"]["client_msg_id"] == "m1")
    assert "¿Y la Tacoma?" == got["message"]["text"]
    reply = await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "Sí, la tenemos", "client_msg_id": "r1"}
    )
    assert reply["ok"], reply
    heard = await visitor.wait_for("message", lambda d: d["message"]["client_msg_id"] == "r1")
    assert "Sí, la tenemos" == heard["message"]["text"]
    sio = hub.app[SIO]
    sockets = sio.eio.sockets.values()
    assert sockets
    assert all(type(s) is AsyncSocket for s in sockets), [type(s) for s in sockets]
    # python-engineio holds a closing client's pending poll until the ping interval;
    # closing from the hub's side answers it at once (as tests/test_chat_flow.py does)
    await sio.eio.disconnect(
        sio.manager.eio_sid_from_sid(visitor.sio.get_sid("/visitor"), "/visitor")
    )
