"""The billing screens in headless Chromium: the provider (its admin token) finds the
month's invoice and its IVU lines show the API's amounts; the dealer's admin sees their own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.harness import ADMIN_TOKEN, PASSWORD, HubFactory
from tests.test_billing import PRICE_BOOK, PROFILE

pytestmark = pytest.mark.browser


class Fixed:
    def now(self) -> datetime:
        return datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


async def test_the_provider_and_the_dealer_see_the_invoice_the_api_gives(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub(clock=Fixed())
    tenant = await hub.tenant(plan="proactive", languages=["es"], name="Autos del Este")
    profile = {**PROFILE, "tax_status": "standard", "certificate": None}
    for method, path, body in (
        ("PUT", "/api/admin/price-book", PRICE_BOOK),
        ("PUT", f"/api/admin/tenants/{tenant['id']}/billing-profile", profile),
        ("POST", "/api/admin/invoices/run", {"period": "2026-11"}),
    ):
        status, answer = await hub.request(method, path, token=ADMIN_TOKEN, json=body)
        assert 200 == status, answer
    [issued] = answer["invoices"]
    status, invoice = await hub.request(
        "GET", f"/api/admin/invoices/{issued['id']}", token=ADMIN_TOKEN
    )
    taxes = {line["kind"]: line for line in invoice["lines"] if line["kind"].startswith("ivu")}
    assert ["157.50", "15.00"] == [taxes["ivu_state"]["amount"], taxes["ivu_municipal"]["amount"]]

    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-PR")
    page = await context.new_page()
    await page.goto(f"{hub.url}/console/#/provider")
    await page.fill("[data-testid=provider-login] input[name=token]", ADMIN_TOKEN)
    await page.click("[data-testid=provider-login] button[type=submit]")
    row = page.locator(f"tr[data-invoice='{invoice['number']}']")
    await row.wait_for()
    assert "$1,672.50" == await row.locator("[data-field=total]").inner_text()
    await row.locator("[data-action=open-invoice]").click()
    for kind, label in (("ivu_state", "IVU estatal 10.5%"), ("ivu_municipal", "IVU municipal 1%")):
        line = page.locator(f"[data-testid=invoice] tr[data-kind={kind}]")
        assert label == await line.locator("[data-field=description]").inner_text()
        shown = await line.locator("[data-field=amount]").get_attribute("data-amount")
        assert taxes[kind]["amount"] == shown
        assert f"${shown}" == await line.locator("[data-field=amount]").inner_text()

    # the dealer's admin: their own invoices, under Facturación
    dealer = await hub.agent(tenant, languages=["es"], role="admin")
    mine = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="es-PR")
    page = await mine.new_page()
    await page.goto(f"{hub.url}/console/")
    await page.fill("input[name=email]", dealer["email"])
    await page.fill("input[name=password]", PASSWORD)
    await page.click("[data-testid=login] button[type=submit]")
    await page.click("[data-view=billing]")
    row = page.locator(f"tr[data-invoice='{invoice['number']}']")
    assert "Emitida" == await row.locator("[data-field=status]").inner_text()
    await context.close()
    await mine.close()
