"""A whole chat through the protocol: visitor to the right agent and back, nothing lost."""

from __future__ import annotations

from tests.harness import LiveHub, start_chat


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
