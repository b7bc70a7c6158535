"""The supervisor's counts of visitors on the site now, in the console in real headless
Chromium: live as visitors arrive, chat, get invited, leave a lead and go, in Spanish and
in English."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from tests.support.harness import LiveHub, start_chat
from tests.test_console_flow import expect_tile, open_console, sign_in, visitor_on_site

pytestmark = pytest.mark.browser

LEAD = {"first_name": "Ana", "phone": "787-555-0123", "interest": "buy"}


async def test_the_supervisor_sees_who_is_on_the_site_counted_live_in_both_languages(
    hub: LiveHub, browser: Any
) -> None:
    tenant = await hub.tenant(plan="premium", languages=["es", "en"])
    sofia = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")
    marisol = await hub.agent(tenant, languages=["es"], name="Marisol Vega")
    marisol_peer = await hub.agent_peer(marisol)
    await visitor_on_site(hub, tenant, "https://dealer.example/", "Autos del Este")

    boss = await open_console(browser, hub)
    await sign_in(boss, sofia, online=False)
    await boss.click("[data-view=supervisor]")
    counts = boss.locator("[data-testid=onsite-counts]")
    await counts.get_by_role("heading", name="Visitantes en el sitio ahora").wait_for()
    await expect_tile(boss, "onsite_total", "1")
    await expect_tile(boss, "onsite_in_chat", "0")

    chatting = await visitor_on_site(
        hub, tenant, "https://dealer.example/inventory/tacoma", "Toyota Tacoma 2022"
    )
    chat = await start_chat(chatting, "Hola, busco una Tacoma", language="es")
    await marisol_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    await expect_tile(boss, "onsite_total", "2")
    await expect_tile(boss, "onsite_in_chat", "1")
    saved = await marisol_peer.call("save_lead", {"chat_id": chat["id"], "lead": LEAD})
    assert saved["ok"] is True, saved
    await expect_tile(boss, "onsite_lead", "1")

    invited = await visitor_on_site(hub, tenant, "https://dealer.example/financing", "Financiar")
    vid = invited.seen("session")[0]["visitor_id"]
    ack = await marisol_peer.call("invite", {"visitor_id": vid})
    assert ack["ok"] is True, ack
    await expect_tile(boss, "onsite_invited", "1")
    await expect_tile(boss, "onsite_total", "3")
    labels = counts.locator(".tile .label")
    await expect(labels).to_have_text(["En el sitio", "En un chat", "Invitados", "Con lead"])

    await boss.click(".lang-switch button:has-text('EN')")
    await expect(labels).to_have_text(["On the site", "In a chat", "Invited", "With a lead"])
    await counts.get_by_role("heading", name="Visitors on the site now").wait_for()

    assert {"ok": True} == await marisol_peer.call("close_chat", {"chat_id": chat["id"]})
    await expect_tile(boss, "onsite_in_chat", "0")
    await invited.close()
    await expect_tile(boss, "onsite_total", "2")
    await expect_tile(boss, "onsite_invited", "0")
    await expect_tile(boss, "onsite_lead", "1")
