"""Two-factor authentication in the console, in headless Chromium: an admin whose role
requires it enrols (QR code, a code the test computes as a phone would), keeps the
recovery codes, and signs in again with a fresh code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
from playwright.async_api import expect

from tests.support.browser import screenshot_path
from tests.support.harness import ADMIN_TOKEN, PASSWORD, HubFactory
from tests.test_mfa import StepClock

TIMEOUT_MS = 8000


async def test_an_admin_enrols_in_the_console_and_signs_in_with_a_code(
    make_hub: HubFactory, browser: Any
) -> None:
    clock = StepClock()
    hub = await make_hub(clock=clock, mfa_roles=("admin", "supervisor"))
    tenant = await hub.tenant()
    email = "jefa@dealer.example"
    status, _ = await hub.request(
        "POST",
        f"/api/admin/tenants/{tenant['id']}/agents",
        token=ADMIN_TOKEN,
        json={
            "email": email,
            "name": "Jefa",
            "password": PASSWORD,
            "languages": ["es"],
            "role": "admin",
        },
    )
    assert 201 == status
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-PR")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/")

    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.locator("[data-testid=mfa-qr] svg").wait_for()
    secret = (await page.locator("[data-testid=mfa-secret]").inner_text()).strip()
    totp = pyotp.TOTP(secret)
    await page.fill("input[name=otp]", "123")
    await page.click("[data-testid=mfa-enrol] button[type=submit]")
    await expect(page.locator("[data-testid=mfa-enrol] .error")).to_contain_text("otp")
    await page.fill("input[name=otp]", totp.at(clock.at))
    await page.click("[data-testid=mfa-enrol] button[type=submit]")
    codes = page.locator("[data-testid=recovery-codes] li")
    await expect(codes).to_have_count(10)
    await page.screenshot(path=screenshot_path("console-mfa-recovery"))
    await page.click("[data-testid=recovery-codes] button")
    await page.wait_for_selector(".topbar")
    await page.click("[data-action=logout]")

    clock.at += timedelta(seconds=30)
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.locator("[data-testid=mfa-prompt]").wait_for()
    await page.fill("input[name=otp]", totp.at(clock.at - timedelta(seconds=30)))  # spent
    await page.click("button[type=submit]")
    await page.locator(".login .error").wait_for()
    await page.fill("input[name=otp]", totp.at(clock.at))
    await page.click("button[type=submit]")
    await page.wait_for_selector(".topbar")
    await expect(page.locator(".topbar .me")).to_have_text("Jefa")
    await context.close()
