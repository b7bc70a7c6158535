"""Supervision and History in headless Chromium, against a live hub: a supervisor hands a
queued chat to an agent who is away and it opens in her console; the supervisor joins it to
whisper, the agent reads the coaching, and the visitor's widget never shows it (live, nor
after a reload, which syncs); an agent finds yesterday's chat by the phone a customer gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory, chat_is, start_chat
from tests.test_console_flow import open_console, sign_in
from tests.test_widget_browser import WIDGET, site_page

pytestmark = pytest.mark.browser

COACHING = "Ofrécele la prueba de manejo del sábado"


class MovableClock:
    """The hub's clock, set back a day to make yesterday's chats."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def widget_text(page: Any) -> str:
    text: str = await page.evaluate(
        "() => document.querySelector('charla-widget').shadowRoot.textContent"
    )
    return text


async def test_a_supervisor_assigns_a_queued_chat_and_whispers_unseen_by_the_visitor(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(plan="basic", languages=["es"], allowed_origins=[hub.url])
    luis = await hub.agent(tenant, languages=["es"], max_chats=1, name="Luis Ortiz")
    luis_peer = await hub.agent_peer(luis)
    busy = await hub.visitor_peer(tenant, origin=hub.url)
    first = await start_chat(busy, "Hola", language="es")
    await luis_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == first["id"])
    ana = await hub.agent(tenant, languages=["es"], max_chats=2, name="Ana Rivera")
    boss = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")

    ana_page = await open_console(browser, hub)
    await sign_in(ana_page, ana, online=False)
    await ana_page.select_option("select[name=status]", "away")
    await expect(ana_page.locator("select[name=status]")).to_have_value("away")
    boss_page = await open_console(browser, hub)
    await sign_in(boss_page, boss, online=False)
    await boss_page.click("[data-view=supervisor]")

    # The visitor starts a chat from the widget: nobody is free, so it waits.
    site = await site_page(browser, hub, tenant, "/demo/inventory", "es-PR")
    await site.locator(f"{WIDGET} .launcher").click()
    form = site.locator(f"{WIDGET} form")
    await form.get_by_label("Nombre").fill("Pedro Díaz")
    await form.get_by_label("Mensaje").fill("¿Tienen la Tacoma 2022?")
    await form.locator("button[type=submit]").click()
    row = boss_page.locator("[data-testid=supervision-queue] tr", has_text="Pedro Díaz")
    await row.wait_for()
    await expect(row).to_contain_text("#1")

    # Assigned by hand to Ana, who is away: it opens in her console.
    await row.locator("select[name=assign_to]").select_option(ana["id"])
    await row.locator("[data-action=assign]").click()
    tab = ana_page.locator(".tab", has_text="Pedro Díaz")
    await tab.wait_for()
    chat_id = await tab.get_attribute("data-chat-id")
    await row.wait_for(state="detached")
    await site.locator(f"{WIDGET} .status").get_by_text("Ana Rivera").wait_for()

    # The supervisor joins to whisper; Ana reads it, the visitor never does.
    chats = boss_page.locator(f"[data-testid=agents-chats] li[data-chat-id='{chat_id}']")
    await chats.locator("[data-action=join-whisper]").click()
    joined = boss_page.locator("[data-testid=joined]")
    await joined.locator(".msg.visitor", has_text="Tacoma").wait_for()
    await joined.locator("textarea[name=supervisor_text]").fill(COACHING)
    await joined.locator("button[type=submit]").click()
    await ana_page.locator(".msg.whisper", has_text=COACHING).wait_for()
    await boss_page.screenshot(path=screenshot_path("console-supervision"))
    composer = ana_page.locator("[data-testid=chat] textarea")
    await composer.fill("Sí, y puede probarla el sábado")
    await composer.press("Enter")
    await joined.locator(".msg.agent", has_text="probarla el sábado").wait_for()
    log = site.locator(f"{WIDGET} .log")
    await log.get_by_text("Sí, y puede probarla el sábado").wait_for()
    assert COACHING not in await widget_text(site)
    await site.reload()  # the widget syncs the chat again
    await log.get_by_text("Sí, y puede probarla el sábado").wait_for(state="attached")
    assert COACHING not in await widget_text(site)


async def test_history_finds_yesterdays_chat_by_the_phone_a_customer_gives(
    make_hub: HubFactory, browser: Any
) -> None:
    clock = MovableClock()
    hub = await make_hub(clock=clock)
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"], name="Luis Ortiz")
    peer = await hub.agent_peer(agent)
    clock.offset = -timedelta(days=1)
    for name, phone, text in (
        ("Carmen Ortiz", "787-555-0199", "Busco una Corolla 2020"),
        ("Otro Cliente", "787-555-0111", "Quiero una cita de servicio"),
    ):
        visitor = await hub.visitor_peer(tenant)
        chat = await start_chat(visitor, text, language="es", name=name, phone=phone)
        await peer.wait_for("chat_assigned", chat_is(chat["id"]))
        ack = await peer.call(
            "message", {"chat_id": chat["id"], "text": "Con gusto le ayudo", "client_msg_id": name}
        )
        assert ack["ok"] is True
        assert {"ok": True} == await peer.call("close_chat", {"chat_id": chat["id"]})
    clock.offset = timedelta()

    page = await open_console(browser, hub)
    await sign_in(page, agent, online=False)
    await page.click("[data-view=history]")
    rows = page.locator("[data-testid=history-rows] tr")
    await expect(rows).to_have_count(2)
    await page.fill("[data-testid=history] input[name=phone]", "(787) 555-0199")
    await page.click("[data-testid=history] button[type=submit]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Carmen Ortiz")
    await expect(rows.first).to_contain_text("(787) 555-0199")  # national format
    await rows.first.locator("[data-action=open]").click()
    past = page.locator("[data-testid=past-chat]")
    await past.locator(".msg.visitor", has_text="Corolla 2020").wait_for()
    await past.locator(".msg.agent", has_text="Con gusto").wait_for()
    await page.screenshot(path=screenshot_path("console-history"))
