"""The widget's privacy notice: the tenant's bilingual text (`PUT /api/privacy-notice`) is in
`/api/widget/config`, and headless Chromium shows it, small and as text, in the visitor's
language before their first message; the widget's own words where the tenant has none."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.harness import HubFactory, LiveHub

WIDGET = "charla-widget"
TIMEOUT_MS = 8000
NOTICE_ES = "Autos Borinquen guarda este chat 2 años. <b>Sin</b> tarjetas, por favor."
DEFAULT_EN = "By chatting, you agree that we keep this conversation"
DEFAULT_ES = "Al chatear, acepta que guardemos esta conversación"


async def dealer(hub: LiveHub, notice: dict[str, str] | None) -> dict[str, Any]:
    """A tenant on the hub's sample site with a Spanish-speaking agent online."""
    tenant = await hub.tenant(plan="basic", allowed_origins=[hub.url])
    admin = await hub.agent(tenant, languages=["es", "en"], role="admin")
    await hub.agent_peer(admin)
    if notice is not None:
        status, body = await hub.request(
            "PUT", "/api/privacy-notice", token=admin["token"], json={"notice": notice}
        )
        assert (200, notice) == (status, body["notice"])
    return tenant


async def widget_page(browser: Any, hub: LiveHub, tenant: dict[str, Any], locale: str) -> Any:
    page = await (await browser.new_context(locale=locale)).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/demo/inventory?site_key={tenant['site_key']}")
    await page.locator(f"{WIDGET} .launcher").click()
    return page


async def test_the_config_carries_the_tenants_notice(make_hub: HubFactory) -> None:
    hub = await make_hub()
    told = await dealer(hub, {"es": NOTICE_ES, "en": "We keep chats for two years."})
    silent = await dealer(hub, None)

    answers = [
        await hub.request("GET", f"/api/widget/config?site_key={t['site_key']}")
        for t in (told, silent)
    ]

    assert [200, 200] == [status for status, _ in answers]
    assert {"es": NOTICE_ES, "en": "We keep chats for two years."} == answers[0][1][
        "privacy_notice"
    ]
    assert {} == answers[1][1]["privacy_notice"]


@pytest.mark.browser
async def test_the_widget_shows_the_notice_in_the_visitors_language_until_the_first_message(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await dealer(hub, {"es": NOTICE_ES})
    page = await widget_page(browser, hub, tenant, "es-PR")
    notice = page.locator(f"{WIDGET} .panel .notice")

    await notice.wait_for()
    spanish = await notice.text_content()
    size = await notice.evaluate("n => getComputedStyle(n).fontSize")
    markup = await notice.evaluate("n => n.children.length")
    await page.locator(WIDGET).get_by_role("button", name="Cambiar a inglés").click()
    await notice.get_by_text(DEFAULT_EN).wait_for()  # no English text: the widget's own
    await page.locator(WIDGET).get_by_role("button", name="Switch to Spanish").click()
    await notice.get_by_text(NOTICE_ES).wait_for()
    await page.locator(f"{WIDGET} form").get_by_label("Mensaje").fill("Hola, ¿tienen Tacomas?")
    await page.locator(WIDGET).get_by_role("button", name="Comenzar chat").click()
    await page.locator(f"{WIDGET} .log").get_by_text("Hola, ¿tienen Tacomas?").wait_for()

    assert NOTICE_ES == spanish
    assert ("12px", 0) == (size, markup)  # small, and the tenant's text as text, not HTML
    assert 0 == await notice.count()


@pytest.mark.browser
async def test_a_tenant_without_a_notice_gets_the_default_words(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await dealer(hub, None)

    page = await widget_page(browser, hub, tenant, "es-PR")
    notice = page.locator(f"{WIDGET} .panel .notice")

    await notice.get_by_text(DEFAULT_ES).wait_for()
    assert "tarjeta" in (await notice.text_content() or "")
