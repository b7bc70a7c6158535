"""What a dealer's site fetches over HTTP: /widget.js, the widget's configuration (with the
tenant's pre-chat fields), and the sample dealer site; plus the demo's invitation rules."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import CIMultiDict

from console.demo import DEMO_RULES, DEMO_SITE_KEY, ensure_demo
from console.web.keys import PASSWORDS, STORE
from tests.support.harness import ADMIN_TOKEN, ORIGIN, LiveHub


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
