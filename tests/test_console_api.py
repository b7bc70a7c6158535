"""What the console needs from the hub besides the protocol: its page and assets under a
strict CSP, the team with live statuses, agent-written tickets, a deactivated agent shut out."""

from __future__ import annotations

import asyncio

import socketio

from tests.support.harness import LiveHub, Peer, active_chat, start_chat


async def test_the_console_page_and_assets_are_served_under_a_strict_policy(hub: LiveHub) -> None:
    async with hub.http.get(hub.url + "/console/") as page:
        assert (200, "text/html") == (page.status, page.content_type)
        html = await page.text()
        policy = page.headers["Content-Security-Policy"]
    assert '<script src="/console/console.js" defer></script>' in html
    assert "<script>" not in html  # nothing inline: the policy forbids it
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    for path, kind in [
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ]:
        async with hub.http.get(hub.url + path) as asset:
            assert (200, kind) == (asset.status, asset.content_type), path
            assert len(await asset.read()) > 1000


async def test_the_team_shows_each_agents_status_and_load(hub: LiveHub) -> None:
    tenant, agent, _peer, _visitor, _chat = await active_chat(hub)
    colleague = await hub.agent(tenant, languages=["en"])
    status, body = await hub.request("GET", "/api/agents", token=colleague["token"])
    assert 200 == status
    team = {a["id"]: (a["status"], a["load"]) for a in body["agents"]}
    assert {agent["id"]: ("online", 1), colleague["id"]: ("offline", 0)} == team
    assert all("email" not in a for a in body["agents"])  # only admins see e-mails


async def test_agents_write_tickets_for_their_tenants_chats(hub: LiveHub) -> None:
    tenant, agent, _peer, _visitor, chat = await active_chat(hub)
    status, ticket = await hub.request(
        "POST",
        "/api/tickets",
        token=agent["token"],
        json={"chat_id": chat["id"], "text": "Llamar mañana con el precio final"},
    )
    assert 201 == status, ticket
    assert (chat["id"], "agent", "es", "open", "Llamar mañana con el precio final") == (
        ticket["chat_id"],
        ticket["reason"],
        ticket["language"],
        ticket["status"],
        ticket["text"],
    )
    status, listed = await hub.request("GET", "/api/tickets", token=agent["token"])
    assert [ticket["id"]] == [t["id"] for t in listed["tickets"]]

    for body, code, field in [
        ({"chat_id": chat["id"], "text": ""}, "invalid_payload", "text"),
        ({"text": "x", "phone": "12"}, "invalid_payload", "phone"),
        ({"text": "x", "email": "nope"}, "invalid_payload", "email"),
    ]:
        status, error = await hub.request("POST", "/api/tickets", token=agent["token"], json=body)
        assert (400, code) == (status, error["error"]["code"]), body
        assert error["error"]["message"].startswith(field), error

    other = await hub.tenant()
    stranger = await hub.agent(other, languages=["es"])
    status, error = await hub.request(
        "POST", "/api/tickets", token=stranger["token"], json={"chat_id": chat["id"], "text": "x"}
    )
    assert (404, "not_found") == (status, error["error"]["code"])
    status, none = await hub.request("GET", "/api/tickets", token=stranger["token"])
    assert [] == none["tickets"]
    assert tenant["id"] != other["id"]


async def test_a_deactivated_agent_is_disconnected_and_cannot_come_back(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    agent = await hub.agent(tenant, languages=["es"])
    peer = await hub.agent_peer(agent)
    gone = asyncio.Event()
    peer.sio.on("disconnect", gone.set, namespace="/agent")
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola", language="es")
    await peer.wait_for("chat_assigned")
    status, _ = await hub.request("DELETE", f"/api/agents/{agent['id']}", token=admin["token"])
    assert 200 == status
    await asyncio.wait_for(gone.wait(), 5)
    again = Peer(hub.url, "/agent")
    hub.peers.append(again)
    try:
        await again.connect({"token": agent["token"]})
        refused = False
    except socketio.exceptions.ConnectionError:
        refused = True
    assert True is refused
    status, body = await hub.request("GET", f"/api/chats/{chat['id']}", token=admin["token"])
    assert "queued" == body["status"]
