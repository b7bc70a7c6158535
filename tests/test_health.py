"""/healthz asks the database and Redis for real, and says which one failed."""

from __future__ import annotations

from console.web.keys import EMBEDDED_REDIS
from tests.harness import LiveHub


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
