"""The audit log for the provider's operators (issue 22), in headless Chromium: an operator
signs in on the provider's page with a password and a code the test computes as their phone
would, opens "Auditoría", reads their own sign-in in the provider's log, picks a tenant and
reads its admin's configuration change, in words and in the tenant's zone; filters by kind;
pages back; and reads it all in English too. A tenant admin's page filters and pages too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from console.web.keys import STORE
from tests.support.browser import screenshot_path
from tests.support.harness import ADMIN_TOKEN, HubFactory
from tests.test_accessibility_browser import violations
from tests.test_console_flow import sign_in
from tests.test_mfa import StepClock
from tests.test_operator_access import operator

TIMEOUT_MS = 8000
PAGE = 50  # events a page of the provider's audit view shows


async def sign_in_as_operator(page: Page, who: dict[str, Any], code: str) -> None:
    form = page.locator("[data-testid=operator-login]")
    await form.locator("input[name=email]").fill(who["email"])
    await form.locator("input[name=password]").fill(who["password"])
    await form.locator("button[type=submit]").click()
    await form.locator("[data-testid=mfa-prompt]").wait_for()
    await form.locator("input[name=otp]").fill(code)
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector(".topbar")


async def test_an_operator_reads_the_provider_s_and_a_tenant_s_audit_log(
    make_hub: HubFactory, browser: Any
) -> None:
    clock = StepClock()
    clock.at = datetime.now(UTC).replace(microsecond=0)  # the page asks for the last days
    hub = await make_hub(clock=clock)
    olga = await operator(hub, clock, "Olga")
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin", name="Jefa Rivera")
    status, changed = await hub.request(
        "PATCH", "/api/tenant", token=admin["token"], json={"holidays": "PR"}
    )
    assert 200 == status, changed

    for n in range(PAGE + 5):  # more than a page of the provider's own events
        await hub.app[STORE].audit.record(
            None, f"operator:{olga['id']}", "incident.opened", f"incident-{n}"
        )

    clock.at += timedelta(seconds=30)  # a fresh code: the enrolment spent the last one
    # a browser far from the tenant; axe comes in past the page's CSP, as a test's tool
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="es-PR",
        timezone_id="Asia/Tokyo",
        bypass_csp=True,
    )
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/#/provider")
    await page.locator("[data-testid=operator-login]").wait_for()
    found = await violations(page, "provider sign-in")
    await sign_in_as_operator(page, olga, olga["totp"].at(clock.at))
    await page.click("[data-view=audit]")

    view = page.locator("[data-testid=provider-audit]")
    events = view.locator("[data-testid=audit-events]")
    login = events.locator("tr[data-action='operator.login']").first
    await expect(login.locator("td").nth(1)).to_have_text("Olga")
    await expect(login.locator("td").nth(2)).to_have_text("Un operador entró")
    await expect(view.locator("[data-testid=audit-zone]")).to_contain_text("UTC")

    status, everything = await hub.request("GET", "/api/audit?limit=1000", token=ADMIN_TOKEN)
    assert 200 == status, everything
    rows = events.locator("tbody tr")
    await expect(rows).to_have_count(PAGE)
    await view.locator("[data-action=older]").click()
    await expect(rows).to_have_count(len(everything["events"]))
    await expect(view.locator("[data-action=older]")).to_have_count(0)
    await expect(rows.last).to_contain_text("Creó un operador")  # the oldest, page two
    created = events.locator("tr[data-action='POST /api/admin/tenants']").first
    await expect(created.locator("td").nth(1)).to_have_text("Token de administración")
    await expect(created.locator("td").nth(2)).to_have_text("Creó una cuenta de cliente")

    await view.locator("select[name=tenant_id]").select_option(tenant["id"])
    await expect(view.locator("[data-testid=audit-zone]")).to_contain_text("America/Puerto_Rico")
    change = events.locator("tr[data-action='PATCH /api/tenant']")
    await expect(change).to_have_count(1)
    cells = change.locator("td")
    await expect(cells.nth(1)).to_have_text("Jefa Rivera")
    await expect(cells.nth(2)).to_have_text("Cambió la configuración de la cuenta")
    status, body = await hub.request(
        "GET", f"/api/audit?tenant_id={tenant['id']}&action=PATCH /api/tenant", token=olga["token"]
    )
    assert 200 == status, body
    (event,) = body["events"]
    local = datetime.fromisoformat(event["at"].replace("Z", "+00:00")).astimezone(
        ZoneInfo(tenant["timezone"])
    )
    await expect(cells.nth(0)).to_contain_text(
        f"{local.hour % 12 or 12}:{local.minute:02d}:{local.second:02d}"
    )
    await expect(events.locator("tr[data-action='operator.login']")).to_have_count(0)
    text = await view.inner_text()
    for raw in ("/api/", "undefined", "agent:", "operator:", tenant["id"]):
        assert raw not in text

    await view.locator("select[name=kind]").select_option("logins")
    await expect(change).to_have_count(0)
    await expect(events.locator("tr[data-action='login.succeeded']").first).to_contain_text(
        "Jefa Rivera"
    )
    await page.screenshot(path=screenshot_path("console-provider-audit"))
    assert [] == found + await violations(page, "provider audit")
    await context.close()

    clock.at += timedelta(seconds=30)
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/#/provider")
    await sign_in_as_operator(page, olga, olga["totp"].at(clock.at))
    await page.click("[data-view=audit]")
    view = page.locator("[data-testid=provider-audit]")
    login = view.locator("tr[data-action='operator.login']").first
    await expect(login.locator("td").nth(2)).to_have_text("An operator signed in")
    await expect(view.locator("h2")).to_have_text("Audit log")
    await context.close()


async def test_a_tenant_admin_filters_their_audit_log_by_kind_and_pages_it(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin", name="Jefa Rivera")
    for n in range(PAGE + 5):  # more than a page of changes
        status, changed = await hub.request(
            "PATCH", "/api/tenant", token=admin["token"], json={"holidays": "PR" if n % 2 else None}
        )
        assert 200 == status, changed
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-PR")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/#/audit")
    await sign_in(page, admin, online=False)
    await page.click("[data-view=audit]")
    view = page.locator("[data-testid=audit]")
    rows = view.locator("[data-testid=audit-events] tbody tr")
    await expect(rows).to_have_count(PAGE)
    status, everything = await hub.request("GET", "/api/audit", token=admin["token"])
    assert 200 == status, everything
    await view.locator("[data-action=older]").click()
    await expect(rows).to_have_count(len(everything["events"]))
    await expect(view.locator("[data-action=older]")).to_have_count(0)

    await view.locator("select[name=kind]").select_option("logins")
    await expect(rows).to_have_count(2)  # the harness's sign-in, then the browser's
    for n in range(2):
        await expect(rows.nth(n).locator("td").nth(2)).to_have_text("Entró a la consola")
    # no such thing as operators' events in a tenant's log: the kind is not offered
    await expect(view.locator("select[name=kind] option[value=operators]")).to_have_count(0)
    await context.close()
