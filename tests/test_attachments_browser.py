"""Attachments in headless Chromium against a live hub (issue 27, PROTOCOL 1.2): a visitor
pastes a phone photo whose EXIF carries GPS into the widget; its thumbnail shows in the
widget's transcript and in the agent's console, and the file the agent downloads from the
console has no GPS left. A file of a refused type dropped on the widget, and one over the
size limit sent with its paperclip, get the refusal in the visitor's language with what to
do; the agent sends a PDF with the paperclip and the visitor sees it as a chip with its
name and size. axe-core finds nothing serious on either side; neither side puts a token in
a URL; a thumbnail's object URL is revoked once its message leaves the screen."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.async_api import expect

from console.settings import Files
from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory
from tests.test_accessibility_browser import violations
from tests.test_console_flow import TIMEOUT_MS, open_console, sign_in
from tests.test_widget_browser import WIDGET, site_page

pytestmark = pytest.mark.browser

GPS_IFD = 0x8825
SIZE = (640, 480)
LIMIT = 256 * 1024  # the hub's size limit for this test (CHARLA_ATTACHMENT_MAX_BYTES)
# A File put on the page from base64, then pasted into (or dropped on) a widget element:
# what a browser hands a page when someone pastes a screenshot or drops a file.
HAND_OVER = """([kind, selector, name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type }));
  const target = document.querySelector('charla-widget').shadowRoot.querySelector(selector);
  const init = { bubbles: true, composed: true, cancelable: true };
  const event = kind === 'paste'
    ? new ClipboardEvent('paste', { ...init, clipboardData: data })
    : new DragEvent(kind, { ...init, dataTransfer: data });
  target.dispatchEvent(event);
}"""
# an image shown from an object URL, decoded: its width in pixels (a broken one throws)
DECODED = "img => img.decode().then(() => img.naturalWidth)"


def photo_with_gps() -> bytes:
    """A JPEG as a phone takes it: camera make and the place it was taken, in EXIF."""
    image = Image.new("RGB", SIZE, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "Charla Test Phone"  # Make
    exif[GPS_IFD] = {1: "N", 2: (18.0, 27.0, 56.0), 3: "W", 4: (66.0, 6.0, 20.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def small_pdf() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (255, 255, 255)).save(out, "PDF")
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, Any]:
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD))


def intercept_file_choosers(page: Any) -> None:
    """Playwright turns on Chromium's file chooser interception when a page first gets a
    `filechooser` listener, without waiting for it; `expect_file_chooser` just before the
    click then races the click (a chooser opened before it is on is never reported). One
    listener from the page's start keeps it on for the whole test."""
    page.on("filechooser", lambda _chooser: None)


async def hand_over(page: Any, kind: str, selector: str, *, file: tuple[str, str, bytes]) -> None:
    name, type_, data = file
    b64 = base64.b64encode(data).decode()
    await page.evaluate(HAND_OVER, [kind, selector, name, type_, b64])


