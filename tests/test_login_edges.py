"""Login limits behind the load balancer: the client's address comes from trusted proxies
only, and failures are counted in Redis, so every hub process sees the same lockout."""

from __future__ import annotations

from typing import Any

from console.web.keys import EMBEDDED_REDIS
from tests.support.harness import PASSWORD, HubFactory, LiveHub


async def attempt(hub: LiveHub, email: str, password: str, client: str | None = None) -> int:
    headers = {"X-Forwarded-For": f"{client}, 10.1.2.3"} if client else {}
    async with hub.http.post(
        hub.url + "/api/login", json={"email": email, "password": password}, headers=headers
    ) as response:
        return response.status


async def agents(hub: LiveHub, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tenant = await hub.tenant()
    return tenant, [await hub.agent(tenant, languages=["es"]) for _ in range(count)]


async def test_behind_trusted_proxies_one_clients_failures_do_not_lock_out_the_others(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(trusted_proxies=("127.0.0.0/8", "10.0.0.0/8"))
    _tenant, team = await agents(hub, 6)
    statuses = [
        await attempt(hub, team[i % 6]["email"], "wrong", client="203.0.113.5") for i in range(50)
    ]
    assert [401] * 50 == statuses
    assert 429 == await attempt(hub, team[5]["email"], PASSWORD, client="203.0.113.5")
    assert 200 == await attempt(hub, team[5]["email"], PASSWORD, client="198.51.100.7")


async def test_without_trusted_proxies_a_forged_header_changes_nothing(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub()
    _tenant, team = await agents(hub, 6)
    for i in range(50):
        assert 401 == await attempt(hub, team[i % 6]["email"], "wrong", client=f"192.0.2.{i}")
    assert 429 == await attempt(hub, team[5]["email"], PASSWORD, client="198.51.100.7")


async def test_a_lockout_holds_on_every_hub_sharing_redis(
    make_hub: HubFactory, tmp_path: Any
) -> None:
    first = await make_hub(tmp_path / "one")
    second = await make_hub(tmp_path / "two", redis_url=first.app[EMBEDDED_REDIS].url)
    _tenant, [agent] = await agents(first, 1)
    for _ in range(10):
        assert 401 == await attempt(first, agent["email"], "wrong")
    assert 429 == await attempt(second, agent["email"], PASSWORD)
    assert 429 == await attempt(first, agent["email"], PASSWORD)
