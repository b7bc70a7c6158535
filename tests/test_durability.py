"""Nothing is lost: across reconnects, resends and a restart of the hub."""

from __future__ import annotations

from pathlib import Path

from console.web.keys import HUB
from tests.support.harness import HubFactory, LiveHub, active_chat, start_chat


async def test_reconnecting_visitor_gets_every_missed_message_by_sync(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    visitor_id = (await visitor.wait_for("session"))["visitor_id"]
    chat = await start_chat(visitor, language="es")
    await agent_peer.wait_for("chat_assigned")
    first = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "uno", "client_msg_id": "v1"}
    )
    await visitor.close()

    for n, word in enumerate(("dos", "tres", "cuatro")):
        ack = await agent_peer.call(
            "message", {"chat_id": chat["id"], "text": word, "client_msg_id": f"a{n}"}
        )
        assert ack["ok"] is True

    again = await hub.visitor_peer(tenant, visitor_id=visitor_id)
    assert visitor_id == (await again.wait_for("session"))["visitor_id"]
    synced = await again.call("sync", {"chat_id": chat["id"], "after_id": first["message"]["id"]})
    assert ["dos", "tres", "cuatro"] == [m["text"] for m in synced["messages"]]
    everything = await again.call("sync", {"chat_id": chat["id"]})
    assert ["Hola, busco una Tacoma 2022", "uno", "dos", "tres", "cuatro"] == [
        m["text"] for m in everything["messages"]
    ]


async def test_restart_keeps_chats_messages_agents_and_tokens(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "state"
    first = await make_hub(data_dir=data_dir)
    tenant, agent, agent_peer, visitor, active = await active_chat(first, text="Hola", max_chats=1)
    await visitor.call(
        "message", {"chat_id": active["id"], "text": "¿Precio?", "client_msg_id": "p"}
    )
    await agent_peer.call(
        "message", {"chat_id": active["id"], "text": "$38,500", "client_msg_id": "r"}
    )
    waiting_visitor = await first.visitor_peer(tenant)
    queued = await start_chat(waiting_visitor, "¿Hay alguien?", language="es")
    assert "queued" == queued["status"]
    await first.close()
    await first.server.close()

    second = await make_hub(data_dir=data_dir)
    status, chat = await second.request("GET", f"/api/chats/{active['id']}", token=agent["token"])
    assert 200 == status
    assert ["Hola", "¿Precio?", "$38,500"] == [m["text"] for m in chat["messages"]]
    assert ("active", agent["id"]) == (chat["status"], chat["agent_id"])

    # The token issued before the restart still works on the socket, and the queued chat
    # (rebuilt into the queue from the database) reaches the agent once a slot frees.
    agent_again = await second.agent_peer(agent)
    mine = await agent_again.wait_for("chat_assigned")
    assert active["id"] == mine["chat"]["id"]
    assert {"ok": True} == await agent_again.call("close_chat", {"chat_id": active["id"]})
    got = await agent_again.wait_for("chat_assigned", lambda d: d["chat"]["id"] == queued["id"])
    assert ["¿Hay alguien?"] == [m["text"] for m in got["chat"]["messages"]]


async def test_start_chat_retried_after_a_failure_puts_a_lost_chat_back_in_the_queue(
    hub: LiveHub,
) -> None:
    tenant, agent, agent_peer, _first, _active = await active_chat(hub, text="Hola", max_chats=1)
    second = await hub.visitor_peer(tenant)
    payload = {"text": "¿Hay alguien?", "language": "es", "client_msg_id": "start-1"}
    chat = (await second.call("start_chat", payload))["chat"]
    assert "queued" == chat["status"]
    # As if the hub had failed between storing the chat and queueing it in Redis:
    assert await hub.app[HUB].state.dequeue(tenant["id"], chat["id"])

    retry = await second.call("start_chat", payload)
    assert {"id": chat["id"], "status": "queued", "language": "es"} == retry["chat"]
    status, stored = await hub.request("GET", f"/api/chats/{chat['id']}", token=agent["token"])
    assert 200 == status
    assert ["¿Hay alguien?"] == [m["text"] for m in stored["messages"]]
    await agent_peer.call(
        "close_chat", {"chat_id": (await agent_peer.wait_for("chat_assigned"))["chat"]["id"]}
    )
    taken = await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    assert "active" == taken["chat"]["status"]
