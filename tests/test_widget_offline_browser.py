"""The widget tells the truth before the visitor writes, in real headless Chromium: with
nobody online it offers the leave-a-message form (name, a phone or an e-mail, the message)
whose ticket the console lists; closed, it says when the dealer opens, in the dealer's time
zone; it notices an agent who came online; the bot speaks as the dealer, picture and all;
and a chat that no person took part in ends without stars."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bots.script import DEFAULT_SCRIPT
from console.domain.clock import ShiftedClock
from console.web.keys import STORE
from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory, LiveHub

pytestmark = pytest.mark.browser

WIDGET = "charla-widget"
TIMEOUT_MS = 8000
SAN_JUAN = ZoneInfo("America/Puerto_Rico")
WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
AVATAR = "https://cdn.dealer.example/avatar.png"
# A red 1x1 PNG, served in place of the avatar's address
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c49444154789c6338a6a1010002ce0117f99c8d1c0000000049454e44ae426082"
)


async def site_page(
    browser: Any, hub: LiveHub, tenant: dict[str, Any], locale: str, path: str = "/demo/"
) -> Any:
    """A page of the sample dealer site with the tenant's widget, in a fresh context."""
    context = await browser.new_context(locale=locale)
    await context.route(
        f"{AVATAR}*", lambda route: route.fulfill(body=PIXEL, content_type="image/png")
    )
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}{path}?site_key={tenant['site_key']}")
    return page


async def words(locator: Any) -> str:
    """A locator's text with its spaces made plain (times have narrow no-break spaces)."""
    return " ".join((await locator.text_content() or "").split())


async def field_names(form: Any) -> list[str]:
    names: list[str] = await form.evaluate(
        "f => Array.from(f.querySelectorAll('input, textarea')).map(i => i.name)"
    )
    return names


