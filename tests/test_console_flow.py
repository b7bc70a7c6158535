"""The agent console in headless Chromium, end to end against a live hub.

Two agents (Spanish, English) and a supervisor log in; a Spanish visitor (a protocol peer)
is routed to the Spanish agent only; she answers with a canned response, saves a lead,
transfers the chat to the English agent, who closes it with a disposition; the supervisor's
tiles follow along; a visitor's HTML arrives as text and runs nothing. Each main screen is
saved as a screenshot (tests/artifacts/console-*.png, copied into docs/img/).
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from console.store.models import ChatRow
from console.web.keys import STORE
from tests.support.browser import screenshot_path
from tests.support.harness import PASSWORD, LiveHub, Peer, start_chat

TIMEOUT_MS = 8000
XSS = "<img src=x onerror=alert(1)>"


async def open_console(
    browser: Any, hub: LiveHub, *, viewport: dict[str, int] | None = None
) -> Any:
    context = await browser.new_context(
        viewport=viewport or {"width": 1280, "height": 720}, locale="es-PR"
    )
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{hub.url}/console/")
    return page


async def sign_in(page: Any, agent: dict[str, Any], *, online: bool = True) -> None:
    await page.fill("input[name=email]", agent["email"])
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector(".topbar")
    if online:
        await page.select_option("select[name=status]", "online")
        # the select's class is the status the hub acknowledged, its value only the choice
        await expect(page.locator("select[name=status].online")).to_have_value("online")


async def console_with_a_chat(
    browser: Any, hub: LiveHub, tenant: dict[str, Any], agent: dict[str, Any], text: str
) -> tuple[Any, Peer, dict[str, Any]]:
    """The agent's console, signed in and online, once a visitor's new chat has its tab:
    (page, visitor's peer, chat)."""
    page = await open_console(browser, hub)
    await sign_in(page, agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, text)
    await page.locator(f".tab[data-chat-id='{chat['id']}']").wait_for()
    return page, visitor, chat


async def tile(page: Any, key: str) -> str:
    text: str = await page.locator(f"[data-tile={key}] .value").inner_text()
    return text


async def expect_tile(page: Any, key: str, value: str) -> None:
    await expect(page.locator(f"[data-tile={key}] .value")).to_have_text(value)


async def visitor_on_site(hub: LiveHub, tenant: dict[str, Any], url: str, title: str) -> Peer:
    visitor = await hub.visitor_peer(tenant)
    ack = await visitor.call(
        "page_view", {"url": url, "title": title, "referrer": "https://www.google.com/"}
    )
    assert {"ok": True} == ack
    return visitor


async def test_agents_serve_a_spanish_visitor_from_queue_to_disposition(
    hub: LiveHub, browser: Any
) -> None:
    tenant = await hub.tenant(plan="premium", languages=["es", "en"])
    admin = await hub.agent(tenant, languages=["es", "en"], role="admin", name="Admin Ortiz")
    marisol = await hub.agent(tenant, languages=["es"], name="Marisol Vega")
    john = await hub.agent(tenant, languages=["en"], name="John Smith", max_chats=1)
    sofia = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")
    status, _ = await hub.request(
        "POST",
        "/api/canned-responses",
        token=admin["token"],
        json={
            "shortcut": "/horario",
            "text": {
                "es": "Abrimos de lunes a sábado, de 9:00 a 6:00.",
                "en": "We are open Monday to Saturday, 9 to 6.",
            },
        },
    )
    assert 201 == status

    es_page = await open_console(browser, hub)
    await es_page.wait_for_selector("[data-testid=login]")
    await es_page.screenshot(path=screenshot_path("console-login"))
    dialogs: list[str] = []
    es_page.on("dialog", lambda d: dialogs.append(d.message))
    await sign_in(es_page, marisol)

    en_page = await open_console(browser, hub)
    en_page.on("dialog", lambda d: dialogs.append(d.message))
    await sign_in(en_page, john)

    boss = await open_console(browser, hub)
    await sign_in(boss, sofia, online=False)
    await boss.click("[data-view=supervisor]")
    await expect_tile(boss, "chats_today", "0")
    await expect_tile(boss, "agents_online", "2")

    # John takes one chat at a time: a first English visitor is his, the second waits. The
    # queue shows its language, the waiting time ticking and the page the visitor is on.
    first = await visitor_on_site(hub, tenant, "https://dealer.example/", "Autos del Este")
    busy = await start_chat(first, "Hello, do you have financing?", language="en")
    await en_page.locator(f".tab[data-chat-id='{busy['id']}']").wait_for()
    waiting = await visitor_on_site(
        hub, tenant, "https://dealer.example/inventory/f150", "Ford F-150 2021"
    )
    queued = await start_chat(waiting, "Hi, is the F-150 still available?", language="en")
    assert "queued" == queued["status"]
    entry = es_page.locator(f"[data-testid=queue] li[data-chat-id='{queued['id']}']")
    await entry.locator(".page", has_text="Ford F-150 2021").wait_for()
    first_wait = await entry.locator(".wait").inner_text()
    await expect(entry.locator(".wait")).not_to_have_text(first_wait)
    ack = await waiting.call(
        "page_view", {"url": "https://dealer.example/financing", "title": "Financiamiento"}
    )
    assert {"ok": True} == ack
    await entry.locator(".page", has_text="Financiamiento").wait_for()
    await expect_tile(boss, "queue_length", "1")

    # A Spanish visitor: routed to Marisol, never to John.
    visitor = await visitor_on_site(
        hub, tenant, "https://dealer.example/inventory/tacoma", "Toyota Tacoma 2022"
    )
    chat = await start_chat(
        visitor, "Hola, busco una Tacoma 2022", language="es", name="María Rivera"
    )
    tab = es_page.locator(f".tab[data-chat-id='{chat['id']}']")
    await tab.wait_for()
    await es_page.locator("[data-testid=visitor]", has_text="Toyota Tacoma 2022").wait_for()
    await es_page.locator("[data-testid=visitor]", has_text="https://www.google.com/").wait_for()
    assert 0 == await en_page.locator(f".tab[data-chat-id='{chat['id']}']").count()
    await expect_tile(boss, "chats_today", "3")
    await expect_tile(boss, "load", "2/4")

    # What a visitor types is text: HTML stays text and runs nothing; long words wrap.
    long_word = "x" * 300
    for n, text in enumerate([XSS, long_word, "مرحبا، أريد سيارة 🚗"]):
        ack = await visitor.call(
            "message", {"chat_id": chat["id"], "text": text, "client_msg_id": f"v{n}"}
        )
        assert ack["ok"] is True, ack
    transcript = es_page.locator("[data-testid=chat] .transcript")
    await transcript.locator(".msg.visitor .text", has_text="🚗").wait_for()
    texts = await transcript.locator(".msg.visitor .text").all_inner_texts()
    assert XSS in texts
    assert 0 == await es_page.locator(".transcript img").count()
    pane_width = await es_page.eval_on_selector(
        ".transcript", "el => el.scrollWidth <= el.clientWidth"
    )
    assert True is pane_width
    assert "auto" == await transcript.locator(".msg.visitor .text").last.get_attribute("dir")

    # A canned response by shortcut, in the chat's language; Enter sends it.
    composer = es_page.locator("[data-testid=chat] textarea")
    await composer.click()
    await composer.type("/hor")
    await es_page.locator("[data-testid=canned] li", has_text="/horario").wait_for()
    await composer.press("Enter")
    assert "Abrimos de lunes a sábado, de 9:00 a 6:00." == await composer.input_value()
    await composer.press("Enter")
    received = await visitor.wait_for("message", lambda d: d["message"]["author"] == "agent")
    assert "Abrimos de lunes a sábado, de 9:00 a 6:00." == received["message"]["text"]
    await es_page.screenshot(path=screenshot_path("console-chat"))
    await expect(boss.locator("[data-tile=first_response] .value")).not_to_have_text("—")

    # The lead form: a bad phone is refused in the form; a good one is stored in E.164.
    await es_page.click("[data-action=lead]")
    form = es_page.locator("[data-testid=lead-dialog]")
    assert "María" == await form.locator("input[name=first_name]").input_value()
    assert "Rivera" == await form.locator("input[name=last_name]").input_value()
    await form.locator("input[name=phone]").fill("12")
    await form.locator("button[type=submit]").click()
    await form.locator(".error", has_text="787-555-0123").wait_for()
    await form.locator("input[name=phone]").fill("787-555-0123")
    await form.locator("input[name=email]").fill("maria@example.com")
    await form.locator("select[name=interest]").select_option("buy")
    await form.locator("input[name=vehicle_year]").fill("2022")
    await form.locator("input[name=vehicle_make]").fill("Toyota")
    await form.locator("input[name=vehicle_model]").fill("Tacoma")
    await es_page.screenshot(path=screenshot_path("console-lead"))
    await form.locator("button[type=submit]").click()
    await form.locator(".ok").wait_for()
    status, leads = await hub.request("GET", "/api/leads", token=admin["token"])
    assert 200 == status, leads
    [lead] = leads["leads"]
    assert (chat["id"], "María", "Rivera", "+17875550123", "maria@example.com") == (
        lead["chat_id"],
        lead["first_name"],
        lead["last_name"],
        lead["phone"],
        lead["email"],
    )
    assert {"year": 2022, "make": "Toyota", "model": "Tacoma"} == {
        k: lead["vehicle"][k] for k in ("year", "make", "model")
    }

    # The admin gives John more room: the waiting chat is his at once; then Marisol
    # transfers hers to him.
    status, _ = await hub.request(
        "PATCH", f"/api/agents/{john['id']}", token=admin["token"], json={"max_chats": 3}
    )
    assert 200 == status
    await en_page.locator(f".tab[data-chat-id='{queued['id']}']").wait_for()
    await entry.wait_for(state="detached")
    await es_page.locator(".tab", has_text="María").click()
    await es_page.click("[data-action=transfer]")
    await es_page.click(f"[data-testid=transfer-dialog] button[data-agent-id='{john['id']}']")
    await tab.wait_for(state="detached")
    en_tab = en_page.locator(f".tab[data-chat-id='{chat['id']}']")
    await en_tab.wait_for()
    await en_tab.locator(".unread").wait_for()
    assert re.match(r"^\(\d+\) Charla$", await en_page.title())

    # John reads the history (canned answer included) and closes it as a sales lead.
    await en_tab.click()
    await en_page.locator(
        "[data-testid=chat] .msg.agent .text", has_text="Abrimos de lunes a sábado"
    ).wait_for()
    await en_page.click("[data-action=close]")
    dialog = en_page.locator("[data-testid=close-dialog]")
    assert True is await dialog.locator("input[value=sales_lead]").is_checked()
    await dialog.locator("button[type=submit]").click()
    await en_tab.wait_for(state="detached")
    async with hub.app[STORE].session() as s:
        row = await s.get(ChatRow, chat["id"])
        assert row is not None
        assert ("closed", "sales_lead") == (row.status, row.disposition)
    closed = await visitor.wait_for("chat_closed")
    assert chat["id"] == closed["chat_id"]

    await expect_tile(boss, "agents_online", "2")
    await expect_tile(boss, "queue_length", "0")
    await expect_tile(boss, "load", "2/6")
    await boss.locator(f"button[data-chat-id='{queued['id']}']").click()
    await boss.locator("[data-testid=reading] .msg.visitor", has_text="F-150").wait_for()
    await boss.screenshot(path=screenshot_path("console-supervisor"))

    admin_page = await open_console(browser, hub)
    await sign_in(admin_page, admin, online=False)
    await admin_page.click("[data-view=admin]")
    await admin_page.locator("[data-testid=agents] tr", has_text="Marisol Vega").wait_for()
    await admin_page.screenshot(path=screenshot_path("console-admin"))
    await admin_page.click("[data-page=canned_responses]")
    await admin_page.locator("[data-testid=canned-list] code", has_text="/horario").wait_for()

    # An invitation rule from its page.
    await admin_page.click("[data-page=invitation_rules]")
    await admin_page.fill("input[name=name]", "Inventario")
    await admin_page.fill("input[name=url_pattern]", "/inventory/*")
    await admin_page.fill("input[name=min_seconds]", "20")
    await admin_page.fill("input[name=es]", "¿Le ayudo con este vehículo?")
    await admin_page.fill("input[name=en]", "Can I help with this vehicle?")
    await admin_page.click(".admin-page button[type=submit]")
    await admin_page.locator(".admin-page td", has_text="Inventario").wait_for()
    _, rules = await hub.request("GET", "/api/invitation-rules", token=admin["token"])
    assert [("Inventario", {"url_pattern": "/inventory/*", "min_seconds_on_page": 20})] == [
        (r["name"], r["conditions"]) for r in rules["rules"]
    ]

    # Hours and holidays: a bad range gets the hub's message; a good one is stored.
    await admin_page.click("[data-page=hours]")
    hours = admin_page.locator("[data-testid=hours]")
    await hours.locator("label.check input[type=checkbox]").uncheck()
    await hours.locator("input[name=hours_mon]").fill("18:00-09:00")
    await hours.locator("input[name=holidays]").fill("PR")
    await hours.locator("button[type=submit]").click()
    await hours.locator(".error", has_text="hours.mon").wait_for()
    await hours.locator("input[name=hours_mon]").fill("09:00-12:00, 13:00-18:00")
    await hours.locator("button[type=submit]").click()
    await hours.locator(".ok").wait_for()
    status, stored = await hub.request("GET", "/api/tenant", token=admin["token"])
    assert ({"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "tue": []}, "PR") == (
        {k: stored["hours"][k] for k in ("mon", "tue")},
        stored["holidays"],
    )

    assert [] == dialogs


STORED_TEXT = "() => Object.values(localStorage).join('\\n')"


async def test_an_expired_session_returns_to_login_and_a_draft_lives_in_memory_only(
    hub: LiveHub, browser: Any
) -> None:
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"], name="Luis Mercado")
    page, visitor, chat = await console_with_a_chat(
        browser, hub, tenant, agent, "Hola, ¿tienen citas hoy?"
    )
    composer = page.locator("[data-testid=chat] textarea")
    await composer.fill("Sí, tenemos a las 3:00 y a las")

    # A draft survives switching chats, and is nowhere in the browser's storage.
    other = await start_chat(await hub.visitor_peer(tenant), "¿Y los sábados?")
    await page.locator(f".tab[data-chat-id='{other['id']}']").click()
    await page.locator(f"[data-testid=chat][data-chat-id='{other['id']}']").wait_for()
    await composer.fill("Los sábados de 9 a 1")
    await page.locator(f".tab[data-chat-id='{chat['id']}']").click()
    await page.locator(f"[data-testid=chat][data-chat-id='{chat['id']}']").wait_for()
    assert "Sí, tenemos a las 3:00 y a las" == await composer.input_value()
    stored = await page.evaluate(STORED_TEXT)
    assert ("3:00" not in stored, "sábados" not in stored) == (True, True), stored

    # A second device of the same agent sees the same chat.
    tablet = await open_console(browser, hub, viewport={"width": 1024, "height": 768})
    await sign_in(tablet, agent, online=False)
    await tablet.locator(f".tab[data-chat-id='{chat['id']}']").wait_for()
    await visitor.call("message", {"chat_id": chat["id"], "text": "Gracias", "client_msg_id": "g"})
    await tablet.locator(".msg.visitor .text", has_text="Gracias").wait_for()
    await tablet.screenshot(path=screenshot_path("console-tablet"))
    await page.locator(".msg.visitor .text", has_text="Gracias").wait_for()

    # The token goes bad (expired, or signed with a rotated key): back to the login.
    await page.evaluate(
        """() => {
            const s = JSON.parse(sessionStorage.getItem('charla.session'));
            s.token = s.token.slice(0, -4) + 'AAAA';
            sessionStorage.setItem('charla.session', JSON.stringify(s));
        }"""
    )
    await page.reload()
    await page.locator("[data-testid=expired]").wait_for()
    await sign_in(page, agent, online=False)
    await page.locator(f".tab[data-chat-id='{chat['id']}']").click()
    await page.locator(f"[data-testid=chat][data-chat-id='{chat['id']}']").wait_for()
    assert "" == await composer.input_value()  # a reload forgets drafts: they were in memory
    await composer.fill("Sí, tenemos a las 3:00 y a las")

    # Keyboard: Shift+Enter is a new line, Enter sends.
    await composer.press("End")
    await composer.type(" 4:00.")
    await composer.press("Shift+Enter")
    await composer.type("¿Cuál prefiere?")
    await composer.press("Enter")
    sent = await visitor.wait_for("message", lambda d: d["message"]["author"] == "agent")
    assert "Sí, tenemos a las 3:00 y a las 4:00.\n¿Cuál prefiere?" == sent["message"]["text"]
    assert "" == await composer.input_value()

    # A ticket for the follow-up, from the chat.
    await page.click("[data-action=ticket]")
    ticket_form = page.locator("[data-testid=ticket-dialog]")
    await ticket_form.locator("textarea[name=text]").fill("Confirmar la cita por teléfono")
    await ticket_form.locator("input[name=phone]").fill("787-555-0142")
    await ticket_form.locator("button[type=submit]").click()
    await ticket_form.locator(".ok").wait_for()
    _, tickets = await hub.request("GET", "/api/tickets", token=agent["token"])
    assert [("agent", chat["id"], "Confirmar la cita por teléfono", "+17875550142")] == [
        (t["reason"], t["chat_id"], t["text"], t["phone"]) for t in tickets["tickets"]
    ]

    # A basic tenant's supervisor view says why it is not there.
    boss = await hub.agent(tenant, languages=["es"], role="supervisor")
    sup = await open_console(browser, hub)
    await sign_in(sup, boss, online=False)
    await sup.click("[data-view=supervisor]")
    notice = await sup.locator("[data-testid=plan-required]").inner_text()
    assert "premium" in notice


async def test_alt_number_switches_between_chats(hub: LiveHub, browser: Any) -> None:
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"], max_chats=3)
    page = await open_console(browser, hub)
    await sign_in(page, agent)
    chats = []
    for text in ("Primera pregunta", "Segunda pregunta"):
        visitor = await hub.visitor_peer(tenant)
        chats.append(await start_chat(visitor, text))
        await page.locator(f".tab[data-chat-id='{chats[-1]['id']}']").wait_for()
    second = page.locator(f".tab[data-chat-id='{chats[1]['id']}']")
    assert "1" == await second.locator(".unread").inner_text()
    await page.keyboard.press("Alt+2")
    await page.locator(f"[data-testid=chat][data-chat-id='{chats[1]['id']}']").wait_for()
    assert 0 == await second.locator(".unread").count()
    await page.keyboard.press("Control+ArrowDown")
    await page.locator(f"[data-testid=chat][data-chat-id='{chats[0]['id']}']").wait_for()

    # Back to the Spanish queue: the tab goes, the queue shows the chat waiting.
    await page.click("[data-action=transfer]")
    await page.click("[data-testid=transfer-dialog] button[data-language=es]")
    await page.locator(f".tab[data-chat-id='{chats[0]['id']}']").wait_for(state="detached")
    await page.locator(f"[data-testid=queue] li[data-chat-id='{chats[0]['id']}']").wait_for()


async def test_a_session_refused_by_the_hub_returns_to_login_with_no_draft_stored(
    hub: LiveHub, browser: Any
) -> None:
    tenant = await hub.tenant(plan="basic", languages=["es"])
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    agent = await hub.agent(tenant, languages=["es"])
    page, _visitor, chat = await console_with_a_chat(browser, hub, tenant, agent, "Hola")
    await page.locator("[data-testid=chat] textarea").fill("Un momento, por favor")
    status, _ = await hub.request("DELETE", f"/api/agents/{agent['id']}", token=admin["token"])
    assert 200 == status
    await page.locator("[data-testid=expired]").wait_for()
    await page.click(".lang-switch button:has-text('EN')")
    await expect(page.locator("[data-testid=expired]")).to_have_text(
        "Your session expired. Sign in again in this tab; your drafts were kept."
    )
    await expect(page.locator("button[type=submit]")).to_have_text("Sign in")
    draft = await page.evaluate(
        "([a, c]) => localStorage.getItem(`charla.draft.${a}.${c}`)", [agent["id"], chat["id"]]
    )
    assert (None, False) == (draft, "Un momento" in await page.evaluate(STORED_TEXT))


async def test_a_reply_sent_while_offline_goes_out_once_after_the_reconnect(
    hub: LiveHub, browser: Any
) -> None:
    tenant = await hub.tenant(plan="basic", languages=["es"])
    agent = await hub.agent(tenant, languages=["es"])
    page, visitor, chat = await console_with_a_chat(browser, hub, tenant, agent, "Hola")
    await page.context.set_offline(True)
    await page.locator(".topbar .warn").wait_for()
    composer = page.locator("[data-testid=chat] textarea")
    await composer.fill("Perdón, se me fue la conexión")
    await composer.press("Enter")
    await page.locator(".msg.agent.failed").wait_for()
    await page.context.set_offline(False)
    got = await visitor.wait_for(
        "message", lambda d: d["message"]["author"] == "agent", timeout_s=15
    )
    assert "Perdón, se me fue la conexión" == got["message"]["text"]
    await page.locator(".msg.agent.failed").wait_for(state="detached")
    _, stored = await hub.request("GET", f"/api/chats/{chat['id']}", token=agent["token"])
    assert ["Perdón, se me fue la conexión"] == [
        m["text"] for m in stored["messages"] if m["author"] == "agent"
    ]


async def test_a_long_transcript_scrolls_and_no_message_is_squeezed(
    browser: Any, hub: LiveHub
) -> None:
    tenant = await hub.tenant()
    agent = await hub.agent(tenant, languages=["es"])
    page = await open_console(browser, hub)
    await sign_in(page, agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, me interesa comprar la Tacoma")
    for n in range(8):  # within the visitor's rate limit, more than the pane holds
        text = f"Mensaje {n}\ncon una segunda línea\ny una tercera"
        ack = await visitor.call(
            "message", {"chat_id": chat["id"], "text": text, "client_msg_id": f"m{n}"}
        )
        assert ack["ok"] is True, ack
    await page.locator(".msg.visitor .text", has_text="Mensaje 7").wait_for()

    squeezed = await page.eval_on_selector_all(
        ".transcript .msg",
        "els => els.filter(e => e.scrollHeight > e.clientHeight + 1).length",
    )
    scrolls = await page.eval_on_selector(".transcript", "e => e.scrollHeight > e.clientHeight")
    await page.context.close()
    assert (0, True) == (squeezed, scrolls)
