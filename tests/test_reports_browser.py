"""The console's Reports screen in headless Chromium: the demo tenant's November (an
agreement and a month of chats, rules and ratings) shows the API's figures on the SLA card
and in the charts, in Spanish and in English, and each CSV downloaded from the screen is
byte for byte the API's."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from console.demo import DEMO_AGENTS, DEMO_PASSWORD, ensure_demo
from console.web.keys import PASSWORDS, STORE
from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory, LiveHub
from tests.test_console_flow import open_console
from tests.test_reports import SteppedClock

MONTH = "from=2026-11-01&to=2026-11-30"


async def api_csv(hub: LiveHub, token: str, path: str) -> bytes:
    async with hub.http.get(
        f"{hub.url}{path}&format=csv", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert 200 == response.status
        return await response.read()


async def downloaded(page: Any, table: str) -> bytes:
    async with page.expect_download() as info:
        await page.click(f"[data-testid=reports] button[data-download='{table}']")
    download = await info.value
    return await asyncio.to_thread(Path(await download.path()).read_bytes)


async def test_the_reports_screen_shows_the_month_and_its_csv_is_the_apis(
    make_hub: HubFactory, browser: Any
) -> None:
    clock = SteppedClock(datetime(2026, 12, 6, 15, 0, tzinfo=UTC))
    hub = await make_hub(clock=clock)
    await ensure_demo(hub.app[STORE], hub.app[PASSWORDS], (hub.url,))
    supervisor = DEMO_AGENTS[2]
    status, login = await hub.request(
        "POST", "/api/login", json={"email": supervisor.email, "password": DEMO_PASSWORD}
    )
    assert 200 == status, login
    token = login["token"]
    _, sla = await hub.request("GET", "/api/reports/sla?month=2026-11", token=token)
    _, rules = await hub.request("GET", f"/api/reports/invitation-rules?{MONTH}", token=token)
    _, csat = await hub.request("GET", f"/api/reports/csat?{MONTH}&group_by=agent", token=token)
    _, chats = await hub.request("GET", f"/api/reports/chats?{MONTH}", token=token)

    page = await open_console(browser, hub)
    try:
        await page.fill("input[name=email]", supervisor.email)
        await page.fill("input[name=password]", DEMO_PASSWORD)
        await page.click("button[type=submit]")
        await page.click(".topbar [data-view=reports]")
        # the screen opens on this month in the tenant's zone; then November is picked
        await page.locator("[data-testid=reports] .report-body").wait_for()
        await page.fill("[data-testid=reports] input[name=month]", "2026-11")
        await page.locator("[data-testid=reports] .report-body[data-month='2026-11']").wait_for()

        card = page.locator("[data-testid=sla-card]")
        attainment = card.locator("[data-figure=attainment]")
        await expect(attainment.locator(".value")).to_have_text(f"{sla['attainment_pct']}%")
        await expect(attainment.locator("[data-field=target]")).to_have_text("Meta 90.00%")
        await expect(card.locator("[data-figure=credit] .value")).to_have_text(
            f"{sla['credit_pct']}%"
        )
        await expect(card.locator("[data-figure=incentive] .value")).to_have_text(
            f"{sla['incentive_pct']}%"
        )
        await expect(card.locator("[data-figure=csat] .value")).to_have_text(
            f"{sla['csat']['avg']} ({sla['csat']['count']})"
        )
        status_text = {"open": "mes abierto (en vivo)", "closed": "mes cerrado"}[sla["status"]]
        await expect(card.locator("[data-field=sla-status]")).to_have_text(status_text)

        # the charts draw the API's numbers
        funnel = page.locator("[data-chart=funnel]")
        for step in ("shown", "accepted", "chats", "leads", "delivered"):
            total = sum(rule[step] for rule in rules["rules"])
            await expect(funnel.locator(f"[data-key={step}]")).to_have_attribute(
                "data-value", str(total)
            )
        for score in "12345":
            total = sum(row["distribution"][score] for row in csat["csat"])
            await expect(page.locator(f"[data-chart=csat] [data-key='{score}']")).to_have_attribute(
                "data-value", str(total)
            )
        days = {c["queued_at"][:10] for c in chats["chats"] if c["first_response_s"] is not None}
        await expect(page.locator("[data-chart=first-response] rect")).to_have_count(len(days))
        await expect(page.locator("[data-chart=by-hour] rect")).to_have_count(24)

        # each table downloaded from the screen is the API's CSV
        for table, path in (
            ("chats", f"/api/reports/chats?{MONTH}"),
            ("csat", f"/api/reports/csat?{MONTH}&group_by=agent"),
            ("invitation-rules", f"/api/reports/invitation-rules?{MONTH}"),
            ("staffing", f"/api/reports/staffing?{MONTH}"),
        ):
            assert await api_csv(hub, token, path) == await downloaded(page, table), table

        await page.click(".topbar .lang-switch button:has-text('EN')")
        await expect(page.locator("[data-testid=reports] h2")).to_have_text("Reports")
        await expect(attainment.locator("[data-field=target]")).to_have_text("Target 90.00%")
    finally:
        await page.screenshot(path=screenshot_path("reports"))
        await page.context.close()
