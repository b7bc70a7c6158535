"""The HTTP API: the provider's admin API, agent login, transcripts, tickets, health and
metrics, and the one error shape for everything that goes wrong."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from console.web.keys import SIGNER
from tests.support.harness import ADMIN_TOKEN, ORIGIN, PASSWORD, HubFactory, LiveHub, start_chat

TENANT = {
    "name": "Autos del Este",
    "plan": "premium",
    "languages": ["es", "en"],
    "timezone": "America/Puerto_Rico",
    "allowed_origins": [ORIGIN],
}


def error_of(status: int, body: Any) -> tuple[int, str]:
    """(status, code) of an error response, once its body is the protocol's error shape."""
    assert {"error"} == set(body), body
    assert {"code", "message"} == set(body["error"]), body
    assert "" != body["error"]["message"].strip(), body
    return status, body["error"]["code"]


async def raw(
    hub: LiveHub,
    method: str,
    path: str,
    *,
    data: str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, str]:
    """A request with a body as given, not as JSON; returns (status, json, content type)."""
    async with hub.http.request(method, hub.url + path, data=data, headers=headers) as r:
        return r.status, await r.json(content_type=None), r.headers.get("Content-Type", "")


async def create_agent(
    hub: LiveHub, tenant: dict[str, Any], email: str, **fields: Any
) -> tuple[int, Any]:
    body = {"email": email, "name": "Ana", "password": PASSWORD, "languages": ["es"], **fields}
    return await hub.request(
        "POST", f"/api/admin/tenants/{tenant['id']}/agents", token=ADMIN_TOKEN, json=body
    )


def keys_of(value: Any) -> set[str]:
    """Every key of every object inside a JSON value."""
    if isinstance(value, dict):
        return set(value).union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


# -- provider admin API: tenants ----------------------------------------------------------


async def test_creating_a_tenant_answers_201_with_its_id_site_key_and_fields(
    hub: LiveHub,
) -> None:
    status, tenant = await hub.request("POST", "/api/admin/tenants", token=ADMIN_TOKEN, json=TENANT)

    assert 201 == status
    assert "" != tenant["id"]
    assert "" != tenant["site_key"]
    assert tenant["id"] != tenant["site_key"]
    assert TENANT == {key: tenant[key] for key in TENANT}
    assert (False, None, None) == (tenant["bot_enabled"], tenant["hours"], tenant["holidays"])
    assert (200, tenant) == await hub.request(
        "GET", f"/api/admin/tenants/{tenant['id']}", token=ADMIN_TOKEN
    )
    _status, other = await hub.request("POST", "/api/admin/tenants", token=ADMIN_TOKEN, json=TENANT)
    assert (tenant["id"], tenant["site_key"]) != (other["id"], other["site_key"])


async def test_creating_a_tenant_with_hours_and_holidays_keeps_them(hub: LiveHub) -> None:
    hours = {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "sat": [["09:00", "13:00"]]}

    tenant = await hub.tenant(hours=hours, holidays="pr", bot_enabled=True)

    assert (hours, "PR", True) == (tenant["hours"], tenant["holidays"], tenant["bot_enabled"])


