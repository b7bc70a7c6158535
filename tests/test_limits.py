"""Limits that protect the hub: event rates, frame sizes, origins and login attempts."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import socketio

from console.settings import Limits
from tests.support.harness import (
    ADMIN_TOKEN,
    ORIGIN,
    PASSWORD,
    HubFactory,
    LiveHub,
    Peer,
    active_chat,
)

TIGHT = Limits(visitor_events_per_s=5, visitor_burst=3, agent_events_per_s=5, agent_burst=3)
REFILL_S = 0.25  # one token at 5 events/s, with a little slack
PAGE = {"url": "https://dealer.example/inventory"}


def code_of(ack: Any) -> str:
    assert False is ack["ok"], ack
    assert "" != ack["error"]["message"]
    code: str = ack["error"]["code"]
    return code


async def transcript(hub: LiveHub, agent: dict[str, Any], chat_id: str) -> list[str]:
    status, chat = await hub.request("GET", f"/api/chats/{chat_id}", token=agent["token"])
    assert 200 == status, chat
    return [m["text"] for m in chat["messages"]]


# -- per-connection event rate ------------------------------------------------------------


async def test_a_visitor_past_the_burst_is_rate_limited_until_tokens_refill(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(limits=TIGHT)
    tenant = await hub.tenant()
    visitor = await hub.visitor_peer(tenant)
    neighbour = await hub.visitor_peer(tenant)

    acks = [await visitor.call("page_view", PAGE) for _ in range(4)]

    assert [True, True, True, False] == [a["ok"] for a in acks]
    assert "rate_limited" == code_of(acks[3])
    assert {"ok": True} == await neighbour.call("page_view", PAGE)
    assert visitor.sio.connected
    await asyncio.sleep(REFILL_S)
    assert {"ok": True} == await visitor.call("page_view", PAGE)


async def test_a_visitors_connections_share_one_budget(make_hub: HubFactory) -> None:
    hub = await make_hub(limits=Limits(visitor_events_per_s=0.2, visitor_burst=3))
    tenant = await hub.tenant()
    first_tab = await hub.visitor_peer(tenant)
    visitor_id = first_tab.seen("session")[0]["visitor_id"]
    second_tab = await hub.visitor_peer(tenant, visitor_id=visitor_id)

    acks = [await tab.call("page_view", PAGE) for tab in (first_tab, second_tab) * 2]

    assert [True, True, True, False] == [a["ok"] for a in acks]
    assert "rate_limited" == code_of(acks[3])
    third_tab = await hub.visitor_peer(tenant, visitor_id=visitor_id)
    assert "rate_limited" == code_of(await third_tab.call("page_view", PAGE))


async def test_an_agent_past_the_burst_is_rate_limited_until_tokens_refill(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(limits=TIGHT)
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    peer = await hub.agent_peer(agent, online=False)

    acks = [await peer.call("set_status", {"status": "away"}) for _ in range(4)]

    assert [True, True, True, False] == [a["ok"] for a in acks]
    assert "rate_limited" == code_of(acks[3])
    await asyncio.sleep(REFILL_S)
    assert {"ok": True, "status": "online"} == await peer.call("set_status", {"status": "online"})


async def test_rate_limited_messages_are_not_stored_nor_delivered(make_hub: HubFactory) -> None:
    hub = await make_hub(limits=Limits(visitor_events_per_s=0.5, visitor_burst=5))
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub, text="Hola")

    acks = await asyncio.gather(
        *(
            visitor.call(
                "message", {"chat_id": chat["id"], "text": f"m{i}", "client_msg_id": f"c{i}"}
            )
            for i in range(8)
        )
    )

    accepted = sorted(a["message"]["text"] for a in acks if a["ok"])
    assert 4 == len(accepted)
    assert ["rate_limited"] * 4 == [code_of(a) for a in acks if not a["ok"]]
    await agent_peer.wait_for("message", count=4)
    assert accepted == sorted(d["message"]["text"] for d in agent_peer.seen("message"))
    assert ["Hola", *accepted] == ["Hola", *sorted((await transcript(hub, agent, chat["id"]))[1:])]


# -- Engine.IO's max_http_buffer_size, the hard cap ---------------------------------------


class RawSocket:
    """Engine.IO v4 over a bare websocket, to send frames no Socket.IO client would."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, handshake: dict[str, Any]) -> None:
        self.ws = ws
        self.handshake = handshake

    @classmethod
    async def open(cls, hub: LiveHub) -> RawSocket:
        ws = await hub.http.ws_connect(hub.url + "/socket.io/?EIO=4&transport=websocket")
        opened = await ws.receive_str(timeout=5)
        assert opened.startswith("0"), opened
        return cls(ws, json.loads(opened[1:]))

    async def join_visitor(self, tenant: dict[str, Any]) -> None:
        await self.ws.send_str("40/visitor," + json.dumps({"site_key": tenant["site_key"]}))
        seen = sorted([await self.ws.receive_str(timeout=5) for _ in range(2)])
        assert seen[0].startswith("40/visitor,{"), seen
        assert seen[1].startswith('42/visitor,["session"'), seen

    async def call(self, ack_id: int, event: str, data: Any) -> Any:
        await self.ws.send_str(f"42/visitor,{ack_id}" + json.dumps([event, data]))
        while True:
            frame = await self.ws.receive_str(timeout=5)
            prefix = f"43/visitor,{ack_id}"
            if frame.startswith(prefix):
                return json.loads(frame[len(prefix) :])[0]


