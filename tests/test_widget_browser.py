"""The visitor widget in real headless Chromium on the sample dealer site: invitations in
the browser's language, the chat with an agent speaking the protocol, navigation mid-chat,
CSAT, the basic plan, and a host page whose CSS tries hard to break the widget."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from console.store.models import InvitationRow
from console.web.keys import STORE
from tests.support.browser import screenshot_path
from tests.support.harness import ADMIN_TOKEN, HubFactory, LiveHub, engagement, start_chat

pytestmark = pytest.mark.browser

VEHICLE = "/demo/vehicles/2024-toyota-tacoma"
TEXT = {"es": "¿Le interesa este vehículo?", "en": "Interested in this vehicle?"}
WIDGET = "charla-widget"
TIMEOUT_MS = 8000


async def dealer_site(hub: LiveHub, plan: str = "proactive") -> tuple[dict[str, Any], str]:
    """A tenant whose site is the hub's sample site, with a 1-second vehicle-page rule."""
    tenant = await hub.tenant(plan=plan, allowed_origins=[hub.url])
    admin = await hub.agent(tenant, languages=["es", "en"], role="admin", max_chats=1)
    status, rule = await hub.request(
        "POST",
        "/api/invitation-rules",
        token=admin["token"],
        json={
            "name": "Vehicle page",
            "text": TEXT,
            "conditions": {"url_pattern": "/demo/vehicles/*", "min_seconds_on_page": 1},
        },
    )
    assert 201 == status, rule
    return tenant, rule["id"]


async def site_page(
    browser: Any, hub: LiveHub, tenant: dict[str, Any], path: str, locale: str, **context: Any
) -> Any:
    """A page of the sample dealer site with the tenant's widget, in a fresh browser context
    of this language (`context`: Playwright's other options, a viewport)."""
    page = await (await browser.new_context(locale=locale, **context)).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}{path}?site_key={tenant['site_key']}")
    return page


async def messages(page: Any) -> list[str]:
    texts: list[str] = await page.evaluate(
        """() => Array.from(document.querySelector('charla-widget').shadowRoot
              .querySelectorAll('.log .msg')).map(m => m.lastChild.textContent)"""
    )
    return texts


