"""The console says the hub's codes in words, in Spanish and in English (issue 29).

A lead saved through the hub with interest "buy", timeframe "this_month", a vehicle and a
trade-in reads "Comprar", "Este mes", "Toyota Corolla 2015, 90,000 millas" in the chat's
lead panel, the lead form and the leads list, with its delivery to a webhook; a ticket
filed because nobody could take a chat reads "Ningún agente disponible"; how a chat ended,
what state a chat is in and who the bot is read as words too. The same in English after the
ES/EN switch. No page ever shows the code as it came, "undefined" or an object as JSON.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from playwright.async_api import expect

from console.settings import Outbox
from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory, LiveHub, start_chat
from tests.support.leads import save, settled
from tests.test_console_flow import open_console, sign_in

# Deliver at once, to a receiver on this machine
FAST = Outbox(poll_s=0.2, backoff_s=0.05, backoff_cap_s=0.2, allow_private=True)

LEAD = {
    "first_name": "María",
    "last_name": "Rivera",
    "phone": "787-555-0123",
    "interest": "buy",
    "timeframe": "this_month",
    "vehicle": {"year": 2022, "make": "Toyota", "model": "Tacoma", "condition": "new"},
    "trade_in": {"year": 2015, "make": "Toyota", "model": "Corolla", "mileage": 90000},
}

# What must never show: the codes this test puts on the floor, and what a code or an
# object shown carelessly turns into
RAW = re.compile(
    r"this_month|no_agents|visitor_ended|\b(?:open|active|undefined|null|true|false)\b"
    r"|\[object Object\]|\{\""
)


async def no_codes_on(page: Any) -> None:
    """Nothing on the page (its text, or an input's value) is a raw code."""
    shown: str = await page.evaluate(
        """() => [document.body.innerText,
                  ...[...document.querySelectorAll('input, textarea')].map(e => e.value)]
                 .join('\\n')"""
    )
    assert [] == RAW.findall(shown), shown


async def switch_to(page: Any, lang: str) -> None:
    await page.click(f".topbar .lang-switch button:has-text('{lang.upper()}')")
    await expect(page.locator("html")).to_have_attribute("lang", lang)


async def webhook_receiver(aiohttp_server: Any) -> str:
    """A dealer's endpoint that takes every delivery; its URL."""

    async def take(_request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks/charla", take)
    server = await aiohttp_server(app)
    return str(server.make_url("/hooks/charla"))


async def test_a_lead_and_a_ticket_read_as_words_in_spanish_and_english(
    make_hub: HubFactory, aiohttp_server: Any, browser: Any
) -> None:
    hub = await make_hub(outbox=FAST)
    tenant = await hub.tenant(plan="premium", languages=["es", "en"])
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    status, _ = await hub.request(
        "POST",
        "/api/webhooks",
        token=admin["token"],
        json={
            "url": await webhook_receiver(aiohttp_server),
            "secret": "webhook-secret-0123456789",
            "events": ["lead.qualified"],
        },
    )
    assert 201 == status
    marisol = await hub.agent(tenant, languages=["es"], name="Marisol Vega")

    # Nobody who speaks English is online: an English visitor's chat becomes a ticket.
    offline = await start_chat(
        await hub.visitor_peer(tenant), "Hi, is anyone there?", language="en", name="John Doe"
    )
    _, tickets = await hub.request("GET", "/api/tickets", token=marisol["token"])
    assert [("no_agents", "open")] == [
        (t["reason"], t["status"]) for t in tickets["tickets"] if t["chat_id"] == offline["id"]
    ]

    page = await open_console(browser, hub)
    await sign_in(page, marisol)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, busco una Tacoma", language="es", name="María Rivera")
    await page.locator(f".tab[data-chat-id='{chat['id']}']").wait_for()
    lead = await save(await hub.agent_peer(marisol), chat, LEAD)
    assert ("buy", "this_month") == (lead["interest"], lead["timeframe"])

    # The chat's lead panel, in Spanish (the browser's language).
    panel = page.locator("[data-testid=visitor] [data-testid=lead-summary]")
    await expect(panel.locator("[data-field=timeframe]")).to_have_text("Este mes")
    await expect(panel.locator("[data-field=interest]")).to_have_text("Comprar")
    await expect(panel.locator("[data-field=vehicle]")).to_have_text("Toyota Tacoma 2022, nuevo")
    await expect(panel.locator("[data-field=trade_in]")).to_have_text(
        "Toyota Corolla 2015, 90,000 millas"
    )
    await expect(panel.locator("[data-field=qualified]")).to_have_text("Sí")
    await no_codes_on(page)

    # The lead form offers the timeframe by its words, with the saved one chosen.
    await page.click("[data-action=lead]")
    form = page.locator("[data-testid=lead-dialog]")
    await expect(form.locator("select[name=timeframe]")).to_have_value("this_month")
    assert "Este mes" == await form.locator("select[name=timeframe] option:checked").inner_text()
    await no_codes_on(page)
    await page.keyboard.press("Escape")
    await form.wait_for(state="detached")

    # The leads list, once the webhook has the lead; the tickets list.
    [delivery] = await settled(hub, marisol, lead["id"])
    assert ("webhook", "delivered") == (delivery["destination"], delivery["status"])
    await page.click("[data-view=leads]")
    row = page.locator(f"[data-testid=leads] tr[data-lead-id='{lead['id']}']")
    expected_es = {
        "interest": "Comprar",
        "vehicle": "Toyota Tacoma 2022, nuevo",
        "trade_in": "Toyota Corolla 2015, 90,000 millas",
        "timeframe": "Este mes",
        "qualified": "Sí",
        "source": "Agente",
        "deliveries": "Webhook: Entregado",
    }
    for field, text in expected_es.items():  # a delivery may say how many attempts
        await expect(row.locator(f"[data-field={field}]")).to_contain_text(text)
    await no_codes_on(page)
    await page.screenshot(path=screenshot_path("console-leads"))
    await page.click("[data-view=tickets]")
    ticket = page.locator(f"[data-testid=tickets] tr[data-chat-id='{offline['id']}']")
    await expect(ticket.locator("[data-field=reason]")).to_have_text("Ningún agente disponible")
    await expect(ticket.locator("[data-field=status]")).to_have_text("Abierto")
    await no_codes_on(page)
    await page.screenshot(path=screenshot_path("console-tickets"))

    # The same in English.
    await switch_to(page, "en")
    await expect(ticket.locator("[data-field=reason]")).to_have_text("No agent available")
    await expect(ticket.locator("[data-field=status]")).to_have_text("Open")
    await no_codes_on(page)
    await page.click("[data-view=leads]")
    expected_en = {
        "interest": "Buy",
        "vehicle": "2022 Toyota Tacoma, new",
        "trade_in": "2015 Toyota Corolla, 90,000 mi",
        "timeframe": "This month",
        "qualified": "Yes",
        "source": "Agent",
        "deliveries": "Webhook: Delivered",
    }
    for field, text in expected_en.items():  # a delivery may say how many attempts
        await expect(row.locator(f"[data-field={field}]")).to_contain_text(text)
    await no_codes_on(page)
    await page.click("[data-view=chats]")
    await expect(panel.locator("[data-field=timeframe]")).to_have_text("This month")
    await expect(panel.locator("[data-field=trade_in]")).to_have_text(
        "2015 Toyota Corolla, 90,000 mi"
    )

    # How the chat ended, in words, in either language.
    assert {"ok": True} == await visitor.call("end_chat", {"chat_id": chat["id"]})
    ended = page.locator("[data-testid=chat] .ended")
    await expect(ended).to_have_text("This chat has ended (The visitor ended the chat)")
    await no_codes_on(page)
    await switch_to(page, "es")
    await expect(ended).to_have_text("Este chat terminó (El visitante terminó el chat)")
    await no_codes_on(page)


async def test_the_bot_is_named_a_virtual_assistant_and_a_chat_s_state_is_words(
    hub: LiveHub, browser: Any
) -> None:
    tenant = await hub.tenant(plan="premium", languages=["es", "en"], bot_enabled=True)
    sofia = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")
    page = await open_console(browser, hub)
    await sign_in(page, sofia)

    # The bot greets; asked for a person, it hands the chat to Sofía with its transcript.
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, quiero hablar con una persona", language="es")
    assert "bot" == chat["status"]
    await page.locator(f".tab[data-chat-id='{chat['id']}']").wait_for()
    label = page.locator("[data-testid=chat] .msg.bot .author .role").first
    await expect(label).to_have_text("asistente virtual")
    await no_codes_on(page)

    # The supervisor reads the chat: its state in words, the bot labelled as such.
    await page.click("[data-view=supervisor]")
    await page.click(f"[data-testid=supervisor] button[data-chat-id='{chat['id']}']")
    reading = page.locator("[data-testid=reading]")
    await expect(reading.locator("h2")).to_contain_text("Con un agente")
    await expect(reading.locator(".msg.bot .author .role").first).to_have_text("asistente virtual")
    await no_codes_on(page)
    await switch_to(page, "en")
    await expect(reading.locator("h2")).to_contain_text("With an agent")
    await expect(reading.locator(".msg.bot .author .role").first).to_have_text("virtual assistant")
    await no_codes_on(page)
