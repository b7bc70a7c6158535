"""The Tickets screen in headless Chromium, against a live hub (issue 23): the night
visitor leaves a lead and an after-hours ticket due at the next opening; an agent opens
Tickets, reads the callback time in words, the conversation and the lead beside it, sees a
second ticket arrive live, takes the first, writes a note and resolves it; the API then
says resolved, hers, with the note; the supervisor's screen counts the tickets per status.
In Spanish and in English."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from bots.testing import DEALER_HOURS
from console.domain.clock import ShiftedClock
from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory
from tests.test_console_flow import open_console, sign_in
from tests.test_console_words import no_codes_on, switch_to
from tests.test_tickets import NIGHT, listed, night_visitor

pytestmark = pytest.mark.browser

NOTE = "Llamé a Luis: viene el lunes a las 10 a ver la Tacoma"


async def at_the_hub_s_time(browser: Any, hub: Any) -> Any:
    """The console, with the browser's clock where the hub's is (a Friday night)."""
    page = await open_console(browser, hub)
    await page.clock.set_system_time(NIGHT)
    await page.reload()
    return page


async def test_an_agent_takes_notes_and_resolves_an_after_hours_ticket(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub(clock=ShiftedClock(NIGHT), visitor_grace_s=0.2)
    tenant = await hub.tenant(bot_enabled=True, hours=DEALER_HOURS, holidays="PR")
    ana = await hub.agent(tenant, languages=["es"], name="Ana Torres")
    sofia = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")

    # The night visitor gives a name and a cell phone, then closes the page.
    visitor, chat_id = await night_visitor(hub, tenant)
    await visitor.close()
    [ticket] = await listed(hub, ana["token"], "tickets")
    assert ("after_hours", "open", chat_id) == (
        ticket["reason"],
        ticket["status"],
        ticket["chat_id"],
    )
    assert ticket["callback_due_at"] is not None

    page = await at_the_hub_s_time(browser, hub)
    await sign_in(page, ana, online=False)
    await page.click("[data-view=tickets]")
    row = page.locator(f"[data-testid=tickets] tr[data-ticket-id='{ticket['id']}']")
    await expect(row.locator("[data-field=reason]")).to_have_text("Fuera de horario")
    await expect(row.locator("[data-field=status]")).to_have_text("Abierto")
    await expect(row.locator("[data-field=due]")).to_contain_text("Llamar dentro de 11 horas")
    await expect(row.locator("[data-field=assignee]")).to_have_text("Sin asignar")

    # Live: another visitor ends the chat from the widget; the ticket appears by itself.
    other, other_chat = await night_visitor(hub, tenant)
    assert {"ok": True} == await other.call("end_chat", {"chat_id": other_chat})
    arrived = page.locator(f"[data-testid=tickets] tr[data-chat-id='{other_chat}']")
    await expect(arrived.locator("[data-field=reason]")).to_have_text("Fuera de horario")
    await expect(page.locator("[data-filter=todo] .count")).to_have_text("2")
    _status, body = await hub.request("GET", "/api/tickets", token=ana["token"])
    shown = await page.locator("[data-testid=tickets] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.ticketId)"
    )
    assert [t["id"] for t in body["tickets"]] == shown  # the hub's order: by due time

    # The ticket, with the visitor's conversation and lead beside it.
    await row.click()
    detail = page.locator("[data-testid=ticket]")
    await expect(detail.locator(".transcript")).to_contain_text("Soy Luis Pérez")
    await expect(detail.locator("[data-testid=lead-summary]")).to_contain_text("(787) 555-0199")
    await expect(detail.locator("[data-testid=lead-summary] [data-field=interest]")).to_have_text(
        "Comprar"
    )
    await no_codes_on(page)

    # Take it, write a note, resolve it.
    await detail.locator("[data-action=take]").click()
    await expect(detail.locator("h2 [data-field=status]")).to_have_text("En proceso")
    await expect(detail.locator("[data-field=assignee]")).to_have_text("Ana Torres")
    await expect(detail.locator("[data-action=take]")).to_have_count(0)
    await detail.locator("textarea[name=ticket_note]").fill(NOTE)
    await detail.locator("[data-action=note]").click()
    await expect(detail.locator(".ticket-notes li")).to_have_count(1)
    await expect(detail.locator(".ticket-notes li")).to_contain_text(NOTE)
    await expect(detail.locator(".ticket-notes li")).to_contain_text("Ana Torres")
    await expect(detail.locator("textarea[name=ticket_note]")).to_have_value("")
    await detail.locator("[data-action=resolve]").click()
    await expect(detail.locator("h2 [data-field=status]")).to_have_text("Resuelto")
    await expect(detail.locator("[data-action=reopen]")).to_be_visible()
    await expect(row).to_have_count(0)  # no longer to do
    await page.click("[data-filter=resolved]")
    await expect(row.locator("[data-field=status]")).to_have_text("Resuelto")
    await expect(page.locator("[data-testid=tickets] tbody tr")).to_have_count(1)
    await no_codes_on(page)
    await page.screenshot(path=screenshot_path("console-tickets-worked"))

    status, worked = await hub.request("GET", f"/api/tickets/{ticket['id']}", token=ana["token"])
    assert 200 == status, worked
    assert ("resolved", ana["id"], [NOTE], ["Ana Torres"]) == (
        worked["ticket"]["status"],
        worked["ticket"]["assignee_id"],
        [n["text"] for n in worked["ticket"]["notes"]],
        [n["author_name"] for n in worked["ticket"]["notes"]],
    )

    # The same screen in English.
    await switch_to(page, "en")
    await expect(detail.locator("h2 [data-field=status]")).to_have_text("Resolved")
    await page.click("[data-filter=todo]")
    await expect(arrived.locator("[data-field=reason]")).to_have_text("After hours")
    await expect(arrived.locator("[data-field=due]")).to_contain_text("Call back in 11 hours")
    await no_codes_on(page)

    # The supervisor's screen counts them.
    boss = await at_the_hub_s_time(browser, hub)
    await sign_in(boss, sofia, online=False)
    await boss.click("[data-view=supervisor]")
    counts = boss.locator("[data-testid=ticket-counts]")
    expected = {"open": "1", "in_progress": "0", "resolved": "1", "no_contact": "0", "overdue": "0"}
    for key, value in expected.items():
        await expect(counts.locator(f"[data-tile=tickets_{key}] .value")).to_have_text(value)
    await expect(counts.locator("[data-tile=tickets_resolved] .label")).to_have_text("Resuelto")
    await no_codes_on(boss)
    await boss.screenshot(path=screenshot_path("console-ticket-counts"))
