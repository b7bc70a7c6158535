"""`GET /api/audit` (issue 22): bare dates are the tenant's local days, both included, as in
every other dated API (the provider's own chain: UTC days); the provider reads its chain or
any tenant's; a page at a time with `next_cursor`; filtered by action."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from console.web.keys import STORE
from tests.support.harness import ADMIN_TOKEN, HubFactory, LiveHub
from tests.test_mfa import StepClock

MARK = "test.mark"
# around local midnight in America/Puerto_Rico (UTC-4, no daylight saving time)
MARKS = {
    "mar9_last": datetime(2026, 3, 10, 3, 59, 59, tzinfo=UTC),  # 9 March 23:59:59 local
    "mar10_first": datetime(2026, 3, 10, 4, 0, 0, tzinfo=UTC),  # 10 March 00:00:00 local
    "mar10_last": datetime(2026, 3, 11, 3, 59, 59, tzinfo=UTC),  # 10 March 23:59:59 local
    "mar11_first": datetime(2026, 3, 11, 4, 0, 0, tzinfo=UTC),  # 11 March 00:00:00 local
}


async def marked(make_hub: HubFactory) -> tuple[LiveHub, dict[str, Any], dict[str, Any]]:
    """A hub whose tenant's chain and the provider's each hold the four marks."""
    clock = StepClock()
    hub = await make_hub(clock=clock)
    tenant = await hub.tenant()  # America/Puerto_Rico
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    for label, at in MARKS.items():
        clock.at = at
        for chain in (tenant["id"], None):
            await hub.app[STORE].audit.record(chain, "system:test", MARK, label)
    return hub, tenant, admin


async def labels(hub: LiveHub, token: str, **query: str) -> list[str]:
    status, body = await hub.request(
        "GET", "/api/audit?" + urlencode({"action": MARK, **query}), token=token
    )
    assert 200 == status, body
    return [e["target"] for e in body["events"]]


@pytest.mark.parametrize(
    ("query", "tenant_days", "utc_days"),
    [
        (
            {"from": "2026-03-10", "to": "2026-03-10"},
            ["mar10_last", "mar10_first"],
            ["mar10_first", "mar9_last"],
        ),
        ({"from": "2026-03-09", "to": "2026-03-09"}, ["mar9_last"], []),
        ({"from": "2026-03-11"}, ["mar11_first"], ["mar11_first", "mar10_last"]),
        ({"to": "2026-03-09"}, ["mar9_last"], []),
        (
            {"from": "2026-03-10T04:00:00Z", "to": "2026-03-11T03:59:59Z"},
            ["mar10_first"],
            ["mar10_first"],
        ),
    ],
)
async def test_bare_dates_are_the_tenant_s_days_and_the_provider_s_utc_days(
    make_hub: HubFactory,
    query: dict[str, str],
    tenant_days: list[str],
    utc_days: list[str],
) -> None:
    hub, tenant, admin = await marked(make_hub)
    assert tenant_days == await labels(hub, admin["token"], **query)
    # the provider reading the tenant's chain gets the tenant's days too; its own, UTC days
    assert tenant_days == await labels(hub, ADMIN_TOKEN, tenant_id=tenant["id"], **query)
    assert utc_days == await labels(hub, ADMIN_TOKEN, **query)


async def test_pages_with_next_cursor_cover_the_chain_once(make_hub: HubFactory) -> None:
    hub, _tenant, admin = await marked(make_hub)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"action": MARK, "limit": "3"} | ({"cursor": cursor} if cursor else {})
        status, body = await hub.request(
            "GET", "/api/audit?" + urlencode(query), token=admin["token"]
        )
        assert 200 == status, body
        seen += [e["target"] for e in body["events"]]
        pages += 1
        cursor = body.get("next_cursor")
        if cursor is None:
            break
    assert (2, list(reversed(MARKS))) == (pages, seen)


async def test_actions_filter_by_name_and_by_prefix(make_hub: HubFactory) -> None:
    hub, _tenant, admin = await marked(make_hub)
    status, body = await hub.request(
        "GET", "/api/audit?" + urlencode({"action": "login.*"}), token=admin["token"]
    )
    assert 200 == status, body
    assert ["login.succeeded"] == sorted({e["action"] for e in body["events"]})
    status, body = await hub.request(
        "GET",
        "/api/audit?" + urlencode([("action", "login.succeeded"), ("action", MARK)]),
        token=admin["token"],
    )
    assert {"login.succeeded", MARK} == {e["action"] for e in body["events"]}
    # a literal "_" or "%" in a prefix matches itself only
    status, body = await hub.request(
        "GET", "/api/audit?" + urlencode({"action": "test_mark*"}), token=admin["token"]
    )
    assert (200, []) == (status, body["events"])


async def test_who_reads_which_chain_and_what_is_refused(make_hub: HubFactory) -> None:
    hub, tenant, admin = await marked(make_hub)
    other = await hub.tenant()
    other_admin = await hub.agent(other, languages=["es"], role="admin")
    agent = await hub.agent(tenant, languages=["es"])
    assert [] == await labels(hub, other_admin["token"])
    refusals = [
        (other_admin["token"], {"tenant_id": tenant["id"]}, 403, "forbidden"),
        (agent["token"], {}, 403, "forbidden"),
        ("not-a-token", {}, 401, "unauthorized"),
        (ADMIN_TOKEN, {"tenant_id": "no-such"}, 404, "not_found"),
        (admin["token"], {"from": "2026-02-30"}, 400, "invalid_payload"),
        (admin["token"], {"to": "yesterday"}, 400, "invalid_payload"),
        (admin["token"], {"cursor": "abc"}, 400, "invalid_payload"),
        (admin["token"], {"action": "x" * 101}, 400, "invalid_payload"),
    ]
    for token, query, status_wanted, code in refusals:
        status, body = await hub.request("GET", "/api/audit?" + urlencode(query), token=token)
        assert (status_wanted, code) == (status, body["error"]["code"]), query
        assert body["error"]["message"], query
