"""What a dealer's site fetches over HTTP: /widget.js, the widget's configuration (with the
tenant's pre-chat fields, and what a new chat would get now: a person, the bot or the
leave-a-message form, with the next opening), and the sample dealer site; plus the demo's
invitation rules, and the rating the widget no longer offers after a chat no person had."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from multidict import CIMultiDict

from bots.script import DEFAULT_SCRIPT
from console.demo import DEMO_RULES, DEMO_SITE_KEY, ensure_demo
from console.domain.clock import ShiftedClock
from console.web.keys import HUB, PASSWORDS, STORE
from tests.support.harness import (
    ADMIN_TOKEN,
    ORIGIN,
    HubFactory,
    LiveHub,
    Peer,
    eventually,
    start_chat,
)

SAN_JUAN = ZoneInfo("America/Puerto_Rico")
WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
# What start_chat answers when the config said a new chat would get...
KEPT = {"agents": ("queued", "active"), "bot": ("bot",), "offline": ("offline",)}


async def get(hub: LiveHub, path: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
    async with hub.http.get(hub.url + path, headers=headers, allow_redirects=False) as r:
        return r.status, r.headers.copy(), await r.read()


async def test_widget_js_is_served_as_javascript_cached_and_revalidated(hub: LiveHub) -> None:
    status, headers, body = await get(hub, "/widget.js")
    assert 200 == status
    assert "application/javascript; charset=utf-8" == headers["Content-Type"]
    assert "public, max-age=300, stale-while-revalidate=3600" == headers["Cache-Control"]
    assert "nosniff" == headers["X-Content-Type-Options"]
    assert b"/visitor" in body
    status, _, body = await get(hub, "/widget.js", **{"If-None-Match": headers["ETag"]})
    assert (304, b"") == (status, body)


async def test_the_widget_config_says_the_prechat_fields_and_allows_only_the_tenants_origins(
    hub: LiveHub,
) -> None:
    tenant = await hub.tenant(plan="basic")
    key = tenant["site_key"]
    status, headers, _ = await get(hub, f"/api/widget/config?site_key={key}", Origin=ORIGIN)
    assert (200, ORIGIN) == (status, headers["Access-Control-Allow-Origin"])
    status, headers, _ = await get(
        hub, f"/api/widget/config?site_key={key}", Origin="https://evil.example"
    )
    assert 200 == status
    assert "Access-Control-Allow-Origin" not in headers

    status, body = await hub.request("GET", f"/api/widget/config?site_key={key}")
    assert {
        "name": tenant["name"],
        "languages": ["es", "en"],
        "primary_language": "es",
        "prechat_fields": ["name", "phone", "email"],
        "open": True,
        "availability": {"es": "offline", "en": "offline"},  # open, but nobody online
        "closed_reason": None,
        "next_opening": None,
        "timezone": "America/Puerto_Rico",
        "bot": None,
        "privacy_notice": {},  # none set: the widget's own words
    } == body

    status, patched = await hub.request(
        "PATCH",
        f"/api/admin/tenants/{tenant['id']}",
        token=ADMIN_TOKEN,
        json={"settings": {"prechat_fields": ["email"], "invitation_cooldown_min": 5}},
    )
    assert (200, {"prechat_fields": ["email"], "invitation_cooldown_min": 5}) == (
        status,
        patched["settings"],
    )
    status, patched = await hub.request(
        "PATCH",
        f"/api/admin/tenants/{tenant['id']}",
        token=ADMIN_TOKEN,
        json={"settings": {"invitation_cooldown_min": None}},
    )
    assert {"prechat_fields": ["email"]} == patched["settings"]
    status, body = await hub.request("GET", f"/api/widget/config?site_key={key}")
    assert ["email"] == body["prechat_fields"]

    status, body = await hub.request("GET", "/api/widget/config?site_key=sk_nope")
    assert (404, "not_found") == (status, body["error"]["code"])


async def config(hub: LiveHub, tenant: dict[str, Any]) -> dict[str, Any]:
    status, body = await hub.request("GET", f"/api/widget/config?site_key={tenant['site_key']}")
    assert 200 == status, body
    return body  # type: ignore[no-any-return]


async def promise_kept(hub: LiveHub, tenant: dict[str, Any], language: str) -> None:
    """A chat started now in `language` gets what the config said it would."""
    said = (await config(hub, tenant))["availability"][language]
    chat = await start_chat(await hub.visitor_peer(tenant), "Hola", language=language)
    assert chat["status"] in KEPT[said], (language, said, chat)


async def test_while_closed_the_config_says_why_and_when_it_opens_in_the_dealers_time(
    make_hub: HubFactory,
) -> None:
    # Wednesday 6 January 2027, 10:30 in San Juan: Three Kings' Day, a holiday in Puerto Rico
    hub = await make_hub(clock=ShiftedClock(datetime(2027, 1, 6, 10, 30, tzinfo=SAN_JUAN)))
    holiday = await hub.tenant(plan="basic", hours=WEEKDAYS, holidays="PR")
    saturdays = await hub.tenant(plan="basic", hours={"sat": [["09:00", "13:00"]]})
    await hub.agent_peer(await hub.agent(holiday, languages=["es", "en"]))  # online, closed

    body = await config(hub, holiday)
    assert {
        "open": False,
        "availability": {"es": "offline", "en": "offline"},
        "closed_reason": "holiday",
        "next_opening": "2027-01-07T13:00:00.000Z",  # Thursday, 9:00 on the dealer's clock
        "timezone": "America/Puerto_Rico",
        "bot": None,
    }.items() <= body.items()
    body = await config(hub, saturdays)
    assert ("after_hours", "2027-01-09T13:00:00.000Z") == (
        body["closed_reason"],
        body["next_opening"],
    )
    await promise_kept(hub, holiday, "es")

    # Premium's bot works after hours and on holidays; a proactive tenant's does not.
    premium = await hub.tenant(plan="premium", bot_enabled=True, hours=WEEKDAYS, holidays="PR")
    proactive = await hub.tenant(plan="proactive", bot_enabled=True, hours=saturdays["hours"])
    body = await config(hub, premium)
    assert ({"es": "bot", "en": "bot"}, "holiday") == (body["availability"], body["closed_reason"])
    assert {"name": premium["name"], "avatar_url": None} == body["bot"]
    body = await config(hub, proactive)
    assert ({"es": "offline", "en": "offline"}, "after_hours") == (
        body["availability"],
        body["closed_reason"],
    )
    assert {"name": proactive["name"], "avatar_url": None} == body["bot"]
    await promise_kept(hub, premium, "en")
    await promise_kept(hub, proactive, "es")


async def test_open_the_config_follows_the_agents_online_by_the_routing_rules(
    hub: LiveHub,
) -> None:
    basic = await hub.tenant(plan="basic")
    premium = await hub.tenant(plan="premium")
    overflow = await hub.tenant(plan="premium", overflow_after_s=60)
    nobody = {"es": "offline", "en": "offline"}
    for tenant in (basic, premium, overflow):
        assert nobody == (await config(hub, tenant))["availability"]
        await hub.agent(tenant, languages=["es"])  # exists, never online

    peers: list[Peer] = []
    for tenant in (basic, premium, overflow):
        peers.append(await hub.agent_peer(await hub.agent(tenant, languages=["es"])))
    # basic routes every chat in the primary language; premium in the visitor's, and with
    # overflow any agent may take any chat
    assert {"es": "agents", "en": "agents"} == (await config(hub, basic))["availability"]
    assert {"es": "agents", "en": "offline"} == (await config(hub, premium))["availability"]
    assert {"es": "agents", "en": "agents"} == (await config(hub, overflow))["availability"]
    body = await config(hub, premium)
    assert (True, None, None) == (body["open"], body["closed_reason"], body["next_opening"])
    await promise_kept(hub, premium, "en")
    await promise_kept(hub, premium, "es")

    # Nothing is cached: the agent who steps away is noticed by the next fetch.
    assert (await peers[0].call("set_status", {"status": "away"}))["ok"] is True
    assert nobody == (await config(hub, basic))["availability"]


async def test_a_bot_tenant_speaks_as_the_dealer_or_as_its_scripts_name(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="premium", bot_enabled=True)
    body = await config(hub, tenant)
    # open with nobody online: the bot takes the visitor's details
    assert {"es": "bot", "en": "bot"} == body["availability"]
    assert {"name": tenant["name"], "avatar_url": None} == body["bot"]
    await hub.agent_peer(await hub.agent(tenant, languages=["es", "en"]))
    assert {"es": "agents", "en": "agents"} == (await config(hub, tenant))["availability"]

    script = yaml.safe_load(DEFAULT_SCRIPT.read_text(encoding="utf-8"))
    avatar = "https://cdn.dealer.example/lola.png"
    script["settings"].update(bot_name="Lola", bot_avatar_url=avatar)
    assert await hub.app[STORE].bots.set_script_data(tenant["id"], script)
    assert {"name": "Lola", "avatar_url": avatar} == (await config(hub, tenant))["bot"]

    # The basic plan has no bot, whatever the tenant's switch says.
    basic = await hub.tenant(plan="basic", bot_enabled=True)
    assert None is (await config(hub, basic))["bot"]


async def test_a_chat_no_person_took_part_in_cannot_be_rated(hub: LiveHub) -> None:
    tenant = await hub.tenant(plan="premium", bot_enabled=True)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, busco una Tacoma", language="es")
    assert "bot" == chat["status"]
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot")
    assert tenant["name"] == visitor.seen("message")[0]["message"]["author_name"]
    assert {"ok": True} == await visitor.call("end_chat", {"chat_id": chat["id"]})
    ack = await visitor.call("rate", {"chat_id": chat["id"], "score": 5})
    assert "conflict" == ack["error"]["code"], ack
    assert "no person took part" in ack["error"]["message"]

    # An offline ticket neither
    basic = await hub.tenant(plan="basic")
    visitor = await hub.visitor_peer(basic)
    ticket = await start_chat(visitor, "Llámenme", language="es", phone="787-555-0123")
    assert "offline" == ticket["status"]
    ack = await visitor.call("rate", {"chat_id": ticket["id"], "score": 5})
    assert "conflict" == ack["error"]["code"], ack

    # A chat an agent took, then lost back to the queue (its visitor left), keeps its rating.
    agent = await hub.agent(basic, languages=["es"])
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(basic)
    taken = await start_chat(visitor, "Hola", language="es")
    assert "active" == taken["status"]
    await agent_peer.wait_for("chat_assigned")
    assert (await agent_peer.call("set_status", {"status": "offline"}))["ok"] is True
    await eventually(
        lambda: chat_status(hub, taken["id"], "queued"), what="the chat back in the queue"
    )
    assert {"ok": True} == await visitor.call("end_chat", {"chat_id": taken["id"]})
    rated = await visitor.call("rate", {"chat_id": taken["id"], "score": 4})
    assert rated["ok"] is True, rated


async def chat_status(hub: LiveHub, chat_id: str, status: str) -> bool:
    chat = await hub.app[HUB].store.get_chat(chat_id)
    return chat is not None and chat.status == status


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"prechat_fields": ["fax"]}, "settings.prechat_fields.0"),
        ({"prechat_fields": ["email", "email"]}, "settings.prechat_fields"),
        ({"invitation_cooldown_min": -1}, "settings.invitation_cooldown_min"),
        ({"colour": "red"}, "settings.colour"),
    ],
)
async def test_bad_settings_are_refused_naming_the_field(
    hub: LiveHub, settings: dict[str, Any], field: str
) -> None:
    tenant = await hub.tenant()
    status, body = await hub.request(
        "PATCH",
        f"/api/admin/tenants/{tenant['id']}",
        token=ADMIN_TOKEN,
        json={"settings": settings},
    )
    assert (400, "invalid_payload") == (status, body["error"]["code"])
    assert body["error"]["message"].startswith(field), body


async def test_a_tenant_created_with_settings_keeps_them(hub: LiveHub) -> None:
    tenant = await hub.tenant(settings={"prechat_fields": ["name", "phone"]})
    status, body = await hub.request("GET", f"/api/widget/config?site_key={tenant['site_key']}")
    assert (200, ["name", "phone"]) == (status, body["prechat_fields"])


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/demo/", "Su próximo auto está en Bayamón"),
        ("/demo/inventory", "2023 Honda CR-V EX"),
        ("/demo/vehicles/2024-toyota-tacoma", "2024 Toyota Tacoma TRD"),
        ("/demo/financing", "Pre-qualify in minutes"),
    ],
)
async def test_the_sample_site_embeds_the_widget(hub: LiveHub, path: str, title: str) -> None:
    status, headers, body = await get(hub, path)
    page = body.decode()
    assert (200, "text/html; charset=utf-8") == (status, headers["Content-Type"])
    assert title in page
    assert f'<script src="/widget.js" data-site-key="{DEMO_SITE_KEY}" async></script>' in page


async def test_the_sample_site_shows_another_tenants_widget_but_never_echoes_markup(
    hub: LiveHub,
) -> None:
    status, headers, body = await get(hub, "/demo/financing?site_key=sk_other_123")
    assert 200 == status
    assert 'data-site-key="sk_other_123"' in body.decode()
    assert "charla_demo_site_key=sk_other_123" in headers["Set-Cookie"]
    status, _, body = await get(hub, '/demo/?site_key="><script>alert(1)</script>')
    assert 200 == status
    assert "<script>alert(1)" not in body.decode()
    assert f'data-site-key="{DEMO_SITE_KEY}"' in body.decode()
    status, _, body = await get(hub, "/demo/vehicles/nope")
    assert 404 == status


async def test_the_demo_has_its_two_invitation_rules_once(hub: LiveHub) -> None:
    store = hub.app[STORE]
    tenant = await ensure_demo(store, hub.app[PASSWORDS], ("http://127.0.0.1:8080",))
    again = await ensure_demo(store, hub.app[PASSWORDS], ("http://127.0.0.1:9000",))
    assert ("http://127.0.0.1:8080", "http://127.0.0.1:9000") == again.allowed_origins
    rules = await store.engagement.list_rules(tenant.id)
    assert [r.name for r in DEMO_RULES] == [r.name for r in rules]
    assert [
        {"url_pattern": "/demo/vehicles/*", "min_seconds_on_page": 20},
        {"min_pages_viewed": 2, "referrer_contains": "google"},
    ] == [r.conditions for r in rules]