async def test_a_spanish_visitor_is_invited_chats_navigates_and_rates(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant, _rule_id = await dealer_site(hub)
    agent = await hub.agent(tenant, languages=["es"], name="María Rivera")
    agent_peer = await hub.agent_peer(agent)

    page = await site_page(
        browser, hub, tenant, VEHICLE, "es-PR", viewport={"width": 375, "height": 740}
    )

    bubble = page.locator(f"{WIDGET} .bubble")
    await bubble.get_by_text(TEXT["es"]).wait_for()
    await bubble.get_by_role("button", name="Chatear ahora").click()

    assigned = await agent_peer.wait_for("chat_assigned")
    chat_id = assigned["chat"]["id"]
    assert [TEXT["es"]] == [m["text"] for m in assigned["chat"]["messages"]]
    status = page.locator(f"{WIDGET} .status")
    await status.get_by_text("Conversa con María Rivera").wait_for()
    log = page.locator(f"{WIDGET} .log")
    await log.get_by_text(TEXT["es"]).wait_for()

    composer = page.locator(f"{WIDGET} .compose textarea")
    await composer.fill("¿Está disponible?")
    typing = await agent_peer.wait_for("typing", lambda d: d["typing"] is True)
    assert {"chat_id": chat_id, "author": "visitor", "typing": True} == typing
    await composer.press("Enter")
    await agent_peer.wait_for("message", lambda d: d["message"]["author"] == "visitor")

    await agent_peer.emit("typing", {"chat_id": chat_id, "typing": True})
    await page.locator(f"{WIDGET} .typing").get_by_text("El agente está escribiendo").wait_for()
    ack = await agent_peer.call(
        "message", {"chat_id": chat_id, "text": "Sí, está disponible.", "client_msg_id": "a1"}
    )
    assert ack["ok"] is True
    await log.get_by_text("Sí, está disponible.").wait_for()

    # Mid-chat, the visitor goes to another page of the site: a new page load. At 375 px
    # the open chat covers the page, so they minimise it first, and open it again after.
    await page.locator(WIDGET).get_by_role("button", name="Minimizar chat").first.click()
    await page.locator("nav a[href='/demo/financing']").click()
    await page.wait_for_url(f"{hub.url}/demo/financing")
    await page.locator(f"{WIDGET} .launcher").click()
    activity = await agent_peer.wait_for(
        "visitor_activity", lambda d: d["page_view"]["url"].endswith("/demo/financing")
    )
    assert chat_id == activity["chat_id"]
    await log.get_by_text("Sí, está disponible.").wait_for()
    ack = await agent_peer.call(
        "message", {"chat_id": chat_id, "text": "¿Quiere una prueba?", "client_msg_id": "a2"}
    )
    assert ack["ok"] is True
    await log.get_by_text("¿Quiere una prueba?").wait_for()
    expected = [TEXT["es"], "¿Está disponible?", "Sí, está disponible.", "¿Quiere una prueba?"]
    assert expected == await messages(page)

    # And a reload, then a single-page-app navigation (History API)
    await page.reload()
    await log.get_by_text("¿Quiere una prueba?").wait_for()
    assert expected == await messages(page)
    await page.evaluate("history.pushState({}, '', '/demo/inventory?spa=1')")
    await agent_peer.wait_for(
        "visitor_activity", lambda d: d["page_view"]["url"].endswith("/demo/inventory?spa=1")
    )

    assert await agent_peer.call("close_chat", {"chat_id": chat_id}) == {"ok": True}
    stars = page.locator(f"{WIDGET} .stars")
    await stars.get_by_role("radio", name="5 de 5").click()
    await page.locator(f"{WIDGET} textarea[name=comment]").fill("Muy amable")
    await page.locator(f"{WIDGET}").get_by_role("button", name="Enviar calificación").click()
    await page.locator(f"{WIDGET} .view").get_by_text("¡Gracias por su calificación!").wait_for()
    assert (5, "Muy amable") == (await hub.app[STORE].engagement.rating(chat_id))[:2]
    await page.screenshot(path=screenshot_path("widget_es_rated_375"))

    # An English browser gets the English text.
    page_en = await site_page(browser, hub, tenant, VEHICLE, "en-US")
    bubble_en = page_en.locator(f"{WIDGET} .bubble")
    await bubble_en.get_by_text(TEXT["en"]).wait_for()
    await bubble_en.get_by_role("button", name="No, thanks").click()
    await bubble_en.wait_for(state="hidden")
    await page.context.close()
    await page_en.context.close()


async def test_a_basic_plan_site_shows_no_invitation(make_hub: HubFactory, browser: Any) -> None:
    hub = await make_hub()
    tenant, _ = await dealer_site(hub)
    await hub.agent_peer(await hub.agent(tenant, languages=["es"]))
    status, _ = await hub.request(
        "PATCH", f"/api/admin/tenants/{tenant['id']}", token=ADMIN_TOKEN, json={"plan": "basic"}
    )
    assert 200 == status
    page = await (await browser.new_context(locale="es-PR")).new_page()
    await page.goto(f"{hub.url}{VEHICLE}?site_key={tenant['site_key']}")
    launcher = page.locator(f"{WIDGET} .launcher")
    await launcher.wait_for()
    key = f"charla:{tenant['site_key']}:visitor_id"
    handle = await page.wait_for_function(f"() => localStorage.getItem('{key}')")
    visitor_id = await handle.json_value()
    await asyncio.sleep(1.5)  # longer than the rule's time on page
    await engagement(hub).idle()
    visitor = await hub.app[STORE].get_visitor(visitor_id)
    assert visitor is not None
    assert [f"{hub.url}{VEHICLE}?site_key={tenant['site_key']}"] == [p.url for p in visitor.pages]
    async with hub.app[STORE].session() as s:
        assert 0 == await s.scalar(select(func.count()).select_from(InvitationRow))
    assert await page.locator(f"{WIDGET} .bubble").is_hidden()


AGGRESSIVE_CSS = """
* { all: unset !important; }
html { font-size: 48px !important; }
body * { font-size: 40px !important; line-height: 4 !important; color: red !important;
         letter-spacing: 9px !important; box-sizing: content-box !important; }
div, section, form, p, button { display: none !important; }
button, input, textarea { border: 12px solid lime !important; padding: 30px !important; }
body > * { display: none !important; transform: scale(2) !important;
           filter: blur(3px) !important; }
charla-widget { position: absolute !important; top: -9999px !important; }
"""

MEASURE = """() => {
  const root = document.querySelector('charla-widget').shadowRoot;
  return ['.launcher', '.panel', '.head h2', 'form input', 'form textarea', '.primary']
    .map(sel => {
      const node = root.querySelector(sel);
      const box = node.getBoundingClientRect();
      const style = getComputedStyle(node);
      return [sel, Math.round(box.x), Math.round(box.y), Math.round(box.width),
              Math.round(box.height), style.fontSize, style.color, style.display];
    });
}"""


async def test_the_host_pages_aggressive_css_does_not_change_the_widget(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant, _ = await dealer_site(hub)
    page = await site_page(browser, hub, tenant, "/demo/financing", "en-US")
    await page.locator(f"{WIDGET} .launcher").click()
    await page.locator(f"{WIDGET} form input[name=name]").wait_for()
    await page.evaluate("document.querySelector('charla-widget').shadowRoot.activeElement?.blur()")
    box = await page.locator(f"{WIDGET} .panel").bounding_box()
    # inside the rounded corners, where the host page shows through
    inside = {
        "x": box["x"] + 12,
        "y": box["y"] + 12,
        "width": box["width"] - 24,
        "height": box["height"] - 24,
    }
    before = await page.evaluate(MEASURE)
    shot_before = await page.screenshot(clip=inside, path=screenshot_path("widget_plain_host"))

    await page.add_style_tag(content=AGGRESSIVE_CSS)
    applied = "(() => { const s = getComputedStyle(document.querySelector('footer'));"
    applied += " return [s.fontSize, s.color]; })()"
    assert ["40px", "rgb(255, 0, 0)"] == await page.evaluate(applied)
    after = await page.evaluate(MEASURE)
    shot_after = await page.screenshot(clip=inside, path=screenshot_path("widget_aggressive_host"))

    assert before == after
    assert shot_before == shot_after


async def test_when_closed_the_visitor_leaves_a_message_with_the_tenants_fields(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(
        plan="basic",
        allowed_origins=[hub.url],
        hours={"mon": [["00:00", "00:01"]]},  # closed but for one minute a week
        settings={"prechat_fields": ["name", "email"]},
    )
    page = await site_page(browser, hub, tenant, "/demo/", "en-US")
    launcher = page.locator(f"{WIDGET} .launcher")
    await launcher.focus()
    await page.keyboard.press("Enter")
    form = page.locator(f"{WIDGET} form")
    await form.get_by_text("No agent is available right now").wait_for()
    focused = """() => {
      const a = document.querySelector('charla-widget').shadowRoot.activeElement;
      return a && `${a.tagName}:${a.name}:${a.className}`;
    }"""
    assert "INPUT:name:" == await page.evaluate(focused)
    assert ["name", "email", "text"] == await form.evaluate(
        "f => Array.from(f.querySelectorAll('input, textarea')).map(i => i.name)"
    )
    await page.keyboard.type("John Miller")
    await form.get_by_label("E-mail").fill("john@example.com")
    await form.get_by_label("Message").fill("Do you have a 2022 Tacoma?")
    await form.get_by_role("button", name="Send message").click()
    await page.locator(f"{WIDGET} .view").get_by_text("Thank you! We received").wait_for()

    tickets = await hub.app[STORE].list_tickets(tenant["id"])
    assert [("Do you have a 2022 Tacoma?", "John Miller", "john@example.com", "after_hours")] == [
        (t.text, t.name, t.email, t.reason) for t in tickets
    ]
    await page.keyboard.press("Escape")
    await page.locator(f"{WIDGET} .panel").wait_for(state="hidden")
    assert "true" != await launcher.get_attribute("aria-expanded")
    assert "BUTTON::launcher" == await page.evaluate(focused)


async def test_a_visitor_starts_a_chat_waits_in_line_and_switches_language(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(plan="basic", allowed_origins=[hub.url])
    agent = await hub.agent(tenant, languages=["es"], max_chats=1, name="Luis Ortiz")
    agent_peer = await hub.agent_peer(agent)
    busy = await hub.visitor_peer(tenant, origin=hub.url)
    first = await start_chat(busy, "Hola", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == first["id"])

    page = await site_page(browser, hub, tenant, "/demo/inventory", "en-US")
    await page.locator(f"{WIDGET} .launcher").click()
    form = page.locator(f"{WIDGET} form")
    await form.get_by_label("Name").fill("Ana Rivera")
    await form.get_by_label("Phone").fill("787-555-0123")
    await form.get_by_label("Message").fill("Is the Elantra still available?")
    await form.get_by_role("button", name="Start chat").click()
    status = page.locator(f"{WIDGET} .status")
    await status.get_by_text("You are number 1 in line. Estimated wait:").wait_for()

    await page.locator(WIDGET).get_by_role("button", name="Switch to Spanish").click()
    await page.locator(WIDGET).get_by_role("button", name="Terminar chat").wait_for()

    assert await agent_peer.call("close_chat", {"chat_id": first["id"]}) == {"ok": True}
    assigned = await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] != first["id"])
    visitor = assigned["chat"]["visitor"]
    assert ("Ana Rivera", "+17875550123") == (visitor["name"], visitor["phone"])
    await status.get_by_text("Conversa con Luis Ortiz").wait_for()
    await page.locator(WIDGET).get_by_role("button", name="Terminar chat").click()
    await agent_peer.wait_for("chat_closed", lambda d: d["reason"] == "visitor_ended")
    await page.locator(f"{WIDGET} .stars").wait_for()
