"""/healthz asks the database and Redis for real, and says which one failed."""

from __future__ import annotations

import pytest
import socketio

from console.web.keys import EMBEDDED_REDIS
from tests.support.harness import LiveHub, Peer, active_chat


async def test_healthz_is_ok_when_database_and_redis_answer(hub: LiveHub) -> None:
    assert (200, {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}) == (
        await hub.request("GET", "/healthz")
    )


async def test_healthz_is_503_and_names_redis_when_redis_is_gone(hub: LiveHub) -> None:
    await hub.app[EMBEDDED_REDIS].kill()
    status, body = await hub.request("GET", "/healthz")
    assert 503 == status
    assert "unavailable" == body["status"]
    assert "ok" == body["checks"]["database"]
    assert body["checks"]["redis"].startswith("failed")


async def test_console_address_answers_with_a_page_and_root_leads_there(hub: LiveHub) -> None:
    async with hub.http.get(hub.url + "/console/") as response:
        assert (200, "text/html") == (response.status, response.content_type)
        assert "Charla" in await response.text()
    async with hub.http.get(hub.url + "/", allow_redirects=False) as response:
        assert (302, "/console/") == (response.status, response.headers["Location"])


async def test_with_redis_gone_messages_still_flow_and_new_chats_get_unavailable(
    hub: LiveHub,
) -> None:
    tenant, _agent, agent_peer, visitor, chat = await active_chat(hub, text="Hola")
    await hub.app[EMBEDDED_REDIS].kill()

    ack = await visitor.call(
        "message", {"chat_id": chat["id"], "text": "sigo aquí", "client_msg_id": "r1"}
    )
    assert ack["ok"] is True
    assert "sigo aquí" == (await agent_peer.wait_for("message"))["message"]["text"]
    # Routing lives in Redis: until it is back, new visitors are told to retry.
    other = Peer(hub.url, "/visitor")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await other.connect({"site_key": tenant["site_key"]})
    assert "unavailable" == other.connect_error["data"]["code"]
