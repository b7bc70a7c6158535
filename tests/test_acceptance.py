"""The whole foundation as an outside client would use it: several tenants, agents of
different languages, Spanish and English visitors, resends, reconnects, bad input and a
restart of the hub, with every transcript read back at the end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.support.harness import HubFactory, Peer, chat_is, start_chat, text_is

SCRIPTS = {
    "es": ["Hola, busco una Tacoma 2022", "¿La tienen en blanco?", "¿Aceptan trade-in?"],
    "en": [
        "Hi, is the 2023 Civic still available?",
        "Can I test drive it Saturday?",
        "Do you take trade-ins?",
    ],
}


async def converse(
    visitor: Peer, agent_peer: Peer, chat_id: str, lines: list[str], tag: str
) -> None:
    """The visitor writes each line (sending the first one twice), the agent answers each."""
    for n, line in enumerate(lines[1:], start=1):
        payload = {"chat_id": chat_id, "text": line, "client_msg_id": f"{tag}-v{n}"}
        first = await visitor.call("message", payload)
        if n == 1:
            assert first == await visitor.call("message", payload)  # a resend changes nothing
        await agent_peer.wait_for("message", text_is(line))
        reply = {"chat_id": chat_id, "text": f"{tag} reply {n}", "client_msg_id": f"{tag}-a{n}"}
        assert (await agent_peer.call("message", reply))["ok"] is True


async def test_several_tenants_and_languages_through_a_restart(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "hub"
    hub = await make_hub(data_dir=data_dir)
    dealer = await hub.tenant(plan="premium", languages=["es", "en"])
    garage = await hub.tenant(plan="basic", languages=["es"])
    agents = {
        "dealer-es": await hub.agent(dealer, languages=["es"], name="María"),
        "dealer-en": await hub.agent(dealer, languages=["en"], name="John"),
        "garage-es": await hub.agent(garage, languages=["es"], name="Luis"),
    }
    peers = {key: await hub.agent_peer(agent) for key, agent in agents.items()}

    cases = [
        ("dealer", dealer, "es", "dealer-es"),
        ("dealer", dealer, "en", "dealer-en"),
        ("garage", garage, "es", "garage-es"),
    ]
    chats: list[dict[str, Any]] = []
    for name, tenant, language, agent_key in cases:
        visitor = await hub.visitor_peer(tenant)
        visitor_id = (await visitor.wait_for("session"))["visitor_id"]
        # No language given: the premium dealer detects it, the basic garage uses Spanish.
        chat = await start_chat(visitor, SCRIPTS[language][0])
        assert (language, "active") == (chat["language"], chat["status"])
        got = await peers[agent_key].wait_for("chat_assigned", chat_is(chat["id"]))
        assert [SCRIPTS[language][0]] == [m["text"] for m in got["chat"]["messages"]]
        chats.append(
            {
                "tenant": name,
                "language": language,
                "agent": agent_key,
                "id": chat["id"],
                "visitor_id": visitor_id,
                "peer": visitor,
                "tenant_row": tenant,
            }
        )

    await asyncio.gather(
        *[
            converse(
                c["peer"],
                peers[c["agent"]],
                c["id"],
                SCRIPTS[c["language"]][:2],
                f"{c['tenant']}-{c['language']}",
            )
            for c in chats
        ]
    )
    bad = await chats[0]["peer"].call(
        "message", {"chat_id": chats[2]["id"], "text": "x", "client_msg_id": "steal"}
    )
    assert "not_found" == bad["error"]["code"]  # another tenant's chat
    assert "invalid_payload" == (await chats[1]["peer"].call("message", ["nope"]))["error"]["code"]

    await hub.close()
    await hub.server.close()
    hub = await make_hub(data_dir=data_dir)

    # After the restart: the same agents with the same tokens, the same visitors by id.
    peers = {key: await hub.agent_peer(agent) for key, agent in agents.items()}
    for c in chats:
        c["peer"] = await hub.visitor_peer(c["tenant_row"], visitor_id=c["visitor_id"])
        await peers[c["agent"]].wait_for("chat_assigned", chat_is(c["id"]))
    await asyncio.gather(
        *[
            converse(
                c["peer"],
                peers[c["agent"]],
                c["id"],
                [SCRIPTS[c["language"]][0], SCRIPTS[c["language"]][2]],
                f"{c['tenant']}-{c['language']}-after",
            )
            for c in chats
        ]
    )

    for c in chats:
        agent = agents[c["agent"]]
        status, chat = await hub.request("GET", f"/api/chats/{c['id']}", token=agent["token"])
        assert 200 == status
        tag = f"{c['tenant']}-{c['language']}"
        lines = SCRIPTS[c["language"]]
        assert [
            ("visitor", lines[0]),
            ("visitor", lines[1]),
            ("agent", f"{tag} reply 1"),
            ("visitor", lines[2]),
            ("agent", f"{tag}-after reply 1"),
        ] == [(m["author"], m["text"]) for m in chat["messages"]]
        synced = await c["peer"].call("sync", {"chat_id": c["id"]})
        assert chat["messages"] == synced["messages"]
        other = agents["garage-es" if c["tenant"] == "dealer" else "dealer-es"]
        assert 404 == (await hub.request("GET", f"/api/chats/{c['id']}", token=other["token"]))[0]