async def test_with_nobody_online_the_visitor_leaves_a_message_that_becomes_a_ticket(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(plan="basic", allowed_origins=[hub.url])
    agent = await hub.agent(tenant, languages=["es", "en"])
    await hub.agent_peer(agent, online=False)  # connected, but not taking chats

    page = await site_page(browser, hub, tenant, "es-PR")
    await page.locator(f"{WIDGET} .launcher").click()
    form = page.locator(f"{WIDGET} form")
    intro = form.locator(".intro")
    await intro.get_by_text("Ahora no hay agentes disponibles").wait_for()
    # open, so no opening hour to promise; and no "an agent will help you"
    assert (
        "Ahora no hay agentes disponibles. Déjenos su mensaje y le contactaremos."
        == await words(intro)
    )
    assert "Déjenos un mensaje" == await words(form.locator("h3"))
    assert ["name", "phone", "email", "text"] == await field_names(form)

    await form.get_by_label("Nombre").fill("Ana Rivera")
    await form.get_by_label("Mensaje").fill("¿Tienen la Tacoma 2024 en rojo?")
    send = form.get_by_role("button", name="Enviar mensaje")
    await send.click()
    error = form.get_by_role("alert")
    await error.get_by_text("Indíquenos un teléfono o un correo electrónico").wait_for()
    assert "true" == await form.get_by_label("Teléfono").get_attribute("aria-invalid")
    await page.screenshot(path=screenshot_path("widget_offline_contact_needed"))
    await form.get_by_label("Nombre").fill("")
    await send.click()
    await error.get_by_text("Indíquenos su nombre.").wait_for()
    assert [] == await hub.app[STORE].list_tickets(tenant["id"])

    # The hub's own validation, as the hub says it
    await form.get_by_label("Nombre").fill("Ana Rivera")
    await form.get_by_label("Correo electrónico").fill("ana@")
    await send.click()
    await error.get_by_text("email: ").wait_for()
    await form.get_by_label("Correo electrónico").fill("")
    await form.get_by_label("Teléfono").fill("787-555-0123")
    await send.click()
    thanks = page.locator(f"{WIDGET} .view [role=status]")
    await thanks.get_by_text("¡Gracias! Recibimos su mensaje").wait_for()
    assert "¡Gracias! Recibimos su mensaje y le contactaremos lo antes posible." == await words(
        thanks
    )
    await page.screenshot(path=screenshot_path("widget_offline_thanks"))

    status, listed = await hub.request("GET", "/api/tickets", token=agent["token"])
    assert 200 == status, listed
    assert [
        ("¿Tienen la Tacoma 2024 en rojo?", "Ana Rivera", "+17875550123", None, "no_agents")
    ] == [
        (t["text"], t.get("name"), t.get("phone"), t.get("email"), t["reason"])
        for t in listed["tickets"]
    ]

    # A new message starts from an empty form; an agent who comes online is noticed the
    # next time the panel opens (a config older than 30 s is fetched again).
    await page.locator(WIDGET).get_by_role("button", name="Nuevo chat").click()
    await intro.get_by_text("Ahora no hay agentes disponibles").wait_for()
    await hub.agent_peer(agent)
    await page.locator(WIDGET).get_by_role("button", name="Minimizar chat").first.click()
    await page.evaluate("(() => { const now = Date.now; Date.now = () => now() + 31000; })()")
    await page.locator(f"{WIDGET} .launcher").click()
    await intro.get_by_text("Escríbanos y un agente le atenderá.").wait_for()
    await page.context.close()


async def test_closed_the_widget_says_when_the_dealer_opens_in_the_dealers_time(
    make_hub: HubFactory, browser: Any
) -> None:
    # Friday 8 January 2027, 8 p.m. in San Juan: the dealer opens on Monday at 9
    hub = await make_hub(clock=ShiftedClock(datetime(2027, 1, 8, 20, 0, tzinfo=SAN_JUAN)))
    tenant = await hub.tenant(plan="basic", allowed_origins=[hub.url], hours=WEEKDAYS)
    page = await site_page(browser, hub, tenant, "en-US")
    await page.locator(f"{WIDGET} .launcher").click()
    form = page.locator(f"{WIDGET} form")
    intro = form.locator(".intro")
    await intro.get_by_text("We open Monday").wait_for()
    assert (
        "No agent is available right now. Leave us a message and we will contact you. "
        "We open Monday, January 11 at 9:00 AM." == await words(intro)
    )
    await form.get_by_label("Name").fill("John Miller")
    await form.get_by_label("E-mail").fill("john@example.com")
    await form.get_by_label("Message").fill("Do you lease the CR-V?")
    await form.get_by_role("button", name="Send message").click()
    thanks = page.locator(f"{WIDGET} .view [role=status]")
    await thanks.get_by_text("Thank you!").wait_for()
    assert (
        "Thank you! We received your message and will contact you when we open, "
        "Monday, January 11 at 9:00 AM." == await words(thanks)
    )
    await page.locator(WIDGET).get_by_role("button", name="Switch to Spanish").click()
    await thanks.get_by_text("cuando abramos").wait_for()
    assert (
        "¡Gracias! Recibimos su mensaje y le contactaremos cuando abramos, "
        "el lunes 11 de enero a las 9:00 a. m." == await words(thanks)
    )
    tickets = await hub.app[STORE].list_tickets(tenant["id"])
    assert [("John Miller", "john@example.com", "after_hours")] == [
        (t.name, t.email, t.reason) for t in tickets
    ]

    # A premium dealer's bot works after hours: the visitor is told who answers, and when
    # a person will call back.
    premium = await hub.tenant(
        plan="premium", bot_enabled=True, allowed_origins=[hub.url], hours=WEEKDAYS
    )
    page = await site_page(browser, hub, premium, "es-PR")
    await page.locator(f"{WIDGET} .launcher").click()
    intro = page.locator(f"{WIDGET} form .intro")
    await intro.get_by_text("Ahora estamos cerrados.").wait_for()
    assert (
        "Ahora estamos cerrados. Nuestro asistente virtual tomará sus datos y una persona le "
        "contactará cuando abramos, el lunes 11 de enero a las 9:00 a. m." == await words(intro)
    )
    assert ["name", "phone", "email", "text"] == await field_names(page.locator(f"{WIDGET} form"))
    await page.context.close()


async def test_the_bot_speaks_as_the_dealer_and_its_chat_ends_without_stars(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant(plan="premium", bot_enabled=True, allowed_origins=[hub.url])
    script = yaml.safe_load(DEFAULT_SCRIPT.read_text(encoding="utf-8"))
    script["settings"]["bot_avatar_url"] = AVATAR
    assert await hub.app[STORE].bots.set_script_data(tenant["id"], script)

    page = await site_page(browser, hub, tenant, "es-PR")
    await page.locator(f"{WIDGET} .launcher").click()
    form = page.locator(f"{WIDGET} form")
    intro = form.locator(".intro")
    await intro.get_by_text("Nuestro asistente virtual").wait_for()
    assert (
        "Ahora mismo no hay nadie de nuestro equipo disponible. Nuestro asistente virtual "
        "tomará sus datos y una persona le contactará lo antes posible." == await words(intro)
    )
    await form.get_by_label("Mensaje").fill("Hola, busco una Tacoma")
    await form.get_by_role("button", name="Comenzar chat").click()

    bot = page.locator(f"{WIDGET} .log .msg.bot").first
    await bot.wait_for()
    who = bot.locator(".who")
    assert tenant["name"] == await words(who.locator(".name"))
    assert "asistente virtual" == await words(who.locator(".role"))
    avatar = who.locator("img.avatar")
    assert (tenant["name"], AVATAR) == (
        await avatar.get_attribute("alt"),
        await avatar.evaluate("img => img.src"),
    )
    await page.wait_for_function(
        """() => document.querySelector('charla-widget').shadowRoot
              .querySelector('.msg.bot img.avatar').naturalWidth === 1"""
    )
    # the bot's text stays text, after its label
    assert await bot.evaluate("m => m.lastChild.nodeType === Node.TEXT_NODE")
    await page.screenshot(path=screenshot_path("widget_bot_as_dealer"))

    # After a reload, the chat is the same, and ending it offers no stars: nobody to rate.
    await page.reload()
    await bot.wait_for()
    await page.locator(WIDGET).get_by_role("button", name="Terminar chat").click()
    ended = page.locator(f"{WIDGET} .view")
    await ended.get_by_text("El chat terminó.").wait_for()
    assert 0 == await page.locator(f"{WIDGET} .stars").count()
    await ended.get_by_role("button", name="Nuevo chat").click()
    await intro.get_by_text("Nuestro asistente virtual").wait_for()
    await page.context.close()