HARD_CAP = 1024 * 1024  # Limits.max_frame_bytes: one Engine.IO packet


def frame_of(ack_id: int, event: str, data: dict[str, Any], size: int) -> str:
    """A `/visitor` EVENT frame of exactly `size` characters (ASCII), its `text` padded."""
    head = f"42/visitor,{ack_id}"
    empty = head + json.dumps([event, {**data, "text": ""}])
    return head + json.dumps([event, {**data, "text": "x" * (size - len(empty))}])


async def test_a_message_in_a_1_mib_frame_is_too_large_and_the_connection_stays(
    hub: LiveHub,
) -> None:
    tenant, agent, agent_peer, bystander, chat = await active_chat(hub, text="Hola")
    raw = await RawSocket.open(hub)
    await raw.join_visitor(tenant)

    await raw.ws.send_str(frame_of(1, "start_chat", {"language": "es"}, HARD_CAP))
    pasted = json.loads((await raw.ws.receive_str(timeout=5))[len("43/visitor,1") :])[0]
    started = await raw.call(2, "start_chat", {"text": "Hola otra vez", "language": "es"})
    message = {"chat_id": chat["id"], "client_msg_id": "big"}
    big = await bystander.call("message", {**message, "text": "y" * (HARD_CAP - 200)})
    after = await bystander.call(
        "message", {**message, "text": "¿sigue ahí?", "client_msg_id": "ok"}
    )

    assert HARD_CAP == raw.handshake["maxPayload"]
    assert ["too_large", "too_large"] == [code_of(pasted), code_of(big)]
    assert "4000" in pasted["error"]["message"]
    assert [True, True] == [started["ok"], after["ok"]]
    assert [False, True] == [raw.ws.closed, bystander.sio.connected]
    assert after["message"] == (await agent_peer.wait_for("message"))["message"]
    assert ["Hola", "¿sigue ahí?"] == await transcript(hub, agent, chat["id"])


async def test_websocket_frame_over_the_hard_cap_closes_only_that_connection(
    hub: LiveHub,
) -> None:
    tenant, agent, agent_peer, bystander, chat = await active_chat(hub, text="Hola")
    raw = await RawSocket.open(hub)
    await raw.join_visitor(tenant)

    under = await raw.call(
        1, "page_view", {"url": "https://dealer.example/", "title": "x" * 70_000}
    )
    await raw.ws.send_str(frame_of(2, "start_chat", {}, HARD_CAP + 1))
    closing = await raw.ws.receive(timeout=5)

    assert "invalid_payload" == code_of(under)
    assert (aiohttp.WSMsgType.CLOSE, aiohttp.WSCloseCode.MESSAGE_TOO_BIG) == (
        closing.type,
        closing.data,
    )
    status, health = await hub.request("GET", "/healthz")
    assert (200, "ok") == (status, health["status"])
    ack = await bystander.call(
        "message", {"chat_id": chat["id"], "text": "¿sigue ahí?", "client_msg_id": "b-1"}
    )
    assert True is ack["ok"]
    assert ack["message"] == (await agent_peer.wait_for("message"))["message"]
    assert ["Hola", "¿sigue ahí?"] == await transcript(hub, agent, chat["id"])
    newcomer = await hub.visitor_peer(tenant)
    assert {"ok": True} == await newcomer.call("page_view", PAGE)


