"""Transcript by e-mail (PROTOCOL 1.2), on the real components: a live hub, Socket.IO
visitors and agents, the outbox worker, and a real SMTP server (aiosmtpd) as the
provider's relay. Sent once, in the chat's language, never with a whisper, never with
another visitor's words; bad addresses, a second request and another visitor's chat are
refused with the protocol's errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time
from sqlalchemy import select, update

from console.domain.leads import Delivery
from console.settings import Outbox
from console.store.models import ChatRow, DeliveryRow
from console.store.privacy import Policy
from console.store.repository import Store
from console.store.transcripts import transcript_delivery_id
from console.web.keys import STORE
from integrations.adf.config import Smtp
from tests.support.attachments import multipart, pdf_bytes, upload
from tests.support.harness import HubFactory, LiveHub, Peer, eventually, start_chat
from tests.support.smtp import Inbox, smtp_server
from tests.support.store import new_chat, new_tenant

FAST = Outbox(
    backoff_s=0.05,
    backoff_cap_s=0.2,
    poll_s=0.2,
    max_attempts=3,
    lease_s=30,
    throttle_pause_s=0,
    allow_private=True,
)
WHISPER = "Ofrécele la prueba de manejo del sábado"
SAN_JUAN = ZoneInfo("America/Puerto_Rico")


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, Smtp]]:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        yield inbox, Smtp(host="127.0.0.1", port=port, starttls=False, sender="chat@charla.example")


async def say(peer: Peer, chat_id: str, text: str, n: str, **extra: Any) -> None:
    ack = await peer.call(
        "message", {"chat_id": chat_id, "text": text, "client_msg_id": n, **extra}
    )
    assert ack["ok"] is True, ack


async def ask(peer: Peer, chat_id: str, email: str) -> Any:
    return await peer.call("email_transcript", {"chat_id": chat_id, "email": email})


async def transcript_delivery(store: Store, tenant_id: str) -> Delivery:
    [delivery] = [d for d in await store.outbox.search(tenant_id) if d.destination == "email"]
    return delivery


async def delivered(store: Store, tenant_id: str) -> bool:
    return (await transcript_delivery(store, tenant_id)).status == "delivered"


def stamp(at: datetime, locale: str) -> str:
    return format_time(at.astimezone(SAN_JUAN), "short", locale=locale).replace("\u202f", " ")


async def test_asked_during_the_chat_it_is_sent_once_at_the_close_in_spanish_without_whispers(
    make_hub: HubFactory, smtp: tuple[Inbox, Smtp], database_url: str
) -> None:
    """On SQLite and PostgreSQL: the request is an outbox row, one per chat."""
    inbox, relay = smtp
    hub = await make_hub(outbox=FAST, smtp=relay, database_url=database_url)
    store = hub.app[STORE]
    tenant = await hub.tenant(name="Autos del Caribe")
    agent = await hub.agent(tenant, languages=["es"], name="Ana Rivera")
    boss = await hub.agent(tenant, languages=["es"], role="supervisor", name="Sofía Cruz")
    agent_peer = await hub.agent_peer(agent)
    boss_peer = await hub.agent_peer(boss, online=False)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, busco una Tacoma", language="es", name="Luis Pérez")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    await say(agent_peer, chat["id"], "Tenemos dos en inventario", "a1")
    joined = await boss_peer.call("join", {"chat_id": chat["id"], "mode": "whisper"})
    assert joined["ok"] is True, joined
    await say(boss_peer, chat["id"], WHISPER, "w1", whisper=True)
    # another visitor of the same dealer, at the same time
    other = await hub.visitor_peer(tenant)
    await start_chat(other, "Soy otro visitante con otra pregunta", language="es")

    ack = await visitor.call(
        "email_transcript", {"chat_id": chat["id"], "email": "luis@example.com"}
    )
    assert {"ok": True} == ack
    # held while the chat runs: recorded, not yet tried
    held = await transcript_delivery(store, tenant["id"])
    assert ("pending", 0, "transcript.email") == (held.status, held.attempts, held.event)
    again = await visitor.call(
        "email_transcript", {"chat_id": chat["id"], "email": "x@example.com"}
    )
    assert "conflict" == again["error"]["code"], again

    closed = await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    assert closed["ok"] is True, closed
    await eventually(lambda: delivered(store, tenant["id"]), what="the transcript delivered")
    [mail] = inbox.messages
    assert ("luis@example.com", "Su conversación con Autos del Caribe", "es") == (
        mail["To"],
        mail["Subject"],
        mail["Content-Language"],
    )
    text = mail.get_content()
    first, reply = await store.list_messages(chat["id"])
    assert f"[{stamp(first.created_at, 'es_PR')}] Luis Pérez: Hola, busco una Tacoma" in text
    assert f"[{stamp(reply.created_at, 'es_PR')}] Ana Rivera: Tenemos dos en inventario" in text
    assert text.startswith("Conversación con Autos del Caribe, ")
    assert "Recibe este correo porque lo pidió" in text
    assert WHISPER not in text
    assert "Sofía" not in text
    assert "otro visitante" not in text
    # the address stays encrypted at rest
    assert "luis@example.com" not in await raw_payloads(store)
    status = await visitor.call(
        "email_transcript", {"chat_id": chat["id"], "email": "luis@example.com"}
    )
    assert "conflict" == status["error"]["code"]
    assert 1 == len(inbox.messages)


async def raw_payloads(store: Store) -> str:
    async with store.session() as s:
        return " ".join(str(p) for p in await s.scalars(select(DeliveryRow.payload_enc)))


async def test_asked_after_the_close_it_leaves_at_once_in_english_on_a_basic_plan(
    make_hub: HubFactory, smtp: tuple[Inbox, Smtp]
) -> None:
    inbox, relay = smtp
    hub = await make_hub(outbox=FAST, smtp=relay)
    tenant = await hub.tenant(name="Island Motors", plan="basic", languages=["en", "es"])
    agent = await hub.agent(tenant, languages=["en"], name="Mark Díaz")
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Do you have a 2022 Tacoma?", language="en")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    await say(agent_peer, chat["id"], "We do, two of them", "a1")
    token = visitor.seen("session")[0]["upload_token"]
    body = multipart(pdf_bytes(3000), "trade-in title.pdf", "application/pdf")
    assert 201 == (await upload(hub, chat["id"], token, body)).status
    assert {"ok": True} == await visitor.call("end_chat", {"chat_id": chat["id"]})

    ack = await visitor.call(
        "email_transcript", {"chat_id": chat["id"], "email": "pat@example.org"}
    )
    assert {"ok": True} == ack
    [mail] = await eventually(lambda: inbox.messages, what="the transcript e-mail")
    assert ("pat@example.org", "Your chat with Island Motors", "en") == (
        mail["To"],
        mail["Subject"],
        mail["Content-Language"],
    )
    text = mail.get_content().replace("\r\n", "\n")
    assert "You: Do you have a 2022 Tacoma?" in text
    assert "Mark Díaz: We do, two of them" in text
    # the file is named, in the line and in the list at the end, never attached
    assert "You: [attachment: trade-in title.pdf]" in text
    assert text.endswith(
        "Attachments:\n- trade-in title.pdf\n\nYou get this e-mail because you asked for it"
        " at the end of your chat with Island Motors.\n"
    )
    assert not mail.is_multipart()
    assert "You get this e-mail because you asked for it" in text


async def test_a_visitor_erased_before_the_close_gets_no_transcript_and_the_row_is_cancelled(
    make_hub: HubFactory, smtp: tuple[Inbox, Smtp]
) -> None:
    """The request was held while the chat ran; erasure must not let it leave, blanked."""
    inbox, relay = smtp
    hub = await make_hub(outbox=FAST, smtp=relay)
    store = hub.app[STORE]
    tenant = await hub.tenant(name="Autos del Caribe")
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    agent = await hub.agent(tenant, languages=["es"], name="Ana Rivera")
    agent_peer = await hub.agent_peer(agent)
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola, busco una Tacoma", language="es", name="Luis Pérez")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == chat["id"])
    assert {"ok": True} == await ask(visitor, chat["id"], "luis@example.com")
    visitor_id = visitor.seen("session")[0]["visitor_id"]

    status, erased = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"visitor_id": visitor_id}
    )
    assert 200 == status, erased
    closed = await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    assert closed["ok"] is True, closed
    # another visitor's transcript, asked after: once it has left, the worker has had its turn
    other = await hub.visitor_peer(tenant)
    second = await start_chat(other, "Otra pregunta", language="es")
    await agent_peer.wait_for("chat_assigned", lambda d: d["chat"]["id"] == second["id"])
    assert {"ok": True} == await other.call("end_chat", {"chat_id": second["id"]})
    assert {"ok": True} == await ask(other, second["id"], "otra@example.com")
    [mail] = await eventually(lambda: inbox.messages, what="the other visitor's transcript")

    assert "otra@example.com" == mail["To"]
    rows = {d.id: d for d in await store.outbox.search(tenant["id"]) if d.destination == "email"}
    cancelled = rows[transcript_delivery_id(chat["id"])]
    assert ("failed", 0) == (cancelled.status, cancelled.attempts)
    assert "erased" in (cancelled.last_error or "")
    assert "luis@example.com" not in await raw_payloads(store)
    assert 1 == len(inbox.messages)


async def test_the_retention_purge_cancels_a_transcript_not_yet_sent(store: Store) -> None:
    """A request still pending when its chat is purged (the relay kept refusing it, say)."""
    tenant = await new_tenant(store)
    chat = await new_chat(store, tenant)
    kept = await new_chat(store, tenant)
    for each in (chat, kept):
        assert await store.transcripts.request(tenant.id, each.id, "luis@example.com", ended=False)
    await store.close_chat(chat.id, "agent_closed")
    long_ago = store.clock.now() - timedelta(days=400)
    await store.write(update(ChatRow).where(ChatRow.id == chat.id).values(closed_at=long_ago))

    run = await store.retention.purge(tenant.id, Policy(transcripts_days=365))

    assert 1 == run.counts["chats"]
    rows = {d.id: d for d in await store.outbox.search(tenant.id)}
    purged, open_chat = rows[transcript_delivery_id(chat.id)], rows[transcript_delivery_id(kept.id)]
    assert ("failed", "pending") == (purged.status, open_chat.status)
    # past the hold, only the open chat's request is ever handed to a worker
    later = store.clock.now() + timedelta(days=30)
    claimed = await store.outbox.claim("w", limit=5, lease_s=60, now=later)
    assert [open_chat.id] == [c.id for c in claimed]


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("luis@example.com\r\nBcc: all@example.com", "without line breaks"),
        ("luis@example.com\n", "without line breaks"),
        ("luis\r@example.com", "without line breaks"),
        ("not-an-address", "email: "),
        ("luis@", "email: "),
        ("   ", "email: "),
    ],
)
async def test_an_address_that_is_not_one_is_refused_saying_what_to_fix(
    hub: LiveHub, email: str, says: str
) -> None:
    tenant = await hub.tenant()
    visitor = await hub.visitor_peer(tenant)
    chat = await start_chat(visitor, "Hola", language="es")
    ack = await ask(visitor, chat["id"], email)
    assert ("invalid_payload", True) == (ack["error"]["code"], says in ack["error"]["message"])
    # nothing was recorded: a good address afterwards is accepted
    good = await ask(visitor, chat["id"], "a@example.com")
    assert {"ok": True} == good


async def test_another_visitors_chat_and_malformed_requests_are_refused(hub: LiveHub) -> None:
    tenant = await hub.tenant()
    mine = await hub.visitor_peer(tenant)
    theirs = await hub.visitor_peer(tenant)
    their_chat = await start_chat(theirs, "Hola", language="es")
    elsewhere = await hub.visitor_peer(await hub.tenant())
    for peer, data, code in (
        (mine, {"chat_id": their_chat["id"], "email": "a@example.com"}, "not_found"),
        (elsewhere, {"chat_id": their_chat["id"], "email": "a@example.com"}, "not_found"),
        (mine, {"chat_id": "no-such-chat", "email": "a@example.com"}, "not_found"),
        (mine, {"chat_id": their_chat["id"]}, "invalid_payload"),
        (mine, {"email": "a@example.com"}, "invalid_payload"),
        (mine, {"chat_id": their_chat["id"], "email": 7}, "invalid_payload"),
        (mine, "a@example.com", "invalid_payload"),
    ):
        ack = await peer.call("email_transcript", data)
        assert code == ack["error"]["code"], (data, ack)
    # the owner can still ask: the refusals recorded nothing
    ok = await theirs.call(
        "email_transcript", {"chat_id": their_chat["id"], "email": "a@example.com"}
    )
    assert {"ok": True} == ok
