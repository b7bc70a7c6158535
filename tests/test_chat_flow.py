"""A whole chat through the protocol: visitor to the right agent and back, nothing lost."""

from __future__ import annotations

import pytest
import socketio

from console.web.keys import SIO
from tests.support.harness import ORIGIN, LiveHub, Peer, active_chat, eventually, start_chat


async def test_spanish_visitor_reaches_spanish_agent_and_they_talk(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    maria = await hub.agent(tenant, languages=["es"], name="María")
    john = await hub.agent(tenant, languages=["en"], name="John")
    maria_peer = await hub.agent_peer(maria)
    john_peer = await hub.agent_peer(john)
    visitor = await hub.visitor_peer(tenant)

    chat = await start_chat(visitor, "Hola, busco una Tacoma 2022", language="es")

    assigned = await maria_peer.wait_for("chat_assigned")
    assert chat["id"] == assigned["chat"]["id"]
    assert "es" == assigned["chat"]["language"]
    assert ["Hola, busco una Tacoma 2022"] == [m["text"] for m in assigned["chat"]["messages"]]
    joined = await visitor.wait_for("agent_joined")
    assert {"chat_id": chat["id"], "agent": {"name": "María"}} == joined
    assert [] == john_peer.seen("chat_assigned")

    ack = await visitor.call(
        "message",
        {"chat_id": chat["id"], "text": "¿Tienen financiamiento?", "client_msg_id": "v-1"},
    )
    assert ack["ok"] is True
    got = await maria_peer.wait_for("message")
    assert ack["message"] == got["message"]

    reply = await maria_peer.call(
        "message", {"chat_id": chat["id"], "text": "¡Claro que sí!", "client_msg_id": "a-1"}
    )
    assert reply["ok"] is True
    heard = await visitor.wait_for("message", lambda d: d["message"]["author"] == "agent")
    assert "¡Claro que sí!" == heard["message"]["text"]
    assert "María" == heard["message"]["author_name"]


async def test_typing_is_forwarded_both_ways_and_never_stored(hub: LiveHub) -> None:
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub, text="Hola")

    await visitor.emit("typing", {"chat_id": chat["id"], "typing": True})
    assert {"chat_id": chat["id"], "author": "visitor", "typing": True} == (
        await agent_peer.wait_for("typing")
    )
    await agent_peer.emit("typing", {"chat_id": chat["id"], "typing": True})
    assert {"chat_id": chat["id"], "author": "agent", "typing": True} == (
        await visitor.wait_for("typing")
    )
    # A burst of identical notices is forwarded once; a change goes through at once.
    for _ in range(10):
        await visitor.emit("typing", {"chat_id": chat["id"], "typing": True})
    await visitor.emit("typing", {"chat_id": chat["id"], "typing": False})
    stopped = await agent_peer.wait_for("typing", lambda d: d["typing"] is False)
    assert {"chat_id": chat["id"], "author": "visitor", "typing": False} == stopped
    assert 2 == len(agent_peer.seen("typing"))

    synced = await visitor.call("sync", {"chat_id": chat["id"]})
    assert ["Hola"] == [m["text"] for m in synced["messages"]]


