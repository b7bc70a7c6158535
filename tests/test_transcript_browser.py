"""The transcript by e-mail in the widget, in real headless Chromium: the chat ends, the
widget offers the transcript with the pre-chat address filled in, refuses an address that
is not one in the visitor's language, confirms, and the e-mail reaches a real SMTP server
(aiosmtpd)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from integrations.adf.config import Smtp
from tests.support.browser import screenshot_path
from tests.support.harness import HubFactory, eventually
from tests.support.smtp import Inbox, smtp_server
from tests.test_transcript_email import FAST

pytestmark = pytest.mark.browser

WIDGET = "charla-widget"
TIMEOUT_MS = 8000


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, Smtp]]:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        yield inbox, Smtp(host="127.0.0.1", port=port, starttls=False, sender="chat@charla.example")


async def test_the_visitor_asks_for_the_transcript_when_the_chat_ends_and_it_arrives(
    make_hub: HubFactory, browser: Any, smtp: tuple[Inbox, Smtp]
) -> None:
    inbox, relay = smtp
    hub = await make_hub(outbox=FAST, smtp=relay)
    tenant = await hub.tenant(name="Autos del Caribe", allowed_origins=[hub.url])
    agent = await hub.agent(tenant, languages=["es"], name="Ana Rivera")
    agent_peer = await hub.agent_peer(agent)

    page = await (await browser.new_context(locale="es-PR")).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/demo/inventory?site_key={tenant['site_key']}")
    await page.locator(f"{WIDGET} .launcher").click()
    form = page.locator(f"{WIDGET} form")
    await form.get_by_label("Nombre").fill("Luis Pérez")
    await form.get_by_label("Correo electrónico").fill("luis@example.com")
    await form.get_by_label("Mensaje").fill("Hola, busco una Tacoma")
    await form.get_by_role("button", name="Comenzar chat").click()
    assigned = await agent_peer.wait_for("chat_assigned")
    chat_id = assigned["chat"]["id"]
    ack = await agent_peer.call(
        "message", {"chat_id": chat_id, "text": "Tenemos dos en inventario", "client_msg_id": "a1"}
    )
    assert ack["ok"] is True
    await page.locator(f"{WIDGET} .log").get_by_text("Tenemos dos en inventario").wait_for()
    assert {"ok": True} == await agent_peer.call("close_chat", {"chat_id": chat_id})

    offer = page.locator(f"{WIDGET} form[data-transcript=offer]")
    field = offer.get_by_label("Reciba esta conversación por correo electrónico")
    await field.wait_for()
    assert "luis@example.com" == await field.input_value()  # from the pre-chat form
    await field.fill("luis@")
    await offer.get_by_role("button", name="Enviármela").click()
    await offer.get_by_text("Escriba un correo electrónico válido").wait_for()
    assert "true" == await field.get_attribute("aria-invalid")

    await field.fill("luis.perez@example.com")
    await offer.get_by_role("button", name="Enviármela").click()
    sent = page.locator(f"{WIDGET} [data-transcript=sent]")
    await sent.get_by_text(
        "Listo: le enviaremos esta conversación a luis.perez@example.com."
    ).wait_for()
    await page.screenshot(path=screenshot_path("widget_transcript_es"))

    [mail] = await eventually(lambda: inbox.messages, what="the transcript e-mail")
    assert ("luis.perez@example.com", "Su conversación con Autos del Caribe") == (
        mail["To"],
        mail["Subject"],
    )
    text = mail.get_content()
    assert "Luis Pérez: Hola, busco una Tacoma" in text
    assert "Ana Rivera: Tenemos dos en inventario" in text

    # A reload keeps the confirmation (without the address: the page keeps none stored)
    await page.reload()
    await (
        page.locator(f"{WIDGET} [data-transcript=sent]")
        .get_by_text("Le enviaremos esta conversación por correo electrónico.")
        .wait_for()
    )
    await page.context.close()
