"""A supervisor sees, in the console, a queued chat about to miss the agreement's answer
target and then its miss, as the hub's breach watch finds them (headless Chromium, the
hub's clock moved by the test)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.supervision.breaches import BreachWatch
from console.web.keys import HUB
from tests.support.harness import ADMIN_TOKEN, HubFactory, start_chat
from tests.test_console_flow import open_console, sign_in
from tests.test_reports import AGREEMENT, WEEKDAYS, SteppedClock, say


async def test_a_supervisor_sees_a_chat_at_risk_then_its_miss(
    browser: Any, make_hub: HubFactory
) -> None:
    clock = SteppedClock(datetime(2026, 11, 17, 13, 59, tzinfo=UTC))
    hub = await make_hub(clock=clock)
    tenant = await hub.tenant(plan="proactive", languages=["es"], hours=WEEKDAYS, holidays="PR")
    status, _ = await hub.request(
        "PUT", f"/api/admin/tenants/{tenant['id']}/agreement", token=ADMIN_TOKEN, json=AGREEMENT
    )
    assert 200 == status
    boss = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")
    agent = await hub.agent(tenant, languages=["es"], max_chats=1)
    clock.set("2026-11-17 10:00:00")  # a Tuesday, open
    floor = await hub.agent_peer(agent)
    page = await open_console(browser, hub)
    await sign_in(page, boss, online=False)
    await page.click("[data-view=supervisor]")

    busy = await start_chat(await hub.visitor_peer(tenant), "Hola", language="es")
    await floor.wait_for("chat_assigned", lambda d: d["chat"]["id"] == busy["id"])
    await say(floor, busy["id"], "¡Hola!")
    waiting = await start_chat(await hub.visitor_peer(tenant), "¿Hay alguien?", language="es")
    watch = BreachWatch(hub.app[HUB].ctx)

    clock.advance(24)  # 80% of the 30 s target
    await watch.check()
    alert = page.locator(f"[data-testid=sla-alerts] li[data-chat-id='{waiting['id']}']")
    await alert.locator(".at_risk", has_text="A punto de pasar la meta").wait_for()

    clock.advance(7)  # past it
    await watch.check()
    await alert.locator(".breached", has_text="Meta incumplida").wait_for()
    assert 1 == await page.locator("[data-testid=sla-alerts] li").count()
    await page.context.close()
