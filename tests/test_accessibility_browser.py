"""axe-core (frontend/node_modules, from the npm registry) in headless Chromium over every
console screen an admin reaches and over the widget (open panel, pre-chat form, a chat): no
violation of serious or critical impact. And the console's keyboard: Alt+N opens the next
chat waiting for an answer."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.harness import HubFactory, start_chat
from tests.support.tools import FRONTEND
from tests.test_console_flow import TIMEOUT_MS, open_console, sign_in
from tests.test_widget_browser import WIDGET, site_page

pytestmark = pytest.mark.browser

AXE = FRONTEND / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = """async () => {
  const found = await axe.run(document, { resultTypes: ["violations"] });
  return found.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ` +
      v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "));
}"""


async def violations(page: Any, screen: str) -> list[str]:
    """Each serious or critical violation on the page as it stands, named by its screen."""
    if not await page.evaluate("() => typeof axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    found: list[str] = await page.evaluate(SERIOUS)
    return [f"{screen}: {line}" for line in found]


async def test_no_console_screen_has_a_serious_accessibility_violation(
    make_hub: HubFactory, browser: Any
) -> None:
    assert AXE.exists(), "cd frontend && npm ci (axe-core is a dev dependency)"
    hub = await make_hub()
    tenant = await hub.tenant(plan="premium")
    admin = await hub.agent(tenant, languages=["es", "en"], role="admin", name="Ana Rivera")
    # The console's CSP allows its own scripts only: axe comes in past it, as a test's tool
    context = await browser.new_context(locale="es-PR", bypass_csp=True)
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/")
    await page.wait_for_selector("input[name=email]")
    found = await violations(page, "login")

    await sign_in(page, admin)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "¿Tienen la Tacoma 2022?", language="es")
    await page.locator(f".tab[data-chat-id='{chat['id']}']").click()
    await page.locator("[data-testid=chat]").wait_for()
    found += await violations(page, "chats")
    await page.locator("[data-action=close]").click()
    await page.locator(".dialog").wait_for()
    found += await violations(page, "chats, close dialog")
    await page.keyboard.press("Escape")
    await page.click("[data-action=shortcuts]")
    await page.locator("[data-testid=shortcuts]").wait_for()
    found += await violations(page, "shortcuts help")
    await page.keyboard.press("Escape")

    views = await page.locator("nav.views [data-view]").evaluate_all(
        "bs => bs.map((b) => b.dataset.view)"
    )
    assert {"history", "leads", "tickets", "supervisor", "admin"} <= set(views)
    for view in views:
        if view == "chats":
            continue
        await page.click(f"[data-view={view}]")
        await page.wait_for_load_state("networkidle")
        if view != "admin":
            found += await violations(page, view)
            continue
        pages = await page.locator("[data-page]").evaluate_all(
            "bs => bs.map((b) => b.dataset.page)"
        )
        for admin_page in pages:
            await page.click(f"[data-page={admin_page}]")
            await page.wait_for_load_state("networkidle")
            found += await violations(page, f"admin, {admin_page}")
    assert [] == found

    # The check can fail: an image without a text alternative is a critical violation.
    await page.evaluate("() => document.body.append(document.createElement('img'))")
    assert any("image-alt (critical)" in line for line in await violations(page, "bad"))


async def test_the_widget_has_no_serious_accessibility_violation(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(
        plan="basic", allowed_origins=[hub.url], settings={"prechat_fields": ["name", "email"]}
    )
    agent = await hub.agent(tenant, languages=["es", "en"], name="Luis Ortiz")
    agent_peer = await hub.agent_peer(agent)
    page = await site_page(browser, hub, tenant, "/demo/inventory", "en-US", bypass_csp=True)
    await page.locator(f"{WIDGET} .launcher").wait_for()
    found = await violations(page, "widget closed")
    await page.locator(f"{WIDGET} .launcher").click()
    form = page.locator(f"{WIDGET} form")
    await form.get_by_label("Name").wait_for()
    found += await violations(page, "widget, pre-chat form")

    await form.get_by_label("Name").fill("Ana Rivera")
    await form.get_by_label("E-mail").fill("ana@example.com")
    await form.get_by_label("Message").fill("Is the Elantra still available?")
    await form.get_by_role("button", name="Start chat").click()
    assigned = await agent_peer.wait_for("chat_assigned")
    reply = {"chat_id": assigned["chat"]["id"], "text": "Yes, it is.", "client_msg_id": "a1"}
    assert (await agent_peer.call("message", reply))["ok"]
    await page.locator(f"{WIDGET} .log .msg.agent").get_by_text("Yes, it is.").wait_for()
    found += await violations(page, "widget, a chat")
    assert [] == found


async def test_alt_n_opens_the_next_waiting_chat_and_alt_w_asks_to_close_it(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"], max_chats=3, name="Luis Ortiz")
    page = await open_console(browser, hub)
    await sign_in(page, agent)
    chats = []
    for text in ("Hola", "Buenas tardes"):
        chats.append(await start_chat(await hub.visitor_peer(tenant), text, language="es"))
        await page.locator(f".tab[data-chat-id='{chats[-1]['id']}']").wait_for()
    first, second = (page.locator(f".tab[data-chat-id='{c['id']}']") for c in chats)
    await first.click()
    await expect(first).to_have_attribute("aria-selected", "true")

    await page.keyboard.press("Alt+N")
    await expect(second).to_have_attribute("aria-selected", "true")
    await page.keyboard.press("Alt+N")
    await expect(first).to_have_attribute("aria-selected", "true")

    # the pane of the chat in view listens for Alt+W once it is on screen
    await page.locator(f".chat-pane[data-chat-id='{chats[0]['id']}']").wait_for()
    await page.evaluate("() => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)))")
    await page.keyboard.press("Alt+W")
    await page.locator(".dialog").wait_for()
    await page.keyboard.press("Escape")
    await page.keyboard.press("Alt+H")
    shortcuts = page.locator("[data-testid=shortcuts]")
    await expect(shortcuts).to_contain_text("Siguiente chat que espera respuesta")
    await expect(shortcuts).to_contain_text("Alt+W")
