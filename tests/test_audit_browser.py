"""The audit log in the console (issue 22), in headless Chromium: a tenant admin changes an
agent's role on the Admin page, opens "Auditoría" and reads the change in words (who, what,
on whom) at the time of the tenant's zone, not the browser's; an agent has no such page.
The provider opens an incident in its view and reads the deadlines the API computes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from tests.support.browser import screenshot_path
from tests.support.harness import ADMIN_TOKEN, HubFactory
from tests.test_console_flow import sign_in

TIMEOUT_MS = 8000


async def test_an_admin_changes_a_role_and_reads_it_on_the_audit_page(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant()  # America/Puerto_Rico
    admin = await hub.agent(tenant, languages=["es"], role="admin", name="Jefa Rivera")
    agent = await hub.agent(tenant, languages=["es"], name="Pedro Soto")
    # a browser far from the tenant: the times shown must be the tenant's
    context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="es-PR", timezone_id="Asia/Tokyo"
    )
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/")
    await sign_in(page, admin, online=False)

    await page.click("[data-view=admin]")
    row = page.locator(f"[data-testid=agents] tr[data-agent-id='{agent['id']}']")
    await row.locator("select").select_option("supervisor")
    await expect(row.locator("select")).to_have_value("supervisor")

    await page.click("[data-view=audit]")
    events = page.locator("[data-testid=audit-events]")
    change = events.locator("tr[data-action='PATCH /api/agents/{agent_id}']")
    await expect(change).to_have_count(1)
    cells = change.locator("td")
    await expect(cells.nth(1)).to_have_text("Jefa Rivera")
    await expect(cells.nth(2)).to_have_text("Cambió el rol a: Supervisor")
    await expect(cells.nth(3)).to_have_text("Pedro Soto")
    # the admin's sign-in is there too, in words
    await expect(events.locator("tr[data-action='login.succeeded']").first).to_contain_text(
        "Entró a la consola"
    )

    status, body = await hub.request("GET", "/api/audit", token=admin["token"])
    assert status == 200, body
    (event,) = [e for e in body["events"] if e["action"] == "PATCH /api/agents/{agent_id}"]
    local = datetime.fromisoformat(event["at"].replace("Z", "+00:00")).astimezone(
        ZoneInfo(tenant["timezone"])
    )
    await expect(cells.nth(0)).to_contain_text(
        f"{local.hour % 12 or 12}:{local.minute:02d}:{local.second:02d}"
    )
    text = await page.locator("[data-testid=audit]").inner_text()
    # the provider added both agents: "on" this account, by its name
    await expect(
        events.locator("tr[data-action='POST /api/admin/tenants/{tenant_id}/agents']").first
    ).to_contain_text(tenant["name"])
    for raw in ("/api/", "undefined", "agent:", "login.succeeded", tenant["id"]):
        assert raw not in text

    await page.click(".lang-switch button:has-text('EN')")
    await expect(cells.nth(2)).to_have_text("Changed the role to: Supervisor")
    await page.screenshot(path=screenshot_path("console-audit"))
    await context.close()

    # an agent sees no Audit page, and the API refuses them
    page = await (await browser.new_context(locale="es-PR")).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/#/audit")
    await sign_in(page, {**agent, "email": agent["email"]}, online=False)
    await expect(page.locator("[data-view=audit]")).to_have_count(0)
    status, _ = await hub.request("GET", "/api/audit", token=agent["token"])
    assert status == 403
    await page.context.close()


async def test_the_provider_opens_an_incident_and_sees_its_deadlines(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant()
    zone = ZoneInfo("America/Puerto_Rico")
    # found 15 days ago: DACO's 10 days have passed, the FTC's 30 have not
    discovered = (
        (datetime.now(UTC) - timedelta(days=15)).astimezone(zone).replace(second=0, microsecond=0)
    )
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="es-PR", timezone_id=str(zone)
    )
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/#/provider")
    await page.fill("[data-testid=provider-login] input[name=token]", ADMIN_TOKEN)
    await page.click("[data-testid=provider-login] button[type=submit]")
    await page.click("[data-view=incidents]")
    await expect(page.locator("[data-testid=incidents]")).to_contain_text(
        "No hay incidentes registrados."
    )

    form = page.locator("[data-testid=incident-form]")
    await form.locator("input[name=title]").fill("Portátil robado")
    await form.locator("textarea[name=description]").fill("Un portátil de soporte")
    await form.locator("input[name=discovered_at]").fill(discovered.strftime("%Y-%m-%dT%H:%M"))
    await form.locator("select[name=tenant_id]").select_option(tenant["id"])
    await form.locator("input[name=visitors]").fill("600")
    await form.locator("button[type=submit]").click()

    incident = page.locator(".incident")
    await expect(incident).to_have_count(1)
    await expect(incident.locator("h3")).to_have_text("Portátil robado")
    await expect(incident).to_contain_text(f"{tenant['name']} (600)")
    rows = incident.locator("[data-testid=deadlines] tbody tr")
    await expect(rows).to_have_count(3)
    status, body = await hub.request("GET", "/api/admin/incidents", token=ADMIN_TOKEN)
    assert status == 200, body
    (wire,) = body["incidents"]
    assert datetime.fromisoformat(wire["discovered_at"].replace("Z", "+00:00")) == discovered
    due = {d["notice"]: d for d in wire["deadlines"]}
    assert due["daco"]["overdue"]
    assert not due["ftc"]["overdue"]
    for notice in ("daco", "ftc"):
        row = incident.locator(f"tr[data-notice={notice}]")
        await expect(row.locator("time")).to_have_attribute("datetime", due[notice]["due_at"])
    daco = incident.locator("tr[data-notice=daco]")
    await expect(daco).to_contain_text("DACO (Ley 111)")
    await expect(daco).to_contain_text("Vencido")
    await expect(incident.locator("tr[data-notice=ftc]")).to_contain_text("Pendiente")
    await expect(incident.locator("tr[data-notice=visitors]")).to_contain_text("Lo antes posible")

    await daco.locator("button").click()
    await expect(daco).to_contain_text("Enviado")
    await page.screenshot(path=screenshot_path("console-incidents"))
    status, body = await hub.request("GET", "/api/admin/incidents", token=ADMIN_TOKEN)
    assert [n["to"] for n in body["incidents"][0]["notices"]] == ["daco"]
    await context.close()
