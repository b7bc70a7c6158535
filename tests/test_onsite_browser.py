"""'On site now' in headless Chromium against a live hub: an agent sees a visitor appear when
a page of the demo dealer site opens in another browser, invites them with her own words,
the widget shows the invitation with her name, the visitor accepts and writes, the chat
lands with her, and the visitor's row disappears when their page closes."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.harness import HubFactory
from tests.test_console_flow import open_console, sign_in
from tests.test_widget_browser import WIDGET, site_page

pytestmark = pytest.mark.browser

INVITATION = "¡Hola! ¿Le interesa la Tacoma? Le puedo ayudar."


async def test_an_agent_sees_a_visitor_browsing_and_invites_them(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(plan="proactive", languages=["es", "en"], allowed_origins=[hub.url])
    agent = await hub.agent(tenant, languages=["es"], name="Marisol Vega")
    console = await open_console(browser, hub)
    await sign_in(console, agent)
    await console.click("[data-view=onsite]")
    await console.locator("[data-testid=onsite] .empty").wait_for()

    site = await site_page(browser, hub, tenant, "/demo/inventory", "es-PR")
    row = console.locator("[data-testid=onsite] tr[data-visitor]")
    await row.wait_for()
    await expect(row).to_have_attribute("data-state", "browsing")
    await expect(row.locator("td.pages")).to_have_text("1")
    await expect(console.locator("[data-testid=onsite-total]")).to_contain_text("1")

    await row.locator("[data-action=invite]").click()
    form = console.locator("[data-testid=invite-form]")
    await form.locator("textarea[name=invite-text]").fill(INVITATION)
    await form.locator("[data-action=send-invite]").click()
    await form.wait_for(state="detached")
    await expect(row).to_have_attribute("data-state", "invited")

    bubble = site.locator(f"{WIDGET} .bubble")
    await expect(bubble).to_contain_text("Marisol Vega")
    await expect(bubble).to_contain_text(INVITATION)
    await bubble.locator("[data-action=accept]").click()
    await expect(site.locator(f"{WIDGET} .invited")).to_contain_text("Marisol Vega")
    chat_form = site.locator(f"{WIDGET} form")
    await chat_form.get_by_label("Nombre").fill("Pedro Díaz")
    await chat_form.get_by_label("Mensaje").fill("Sí, ¿la tienen en gris?")
    await chat_form.locator("button[type=submit]").click()

    await console.click("[data-view=chats]")
    await console.locator(".tab", has_text="Pedro Díaz").wait_for()
    await console.click("[data-view=onsite]")
    await expect(row).to_have_attribute("data-state", "chatting")

    await site.context.close()
    await row.wait_for(state="detached")
    await expect(console.locator("[data-testid=onsite-total]")).to_contain_text("0")
