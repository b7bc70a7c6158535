"""The virtual assistant's page of the console's admin area, in headless Chromium against a
live hub (issue 29): an admin names the bot "Lola" and gives it a picture; a visitor's bot
chat is then signed "Lola". An http:// picture is refused with the hub's words."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from bots.script import default_script
from tests.support.browser import screenshot_path
from tests.support.harness import LiveHub, start_chat
from tests.test_console_flow import open_console, sign_in

AVATAR = "https://cdn.dealer.example/lola.png"


async def test_an_admin_names_the_assistant_and_the_bot_signs_with_that_name(
    hub: LiveHub, browser: Any
) -> None:
    tenant = await hub.tenant(plan="premium", bot_enabled=True)
    admin = await hub.agent(tenant, languages=["es", "en"], role="admin")
    page = await open_console(browser, hub)
    await sign_in(page, admin, online=False)
    await page.click("[data-view=admin]")
    await page.click("[data-page=assistant]")
    form = page.locator("[data-testid=assistant]")
    preview = form.locator("[data-testid=assistant-preview]")

    # No name of its own: the dealer's, as the placeholder and in the preview
    name = form.locator("input[name=bot_name]")
    await expect(name).to_have_attribute("placeholder", tenant["name"])
    await expect(name).to_have_value("")
    await expect(preview.locator(".author")).to_contain_text(tenant["name"])
    await expect(preview.locator(".text")).to_contain_text(f"asistente virtual de {tenant['name']}")

    # An http:// picture: the hub's message says what to fix; nothing is stored
    await name.fill("Lola")
    await expect(preview.locator(".author")).to_contain_text("Lola")
    await form.locator("input[name=bot_avatar_url]").fill("http://cdn.dealer.example/lola.png")
    await form.locator("button[type=submit]").click()
    error = form.locator(".error")
    await expect(error).to_contain_text("bot_avatar_url: must be an https:// address")
    status, script = await hub.request("GET", "/api/bot-script", token=admin["token"])
    assert (200, None, None) == (
        status,
        script["settings"]["bot_name"],
        script["settings"]["bot_avatar_url"],
    )

    await form.locator("input[name=bot_avatar_url]").fill(AVATAR)
    await expect(preview.locator("img.avatar")).to_have_attribute("src", AVATAR)
    await form.locator("button[type=submit]").click()
    await form.locator(".ok").wait_for()
    await expect(error).to_have_count(0)
    await page.screenshot(path=screenshot_path("console-assistant"))

    # Only the two settings changed: the rest of the script is Charla's default still
    status, script = await hub.request("GET", "/api/bot-script", token=admin["token"])
    default = default_script().to_data()
    assert ("Lola", AVATAR) == (
        script["settings"].pop("bot_name"),
        script["settings"].pop("bot_avatar_url"),
    )
    assert {k: v for k, v in default["settings"].items() if not k.startswith("bot_")} == (
        script.pop("settings")
    )
    assert {k: v for k, v in default.items() if k != "settings"} == script

    # A visitor's chat: the bot answers at once, signed "Lola"
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, busco una Tacoma 2022", language="es")
    assert "bot" == chat["status"]
    await visitor.wait_for("message", lambda d: d["message"]["author"] == "bot")
    signed = {
        d["message"]["author_name"]
        for d in visitor.seen("message")
        if d["chat_id"] == chat["id"] and d["message"]["author"] == "bot"
    }
    assert {"Lola"} == signed

    # Emptied again, the name goes back to the dealer's
    await page.reload()
    await page.click("[data-view=admin]")
    await page.click("[data-page=assistant]")
    await expect(name).to_have_value("Lola")
    await name.fill("")
    await form.locator("button[type=submit]").click()
    await form.locator(".ok").wait_for()
    _, script = await hub.request("GET", "/api/bot-script", token=admin["token"])
    assert (None, AVATAR) == (script["settings"]["bot_name"], script["settings"]["bot_avatar_url"])