async def test_a_pasted_photo_reaches_the_agent_with_a_thumbnail_and_without_its_gps(
    make_hub: HubFactory, browser: Any
) -> None:
    photo = photo_with_gps()
    assert "N" == gps_of(photo)[1]  # the test's photo does carry the place it was taken

    hub = await make_hub(files=Files(max_bytes=LIMIT))
    tenant = await hub.tenant(plan="basic", languages=["es", "en"], allowed_origins=[hub.url])
    agent = await hub.agent(tenant, languages=["es"], name="Marisol Vega")
    console = await open_console(browser, hub)
    intercept_file_choosers(console)
    await sign_in(console, agent)

    site = await site_page(browser, hub, tenant, "/demo/inventory", "es-PR")
    intercept_file_choosers(site)
    requests: list[Any] = []

    def seen(request: Any) -> None:
        requests.append(request)

    site.on("request", seen)
    console.on("request", seen)
    await site.locator(f"{WIDGET} .launcher").click()
    form = site.locator(f"{WIDGET} form")
    await form.get_by_label("Nombre").fill("Pedro Díaz")
    await form.get_by_label("Mensaje").fill("Le mando una foto del golpe")
    await form.locator("button[type=submit]").click()
    await console.locator(".tab", has_text="Pedro Díaz").click()
    chat_pane = console.locator("[data-testid=chat]")
    await chat_pane.get_by_text("Le mando una foto del golpe").wait_for()

    # The visitor pastes the photo in the composer: its thumbnail shows in their transcript
    clip = site.locator(f"{WIDGET} .compose [data-action=attach]")
    await expect(clip).to_have_attribute("aria-label", "Adjuntar una foto o un PDF")
    await hand_over(site, "paste", ".compose textarea", file=("golpe.jpg", "image/jpeg", photo))
    widget_thumb = site.locator(f"{WIDGET} .log .msg.visitor img.thumb")
    await expect(widget_thumb).to_have_attribute("alt", "golpe.jpg")
    await expect(widget_thumb).to_have_attribute("src", re.compile("^blob:"))
    assert 0 < await widget_thumb.evaluate(DECODED)

    # ... and in the agent's console, with its name and size
    attachment = chat_pane.locator(".msg.visitor .attachment")
    await expect(attachment.locator("img")).to_have_attribute("alt", "golpe.jpg")
    await expect(attachment.locator("img")).to_have_attribute("src", re.compile("^blob:"))
    assert 0 < await attachment.locator("img").evaluate(DECODED)
    await expect(attachment.locator(".file .name")).to_have_text("golpe.jpg")
    await expect(attachment.locator(".file .muted")).to_have_text(
        re.compile(r"^\d+(\.\d)? (KB|MB)$")
    )

    # The file the agent downloads is the photo, whole, without the place it was taken
    async with console.expect_download() as download:
        await attachment.locator("[data-action=download]").click()
    saved = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
    with Image.open(io.BytesIO(saved)) as stored:
        assert ("JPEG", SIZE) == (stored.format, stored.size)
    assert {} == gps_of(saved)

    # A file of a type the hub refuses, dropped on the widget: told so, in Spanish
    await hand_over(site, "drop", ".log", file=("notas.txt", "text/plain", b"solo texto\n" * 20))
    await expect(site.locator(f"{WIDGET} .attach-error")).to_have_text(
        "Este tipo de archivo no se puede enviar. Envíe una foto (JPEG, PNG, WebP o HEIC) o un PDF."
    )

    # One over the hub's limit, with the widget's paperclip from the keyboard (Tab from the
    # message box, Enter): told so, and what to do
    await site.locator(f"{WIDGET} .compose textarea").focus()
    await site.keyboard.press("Tab")
    await expect(clip).to_be_focused()
    async with site.expect_file_chooser() as chooser:
        await site.keyboard.press("Enter")
    await (await chooser.value).set_files(
        {"name": "video.jpg", "mimeType": "image/jpeg", "buffer": photo + bytes(LIMIT)}
    )
    await expect(site.locator(f"{WIDGET} .attach-error")).to_have_text(
        "Este archivo es demasiado grande para enviarlo. Envíe uno más pequeño: una captura"
        " de pantalla, una foto más pequeña o el PDF por partes."
    )

    # The agent sends a PDF with the paperclip: the visitor sees its name and size
    async with console.expect_file_chooser() as chooser:
        await chat_pane.locator("[data-action=attach]").click()
    await (await chooser.value).set_files(
        {"name": "cotizacion.pdf", "mimeType": "application/pdf", "buffer": small_pdf()}
    )
    chip = site.locator(f"{WIDGET} .log .msg.agent .chip")
    await expect(chip.locator(".name")).to_have_text("cotizacion.pdf")
    await expect(chip.locator(".size")).to_have_text(re.compile(r"^\d+ KB$"))
    await expect(chat_pane.locator(".msg.agent .attachment .file .name")).to_have_text(
        "cotizacion.pdf"
    )
    await site.screenshot(path=screenshot_path("widget-attachments"))
    await console.screenshot(path=screenshot_path("console-attachments"))

    # axe-core finds nothing serious on either side with files in the transcript (a second
    # console of the same agent, past the page's CSP for axe's script only)
    found = await violations(site, "widget, a chat with files")
    reader = await (await browser.new_context(locale="es-PR", bypass_csp=True)).new_page()
    reader.set_default_timeout(TIMEOUT_MS)
    await reader.goto(f"{hub.url}/console/")
    await sign_in(reader, agent, online=False)
    await reader.locator(".tab", has_text="Pedro Díaz").click()
    await expect(reader.locator(".attachment img")).to_have_attribute("src", re.compile("^blob:"))
    found += await violations(reader, "console, a chat with files")
    assert [] == found
    await reader.context.close()

    # No token in any URL: files went with an Authorization header
    files = [r for r in requests if "/api/attachments/" in r.url or r.url.endswith("/attachments")]
    assert files, "no attachment request seen"
    for request in files:
        assert "?" not in request.url, request.url
        assert (await request.all_headers())["authorization"].startswith("Bearer ")

    # Once the chat is over and a new one begins, the thumbnail's object URL is let go
    thumb_url = await widget_thumb.get_attribute("src")
    await site.locator(f"{WIDGET} [data-action=end]").click()
    await site.locator(f"{WIDGET}").get_by_role("button", name="Nuevo chat").click()
    await widget_thumb.wait_for(state="detached")
    revoked = await site.evaluate("url => fetch(url).then(() => false, () => true)", thumb_url)
    assert revoked is True
    await site.context.close()
    await console.context.close()
