"""The agent's lead form books an appointment, in headless Chromium: a kind without its day
and time is stopped in the form, a Sunday is refused by the hub with its reason and the
next opening, a Saturday morning is saved, shown in the lead panel and in the form again.

The hub's clock: Tuesday 24 November 2026, 10:00 in San Juan; the dealer keeps
DEALER_HOURS (Saturday 9-13, closed on Sunday).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playwright.async_api import expect

from bots.testing import DEALER_HOURS
from console.domain.clock import ShiftedClock
from tests.support.harness import HubFactory, start_chat
from tests.test_console_flow import open_console, sign_in

OPEN = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


async def test_the_lead_form_books_a_test_drive_and_shows_a_refusal_with_its_reason(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub(clock=ShiftedClock(OPEN))
    tenant = await hub.tenant(languages=["es"], hours=DEALER_HOURS, holidays="PR")
    agent = await hub.agent(tenant, languages=["es"])
    page = await open_console(browser, hub)
    await sign_in(page, agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, quiero probar la Tacoma", name="Ana Rivera")
    await page.locator(f".tab[data-chat-id='{chat['id']}']").wait_for()

    await page.click("[data-action=lead]")
    form = page.locator("[data-testid=lead-dialog]")
    await form.locator("input[name=phone]").fill("787-555-0123")
    await form.locator("select[name=appointment_kind]").select_option("test_drive")
    await form.locator("button[type=submit]").click()
    await form.locator(".error", has_text="Para una cita, indique el día y la hora.").wait_for()

    await form.locator("input[name=appointment_date]").fill("2026-11-29")
    await form.locator("input[name=appointment_time]").fill("10:00")
    await form.locator("button[type=submit]").click()
    refusal = form.locator(".error", has_text="No se guardó la cita")
    await refusal.wait_for()
    said = await refusal.inner_text()
    assert "is on a Sunday, when the dealer is closed" in said
    assert "the next opening is 2026-11-30T09:00" in said

    await form.locator("input[name=appointment_date]").fill("2026-11-28")
    await form.locator("button[type=submit]").click()
    await form.locator(".ok").wait_for()
    status, leads = await hub.request("GET", "/api/leads", token=agent["token"])
    assert 200 == status, leads
    [lead] = leads["leads"]
    assert {"kind": "test_drive", "at": "2026-11-28T10:00"} == lead["appointment"]

    # the chat's lead panel says it in words, at the dealer's time
    shown = page.locator("[data-testid=lead-summary] [data-field=appointment]").first
    await expect(shown).to_contain_text("Prueba de manejo")
    await expect(shown).to_contain_text("10:00")
    # and the form opens with it again
    await page.click("[data-action=lead]")
    form = page.locator("[data-testid=lead-dialog]")
    await expect(form.locator("select[name=appointment_kind]")).to_have_value("test_drive")
    await expect(form.locator("input[name=appointment_date]")).to_have_value("2026-11-28")
    await expect(form.locator("input[name=appointment_time]")).to_have_value("10:00")