async def test_invalid_tenant_fields_get_400_naming_what_to_fix(hub: LiveHub) -> None:
    cases: dict[str, tuple[dict[str, Any], list[str]]] = {
        "plan": ({"plan": "gold"}, ["plan", "basic", "proactive", "premium"]),
        "language tag": ({"languages": ["spanish"]}, ["languages", "'spanish'", "BCP 47"]),
        "region tag": ({"languages": ["es-PR"]}, ["languages", "'es-pr'"]),
        "no language": ({"languages": []}, ["languages"]),
        "timezone": ({"timezone": "Caribbean/San_Juan"}, ["timezone", "Caribbean/San_Juan"]),
        "hours range": ({"hours": {"mon": [["18:00", "09:00"]]}}, ["hours.mon[0]", "before"]),
        "hours day": ({"hours": {"funday": [["09:00", "18:00"]]}}, ["hours", "funday"]),
        "hours time": ({"hours": {"mon": [["9am", "6pm"]]}}, ["hours.mon[0]"]),
        "holidays": ({"holidays": "XX"}, ["holidays", "XX"]),
        "subdivision": ({"holidays": "US-ZZ"}, ["holidays", "ZZ"]),
        "origin path": ({"allowed_origins": [ORIGIN + "/inventory"]}, ["allowed_origins"]),
        "origin scheme": ({"allowed_origins": ["dealer.example"]}, ["allowed_origins"]),
        "missing name": ({"name": None}, ["name"]),
        "unknown field": ({"colour": "red"}, ["colour"]),
    }

    actual = {}
    for case, (changes, words) in cases.items():
        body = {k: v for k, v in {**TENANT, **changes}.items() if v is not None}
        status, reply = await hub.request(
            "POST", "/api/admin/tenants", token=ADMIN_TOKEN, json=body
        )
        message = reply["error"]["message"] if status == 400 else ""
        actual[case] = (*error_of(status, reply), [w for w in words if w not in message])

    assert dict.fromkeys(cases, (400, "invalid_payload", [])) == actual
    _status, listed = await hub.request("GET", "/api/admin/tenants", token=ADMIN_TOKEN)
    assert [] == listed["tenants"]


async def test_patching_a_tenant_changes_that_field_only(hub: LiveHub) -> None:
    tenant = await hub.tenant()

    status, patched = await hub.request(
        "PATCH",
        f"/api/admin/tenants/{tenant['id']}",
        token=ADMIN_TOKEN,
        json={"plan": "basic", "holidays": "PR"},
    )

    assert 200 == status
    assert {**tenant, "plan": "basic", "holidays": "PR"} == patched
    assert (200, patched) == await hub.request(
        "GET", f"/api/admin/tenants/{tenant['id']}", token=ADMIN_TOKEN
    )


async def test_a_plan_change_applies_to_the_next_chat_at_once(hub: LiveHub) -> None:
    tenant = await hub.tenant(languages=["es", "en"])
    await hub.agent_peer(await hub.agent(tenant, languages=["es", "en"]))
    first = await start_chat(await hub.visitor_peer(tenant), "Hello", language="en")

    await hub.request(
        "PATCH", f"/api/admin/tenants/{tenant['id']}", token=ADMIN_TOKEN, json={"plan": "basic"}
    )
    second = await start_chat(await hub.visitor_peer(tenant), "Hello", language="en")

    assert ("en", "es") == (first["language"], second["language"])


