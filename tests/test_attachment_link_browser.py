"""The link a CRM shows for a file (issue 27, PROTOCOL 1.2 "Attachments"), in headless
Chromium against a live hub. A dealer's staff member clicks it in Salesforce with no console
open: the console asks them to sign in, keeps the link through the sign-in, then shows the
photo (fetched with their token, which never goes in a URL) and opens its chat in History.
In English the page says the same; a PDF's link, opened in the same tab, offers the file.
Another dealer's agent, and anyone once the visitor is erased, is told plainly the file is
not there; neither sees it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from console.web.keys import STORE
from tests.support.attachments import jpeg_with_gps, multipart, pdf_bytes, upload
from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory, active_chat
from tests.test_console_flow import open_console, sign_in
from tests.test_console_words import switch_to

pytestmark = pytest.mark.browser

DECODED = "img => img.decode().then(() => img.naturalWidth)"


async def test_a_crm_link_to_a_photo_opens_it_in_the_console_after_the_sign_in(
    make_hub: HubFactory, browser: Any
) -> None:
    hub = await make_hub()
    tenant, _agent, _peer, visitor, chat = await active_chat(hub)
    staff = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    token = visitor.seen("session")[0]["upload_token"]
    sent = await upload(
        hub, chat["id"], token, multipart(jpeg_with_gps(640, 480), "tacoma.jpg", "image/jpeg")
    )
    assert 201 == sent.status, sent.body
    attachment = sent.body["message"]["attachment"]
    # the line the CRM gets, as the outbox writes it
    [message] = [m for m in await hub.app[STORE].list_messages(chat["id"]) if m.attachment]
    line = message.plain_text(hub.url)
    [link] = re.findall(r": (http\S+)\]$", line)
    assert f"{hub.url}/console/#/attachments/{attachment['id']}?chat={chat['id']}" == link

    page = await open_console(browser, hub)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    await page.goto(link)
    await sign_in(page, staff, online=False)
    shown = page.get_by_test_id("file-page")
    await expect(shown.locator("h2")).to_have_text("Un archivo de un chat")
    photo = shown.get_by_role("img", name="tacoma.jpg")
    assert 640 == await photo.evaluate(DECODED)
    await expect(shown.locator("a[data-action=download]")).to_have_attribute(
        "download", "tacoma.jpg"
    )
    assert re.search(r"#/attachments/", page.url), page.url
    await page.screenshot(path=screenshot_path("console-attachment-link"))
    await switch_to(page, "en")
    await expect(shown.locator("h2")).to_have_text("A file from a chat")
    await shown.get_by_role("button", name="Open its chat in History").click()
    await expect(page.get_by_test_id("past-chat")).to_have_attribute("data-chat-id", chat["id"])
    await expect(page.get_by_test_id("past-chat")).to_contain_text("Hola, busco una Tacoma")
    # a PDF's link, opened in the same tab: offered for download, not shown
    pdf = await upload(hub, chat["id"], token, multipart(pdf_bytes(3000), "titulo.pdf", "x"))
    assert 201 == pdf.status, pdf.body
    messages = await hub.app[STORE].list_messages(chat["id"])
    [pdf_link] = re.findall(r": (http\S+)\]$", messages[-1].plain_text(hub.url))
    await page.goto(pdf_link)
    await expect(shown).to_have_attribute(
        "data-attachment", pdf.body["message"]["attachment"]["id"]
    )
    await expect(shown.locator("a[data-action=download]")).to_have_attribute(
        "download", "titulo.pdf"
    )
    assert 0 == await shown.locator("img").count()
    assert [] == [u for u in requests if "token" in u.lower()]

    # another dealer's agent, with the same link: not theirs, said plainly
    other_tenant = await hub.tenant(name="Otro Concesionario")
    stranger = await hub.agent(other_tenant, languages=["es"], name="Pedro Otro")
    other = await open_console(browser, hub)
    await other.goto(link)
    await sign_in(other, stranger, online=False)
    await expect(other.get_by_test_id("file-gone")).to_contain_text("no está disponible")
    assert 0 == await other.locator(".file-page img").count()

    # erased: the file is gone for its own dealer too
    visitor_id = visitor.seen("session")[0]["visitor_id"]
    status, erased = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"visitor_id": visitor_id}
    )
    assert 200 == status, erased
    await page.goto(link)
    await page.reload()
    await expect(page.get_by_test_id("file-gone")).to_contain_text("erased or purged")