async def test_socketio_client_sending_over_the_hard_cap_is_disconnected_and_can_reconnect(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    visitor = await hub.visitor_peer(tenant)
    visitor_id = visitor.seen("session")[0]["visitor_id"]
    gone = asyncio.Event()
    visitor.sio.on("disconnect", lambda *_reason: gone.set(), namespace="/visitor")

    long_url = await visitor.call("page_view", {"url": "https://dealer.example/" + "x" * 70_000})
    assert ("invalid_payload", True) == (code_of(long_url), visitor.sio.connected)
    await visitor.emit("page_view", {"url": "https://dealer.example/" + "x" * HARD_CAP})
    await asyncio.wait_for(gone.wait(), 5)

    assert not visitor.sio.connected
    again = await hub.visitor_peer(tenant, visitor_id=visitor_id)
    assert [visitor_id] == [session["visitor_id"] for session in again.seen("session")]
    assert {"ok": True} == await again.call("page_view", PAGE)


# -- origins ------------------------------------------------------------------------------


async def test_a_wildcard_origin_is_refused_by_the_admin_api(hub: LiveHub) -> None:
    body = {
        "name": "Wildcard Motors",
        "plan": "basic",
        "languages": ["es"],
        "timezone": "America/Puerto_Rico",
        "allowed_origins": ["*"],
    }

    created = await hub.request("POST", "/api/admin/tenants", token=ADMIN_TOKEN, json=body)
    tenant = await hub.tenant()
    patched = await hub.request(
        "PATCH",
        f"/api/admin/tenants/{tenant['id']}",
        token=ADMIN_TOKEN,
        json={"allowed_origins": [ORIGIN, "*"]},
    )

    assert [(400, "invalid_payload"), (400, "invalid_payload")] == [
        (status, reply["error"]["code"]) for status, reply in (created, patched)
    ]
    assert "allowed_origins" in created[1]["error"]["message"]
    _status, tenants = await hub.request("GET", "/api/admin/tenants", token=ADMIN_TOKEN)
    assert [[ORIGIN]] == [t["allowed_origins"] for t in tenants["tenants"]]


async def test_an_origin_that_is_no_tenants_is_refused_at_the_handshake(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    stranger = "https://phishing.example"
    peer = Peer(hub.url, "/visitor")
    hub.peers.append(peer)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await peer.connect({"site_key": tenant["site_key"]}, headers={"Origin": stranger})
    async with hub.http.get(
        hub.url + "/socket.io/?EIO=4&transport=polling", headers={"Origin": stranger}
    ) as response:
        status = response.status

    assert 400 == status
    assert not peer.sio.connected
    visitor = await hub.visitor_peer(tenant, origin=ORIGIN)
    assert visitor.sio.connected


# -- login attempts -----------------------------------------------------------------------


async def test_login_after_ten_bad_attempts_is_rate_limited(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    email = "vendedor@dealer.example"
    status, _agent = await hub.request(
        "POST",
        f"/api/admin/tenants/{tenant['id']}/agents",
        token=ADMIN_TOKEN,
        json={"email": email, "name": "Vendedor", "password": PASSWORD, "languages": ["es"]},
    )
    assert 201 == status

    attempts = [
        await hub.request("POST", "/api/login", json={"email": email, "password": f"guess {i}"})
        for i in range(11)
    ]
    right = await hub.request("POST", "/api/login", json={"email": email, "password": PASSWORD})

    assert [401] * 10 + [429] == [status for status, _ in attempts]
    assert ("rate_limited", 429) == (attempts[10][1]["error"]["code"], right[0])
    assert "rate_limited" == right[1]["error"]["code"]


async def test_successful_logins_do_not_spend_the_login_budget(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    email = "turno@dealer.example"
    status, _agent = await hub.request(
        "POST",
        f"/api/admin/tenants/{tenant['id']}/agents",
        token=ADMIN_TOKEN,
        json={"email": email, "name": "Turno", "password": PASSWORD, "languages": ["es"]},
    )
    assert 201 == status
    statuses = [
        (await hub.request("POST", "/api/login", json={"email": email, "password": PASSWORD}))[0]
        for _ in range(15)
    ]
    assert [200] * 15 == statuses


# -- per client address: made-up visitor ids share one budget -------------------------------


async def visitor_from(hub: LiveHub, tenant: dict[str, Any], address: str) -> Peer:
    """A new visitor (an id of its own), through a proxy that says it is `address`."""
    return await hub.visitor_peer(tenant, headers={"X-Forwarded-For": address})


async def test_chats_from_one_address_are_limited_whatever_visitor_ids_it_makes_up(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(
        limits=Limits(address_chat_starts_per_minute=3), trusted_proxies=("127.0.0.1/32",)
    )
    tenant, other = await hub.tenant(), await hub.tenant()
    await hub.agent_peer(await hub.agent(tenant, languages=["es"], max_chats=10))

    flood = [await visitor_from(hub, tenant, "203.0.113.9") for _ in range(4)]
    acks = [await v.call("start_chat", {"text": "Hola", "language": "es"}) for v in flood]
    assert [True, True, True, False] == [a["ok"] for a in acks]
    assert "rate_limited" == code_of(acks[3])
    assert "address" in acks[3]["error"]["message"]
    assert flood[3].sio.connected  # refused, not thrown out

    # another address behind the same proxy, and the same address on another dealer's site
    neighbour = await visitor_from(hub, tenant, "198.51.100.4")
    assert (await neighbour.call("start_chat", {"text": "Hola", "language": "es"}))["ok"]
    elsewhere = await visitor_from(hub, other, "203.0.113.9")
    assert (await elsewhere.call("start_chat", {"text": "Hola", "language": "es"}))["ok"]


async def test_an_address_a_client_writes_itself_does_not_count(make_hub: HubFactory) -> None:
    """Without trusted proxies, X-Forwarded-For is anyone's to write: the peer counts."""
    hub = await make_hub(limits=Limits(address_chat_starts_per_minute=2))
    tenant = await hub.tenant()
    visitors = [await visitor_from(hub, tenant, f"203.0.113.{n}") for n in range(3)]
    acks = [await v.call("start_chat", {"text": "Hola", "language": "es"}) for v in visitors]
    assert [True, True, False] == [a["ok"] for a in acks]