async def test_agent_sees_the_pages_the_visitor_opens_during_the_chat(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    home = {"url": "https://dealer.example/", "title": "Inicio", "referrer": "https://google.com/"}
    assert {"ok": True} == await visitor.call("page_view", home)
    chat = await start_chat(visitor, "Hola", language="es")
    assigned = await agent_peer.wait_for("chat_assigned")
    assert [("https://dealer.example/", "Inicio", "https://google.com/")] == [
        (p["url"], p["title"], p["referrer"]) for p in assigned["chat"]["visitor"]["pages"]
    ]

    page = {"url": "https://dealer.example/inventario/tacoma-2022", "title": "Tacoma 2022"}
    assert {"ok": True} == await visitor.call("page_view", page)
    activity = await agent_peer.wait_for("visitor_activity")
    assert chat["id"] == activity["chat_id"]
    assert (page["url"], page["title"]) == (
        activity["page_view"]["url"],
        activity["page_view"]["title"],
    )


async def test_visitor_ending_the_chat_tells_the_agent_and_frees_the_slot(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"], max_chats=1)
    agent_peer = await hub.agent_peer(agent)
    first = await hub.visitor_peer(tenant)
    second = await hub.visitor_peer(tenant)
    chat = await start_chat(first, "Hola", language="es")
    waiting = await start_chat(second, "¿Hay alguien?", language="es")
    assert ("active", "queued") == (chat["status"], waiting["status"])

    assert {"ok": True} == await first.call("end_chat", {"chat_id": chat["id"]})
    assert {"chat_id": chat["id"], "reason": "visitor_ended"} == (
        await agent_peer.wait_for("chat_closed")
    )
    assert {"chat_id": chat["id"], "reason": "visitor_ended"} == (
        await first.wait_for("chat_closed")
    )
    nxt = await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == waiting["id"])
    assert "active" == nxt["chat"]["status"]
    late = await first.call(
        "message", {"chat_id": chat["id"], "text": "una cosa más", "client_msg_id": "late"}
    )
    assert "closed" == late["error"]["code"]


async def test_a_visitor_on_long_polling_chats_like_one_on_websocket(hub: LiveHub) -> None:
    """Browsers behind proxies that block WebSocket fall back to HTTP long-polling."""
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = Peer(hub.url, "/visitor")
    hub.peers.append(visitor)
    await visitor.connect(
        {"site_key": tenant["site_key"]}, headers={"Origin": ORIGIN}, transports=["polling"]
    )
    assert "polling" == visitor.sio.transport()
    chat = await start_chat(visitor, "Hola desde polling", language="es")
    await agent_peer.wait_for("chat_assigned")
    await agent_peer.call(
        "message", {"chat_id": chat["id"], "text": "¡Hola!", "client_msg_id": "a"}
    )
    heard = await visitor.wait_for("message")
    assert "¡Hola!" == heard["message"]["text"]
    # python-engineio holds a client's pending poll until the ping interval when the
    # client closes; closing from the hub's side answers it at once.
    sio = hub.app[SIO]
    await sio.eio.disconnect(
        sio.manager.eio_sid_from_sid(visitor.sio.get_sid("/visitor"), "/visitor")
    )

    async with hub.http.get(
        hub.url + "/socket.io/?EIO=4&transport=polling",
        headers={"Origin": "https://not-a-tenant.example"},
    ) as refused:
        assert 400 == refused.status


async def test_contact_details_are_checked_stored_in_e164_and_shown_to_the_agent(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    bad_phone = await visitor.call("start_chat", {"text": "Hola", "phone": "no tengo"})
    bad_email = await visitor.call("start_chat", {"text": "Hola", "email": "ana.correo"})
    assert ("invalid_payload", "invalid_payload") == (
        bad_phone["error"]["code"],
        bad_email["error"]["code"],
    )
    assert bad_phone["error"]["message"].startswith("phone: ")
    assert bad_email["error"]["message"].startswith("email: ")

    await start_chat(
        visitor,
        "Hola",
        language="es",
        name=" Ana Rivera ",
        email="ana@correo.example",
        phone="787-555-0123",
    )
    assigned = await agent_peer.wait_for("chat_assigned")
    seen = assigned["chat"]["visitor"]
    assert ("Ana Rivera", "ana@correo.example", "+17875550123") == (
        seen["name"],
        seen["email"],
        seen["phone"],
    )


async def test_a_socket_session_lives_exactly_as_long_as_its_connection(hub: LiveHub) -> None:
    _tenant, _agent, agent_peer, visitor, _chat = await active_chat(hub, text="Hola")
    sio = hub.app[SIO]
    visitors, agents = sio.namespace_handlers["/visitor"], sio.namespace_handlers["/agent"]
    [session] = visitors.sessions.values()
    assert {"tenant_id", "visitor_id"} == set(session)
    assert 1 == len(agents.sessions)
    refused = Peer(hub.url, "/visitor")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect({"site_key": "no-such-site"}, headers={"Origin": ORIGIN})
    assert 1 == len(visitors.sessions)
    await visitor.close()
    await agent_peer.close()
    await eventually(lambda: not visitors.sessions and not agents.sessions)