async def test_patching_an_unknown_tenant_is_404_and_bad_values_are_400(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    path = f"/api/admin/tenants/{tenant['id']}"

    unknown = await hub.request(
        "PATCH", "/api/admin/tenants/no-such-tenant", token=ADMIN_TOKEN, json={"plan": "basic"}
    )
    bad_plan = await hub.request("PATCH", path, token=ADMIN_TOKEN, json={"plan": "gold"})
    null_name = await hub.request("PATCH", path, token=ADMIN_TOKEN, json={"name": None})
    bad_zone = await hub.request("PATCH", path, token=ADMIN_TOKEN, json={"timezone": "Nowhere"})

    assert (404, "not_found") == error_of(*unknown)
    assert [(400, "invalid_payload")] * 3 == [
        error_of(*reply) for reply in (bad_plan, null_name, bad_zone)
    ]
    assert (200, tenant) == await hub.request("GET", path, token=ADMIN_TOKEN)


# -- provider admin API: agents -----------------------------------------------------------


async def test_an_agents_email_is_unique_across_the_whole_provider(hub: LiveHub) -> None:
    dealer, other_dealer = await hub.tenant(), await hub.tenant()
    created = await create_agent(hub, dealer, "ana@dealer.example")

    same_tenant = await create_agent(hub, dealer, "ana@dealer.example")
    other_tenant = await create_agent(hub, other_dealer, "ana@dealer.example")
    other_case = await create_agent(hub, other_dealer, "Ana@Dealer.EXAMPLE")

    assert 201 == created[0]
    assert [(409, "conflict")] * 3 == [
        error_of(*reply) for reply in (same_tenant, other_tenant, other_case)
    ]
    _status, listed = await hub.request(
        "GET", f"/api/admin/tenants/{other_dealer['id']}/agents", token=ADMIN_TOKEN
    )
    assert [] == listed["agents"]


async def test_creating_an_agent_for_an_unknown_tenant_is_404(hub: LiveHub) -> None:
    status, body = await create_agent(hub, {"id": "no-such-tenant"}, "nobody@dealer.example")

    assert (404, "not_found") == error_of(status, body)


async def test_the_admin_api_refuses_every_call_when_no_admin_token_is_configured(
    make_hub: HubFactory,
) -> None:
    hub = await make_hub(admin_token=None)

    replies = [
        await hub.request("POST", "/api/admin/tenants", token=ADMIN_TOKEN, json=TENANT),
        await hub.request("POST", "/api/admin/tenants", json=TENANT),
        await hub.request("GET", "/api/admin/tenants", token=ADMIN_TOKEN),
        await hub.request("GET", "/api/admin/tenants", token="None"),
        await hub.request("GET", "/api/admin/tenants", token=""),
    ]

    assert [(403, "forbidden")] * 5 == [error_of(*reply) for reply in replies]
    assert "CHARLA_ADMIN_TOKEN" in replies[0][1]["error"]["message"]


async def test_the_admin_api_answers_401_to_a_wrong_or_missing_token(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"], role="admin")

    replies = [
        await hub.request("POST", "/api/admin/tenants", token="wrong-token", json=TENANT),
        await hub.request("POST", "/api/admin/tenants", json=TENANT),
        await hub.request("GET", "/api/admin/tenants", token=ADMIN_TOKEN + "x"),
        await hub.request("GET", "/api/admin/tenants", token=agent["token"]),
        await hub.request(
            "PATCH", f"/api/admin/tenants/{tenant['id']}", token="x", json={"plan": "basic"}
        ),
    ]
    basic_auth = await raw(
        hub, "GET", "/api/admin/tenants", headers={"Authorization": f"Basic {ADMIN_TOKEN}"}
    )

    assert [(401, "unauthorized")] * 6 == [
        error_of(status, body) for status, body in [*replies, basic_auth[:2]]
    ]
    assert (
        "premium"
        == (await hub.request("GET", f"/api/admin/tenants/{tenant['id']}", token=ADMIN_TOKEN))[1][
            "plan"
        ]
    )


# -- login --------------------------------------------------------------------------------


async def test_login_answers_a_token_and_the_agent(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    _status, agent = await create_agent(
        hub, tenant, "luis@dealer.example", name="Luis", languages=["en", "es"], role="supervisor"
    )

    status, login = await hub.request(
        "POST", "/api/login", json={"email": "luis@dealer.example", "password": PASSWORD}
    )

    assert 200 == status
    assert {"token", "agent"} == set(login)
    assert {
        "id": agent["id"],
        "name": "Luis",
        "tenant_id": tenant["id"],
        "role": "supervisor",
        "languages": ["en", "es"],
    } == login["agent"]
    assert (200, {"agent": login["agent"]}) == await hub.request(
        "GET", "/api/me", token=login["token"]
    )


async def test_wrong_password_and_unknown_email_get_the_same_401(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    await create_agent(hub, tenant, "marta@dealer.example")

    wrong_password = await hub.request(
        "POST", "/api/login", json={"email": "marta@dealer.example", "password": "not it"}
    )
    unknown_email = await hub.request(
        "POST", "/api/login", json={"email": "nadie@dealer.example", "password": PASSWORD}
    )

    assert (401, "unauthorized") == error_of(*wrong_password)
    assert wrong_password == unknown_email
    missing = await hub.request("POST", "/api/login", json={"email": "marta@dealer.example"})
    assert (400, "invalid_payload") == error_of(*missing)


# -- transcripts and tickets --------------------------------------------------------------


async def test_a_chat_is_readable_only_by_agents_of_its_tenant(make_hub: HubFactory) -> None:
    hub = await make_hub(token_ttl_s=60)
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    colleague = await hub.agent(tenant, languages=["es"])
    outsider = await hub.agent(await hub.tenant(), languages=["es"], role="admin")
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, ¿tienen la Tacoma?", language="es")
    await agent_peer.wait_for("chat_assigned")
    signer = hub.app[SIGNER]
    expired = signer.issue(agent["id"], tenant["id"], "agent", now=time.time() - 61)
    ghost = signer.issue("no-such-agent", tenant["id"], "agent")
    path = f"/api/chats/{chat['id']}"

    mine = await hub.request("GET", path, token=agent["token"])
    colleagues = await hub.request("GET", path, token=colleague["token"])
    refused = {
        "other tenant": await hub.request("GET", path, token=outsider["token"]),
        "unknown chat": await hub.request("GET", "/api/chats/nope", token=agent["token"]),
        "no token": await hub.request("GET", path),
        "garbage token": await hub.request("GET", path, token="garbage"),
        "expired token": await hub.request("GET", path, token=expired),
        "unknown agent": await hub.request("GET", path, token=ghost),
    }

    assert 200 == mine[0]
    assert mine == colleagues
    body = mine[1]
    assert {"id", "tenant_id", "status", "language", "visitor", "agent_id", "created_at"} <= set(
        body
    )
    assert (chat["id"], tenant["id"], "active", "es", agent["id"]) == (
        body["id"],
        body["tenant_id"],
        body["status"],
        body["language"],
        body["agent_id"],
    )
    assert [("visitor", "Hola, ¿tienen la Tacoma?")] == [
        (m["author"], m["text"]) for m in body["messages"]
    ]
    assert {
        "other tenant": (404, "not_found"),
        "unknown chat": (404, "not_found"),
        "no token": (401, "unauthorized"),
        "garbage token": (401, "unauthorized"),
        "expired token": (401, "unauthorized"),
        "unknown agent": (401, "unauthorized"),
    } == {case: error_of(*reply) for case, reply in refused.items()}
    assert "expired" in refused["expired token"][1]["error"]["message"]
    assert "Tacoma" not in str(refused["other tenant"])


async def test_tickets_are_listed_only_for_their_own_tenant(hub: LiveHub) -> None:
    dealer, other_dealer = await hub.tenant(), await hub.tenant()
    agent = await hub.agent(dealer, languages=["es"])
    other_agent = await hub.agent(other_dealer, languages=["es"])

    mine = await start_chat(await hub.visitor_peer(dealer), "Llámenme mañana", language="es")
    theirs = await start_chat(await hub.visitor_peer(other_dealer), "Otro asunto", language="es")

    assert ("offline", "offline") == (mine["status"], theirs["status"])
    _status, listed = await hub.request("GET", "/api/tickets", token=agent["token"])
    _status, other_listed = await hub.request("GET", "/api/tickets", token=other_agent["token"])
    assert [(mine["id"], dealer["id"], "Llámenme mañana")] == [
        (t["chat_id"], t["tenant_id"], t["text"]) for t in listed["tickets"]
    ]
    assert [(theirs["id"], other_dealer["id"], "Otro asunto")] == [
        (t["chat_id"], t["tenant_id"], t["text"]) for t in other_listed["tickets"]
    ]
    assert (401, "unauthorized") == error_of(*await hub.request("GET", "/api/tickets"))


# -- health and metrics -------------------------------------------------------------------


async def test_healthz_answers_200_ok(hub: LiveHub) -> None:
    status, body = await hub.request("GET", "/healthz")

    assert (200, "ok") == (status, body["status"])


async def test_metrics_are_prometheus_text_and_count_started_chats(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))

    before = await metrics(hub)
    await start_chat(await hub.visitor_peer(tenant), "Hola", language="es")
    await start_chat(await hub.visitor_peer(tenant), "Buenas", language="es")
    after = await metrics(hub)

    started = ("charla_chats_started_total", (("status", "queued"), ("tenant_id", tenant["id"])))
    stored = ("charla_messages_total", (("author", "visitor"),))
    assert (0, 0) == (before.get(started, 0), before.get(stored, 0))
    assert (2, 2) == (after[started], after[stored])
    assert 2 == after["charla_connected_visitors", ()]


async def metrics(hub: LiveHub) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with hub.http.get(hub.url + "/metrics") as response:
        assert 200 == response.status
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        assert family.name.startswith("charla_"), family.name
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples


# -- the error shape for everything -------------------------------------------------------


async def test_unknown_paths_get_404_in_the_json_error_shape(hub: LiveHub) -> None:
    replies = [
        await raw(hub, "GET", "/api/nothing-here"),
        await raw(hub, "GET", "/no/such/page"),
        await raw(hub, "DELETE", "/api/admin/tenants/x/agents/y"),
    ]

    assert [(404, "not_found")] * 3 == [error_of(status, body) for status, body, _ in replies]
    assert ["application/json"] * 3 == [ctype.split(";")[0] for _s, _b, ctype in replies]


async def test_a_body_that_is_not_json_gets_400_invalid_payload(hub: LiveHub) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}

    replies = [
        await raw(hub, "POST", "/api/admin/tenants", data="{not json", headers=auth),
        await raw(hub, "POST", "/api/admin/tenants", data=b"\xff\xfe", headers=auth),
        await raw(hub, "POST", "/api/admin/tenants", data="[1, 2]", headers=auth),
        await raw(hub, "POST", "/api/admin/tenants", data='"text"', headers=auth),
        await raw(hub, "POST", "/api/admin/tenants", data="", headers=auth),
        await raw(hub, "POST", "/api/login", data="email=a&password=b"),
    ]

    assert [(400, "invalid_payload")] * 6 == [error_of(s, b) for s, b, _ in replies]


async def test_a_body_over_64_kib_gets_413_too_large(hub: LiveHub) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    huge_name = '{"name": "' + "x" * (64 * 1024) + '"}'

    replies = [
        await raw(hub, "POST", "/api/admin/tenants", data=huge_name, headers=auth),
        await raw(hub, "POST", "/api/login", data=huge_name),
    ]

    assert [(413, "too_large")] * 2 == [error_of(s, b) for s, b, _ in replies]
    assert 200 == (await hub.request("GET", "/healthz"))[0]


# -- secrets ------------------------------------------------------------------------------


async def test_no_response_ever_contains_a_password_or_its_hash(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"], role="admin")

    replies = [
        await hub.request("GET", f"/api/admin/tenants/{tenant['id']}", token=ADMIN_TOKEN),
        await hub.request("GET", "/api/admin/tenants", token=ADMIN_TOKEN),
        await hub.request("GET", f"/api/admin/tenants/{tenant['id']}/agents", token=ADMIN_TOKEN),
        await hub.request(
            "POST", "/api/login", json={"email": agent["email"], "password": PASSWORD}
        ),
        await hub.request("GET", "/api/me", token=agent["token"]),
    ]

    assert [200] * 5 == [status for status, _ in replies]
    responses = [agent, *(body for _, body in replies)]
    assert set() == {k for r in responses for k in keys_of(r) if "password" in k}
    assert [] == [r for r in responses if PASSWORD in str(r) or "$argon2" in str(r)]
