"""Attachments (PROTOCOL 1.2): a visitor's photo reaches the agent without its EXIF, a
file never lies its way in, nothing is half-written, and files go with erasure and the
purge. On SQLite and PostgreSQL, with the data dir's encrypted storage (the S3 backend:
tests/test_attachments_s3.py)."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import update

from console.domain.types import Message
from console.files.local import LocalStorage
from console.files.storage import file_key
from console.maintenance import rotate_keys
from console.security.crypto import DataCipher, DecryptionError
from console.settings import Files, Limits
from console.store.attachments import Attachment
from console.store.models import ChatRow
from console.store.privacy import Policy
from console.web.attachments import FILES, stored_name, sweep
from console.web.keys import CLOCK, SETTINGS, STORE
from tests.support.attachments import (
    BOUNDARY,
    GPS_IFD,
    download,
    files_under,
    jpeg_with_gps,
    multipart,
    pdf_bytes,
    peak_growth,
    streamed,
    upload,
)
from tests.support.harness import ADMIN_TOKEN, ORIGIN, HubFactory, LiveHub, Peer, active_chat

MiB = 1024 * 1024


def upload_token(visitor: Peer) -> str:
    token: str = visitor.seen("session")[0]["upload_token"]
    return token


async def transcript(hub: LiveHub, chat_id: str, token: str) -> list[dict[str, Any]]:
    status, chat = await hub.request("GET", f"/api/chats/{chat_id}", token=token)
    assert 200 == status, chat
    return chat["messages"]  # type: ignore[no-any-return]


async def gps_photo_reaches_the_agent_without_it(hub: LiveHub) -> None:
    """The scenario of issue 27, shared with the S3 variant."""
    _tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    photo = jpeg_with_gps()
    assert GPS_IFD in Image.open(io.BytesIO(photo)).getexif()  # the test's own premise

    sent = await upload(
        hub, chat["id"], upload_token(visitor), multipart(photo, "../../IMG_0042.jpg", "image/png")
    )

    assert 201 == sent.status, sent.body
    message = sent.body["message"]
    attachment = message["attachment"]
    assert ("visitor", "") == (message["author"], message["text"])
    assert "IMG_0042.jpg" == attachment["name"]
    assert ("image/jpeg", 640, 480) == (
        attachment["content_type"],
        attachment["width"],
        attachment["height"],
    )
    delivered = await agent_peer.wait_for("message", lambda e: "attachment" in e["message"])
    assert message == delivered["message"]

    got = await download(hub, f"/api/attachments/{attachment['id']}", agent["token"])
    assert 200 == got.status
    assert "nosniff" == got.headers["X-Content-Type-Options"]
    assert "image/jpeg" == got.headers["Content-Type"]
    assert got.headers["Content-Disposition"].startswith("inline")
    assert attachment["size"] == len(got.content)
    image = Image.open(io.BytesIO(got.content))
    assert (640, 480) == image.size
    assert {} == dict(image.getexif())
    assert b"Exif" not in got.content
    assert b"PhoneMaker" not in got.content

    thumb = await download(hub, f"/api/attachments/{attachment['id']}/thumbnail", agent["token"])
    assert 200 == thumb.status
    assert "nosniff" == thumb.headers["X-Content-Type-Options"]
    assert (320, 240) == Image.open(io.BytesIO(thumb.content)).size

    # the visitor's own download, and `sync` on both sides, carry it too
    mine = await download(hub, f"/api/attachments/{attachment['id']}", upload_token(visitor))
    assert got.content == mine.content
    synced = await visitor.call("sync", {"chat_id": chat["id"]})
    assert message in synced["messages"]
    assert message in await transcript(hub, chat["id"], agent["token"])


async def big_upload_is_refused_in_little_memory(hub: LiveHub) -> None:
    """11 MiB against the 10 MiB default, streamed: refused, with the hub's memory (this
    process's, the client's included) growing by less than 2 MiB."""
    _tenant, agent, _agent_peer, visitor, chat = await active_chat(hub)
    body = streamed(11 * MiB, "big.pdf", pdf_bytes(1024))

    async def send() -> Any:
        return await upload(hub, chat["id"], upload_token(visitor), body)

    sent, growth = await peak_growth(send)

    assert 413 == sent.status
    assert "too_large" == sent.body["error"]["code"]
    assert growth < 2 * MiB, f"the refused upload cost {growth / MiB:.2f} MiB"
    assert [] == [m for m in await transcript(hub, chat["id"], agent["token"]) if "attachment" in m]


async def test_a_visitors_photo_reaches_the_agent_without_exif_or_gps(
    make_hub: HubFactory, database_url: str
) -> None:
    await gps_photo_reaches_the_agent_without_it(await make_hub(database_url=database_url))


async def test_an_upload_past_the_limit_is_refused_while_streaming(
    make_hub: HubFactory, database_url: str
) -> None:
    await big_upload_is_refused_in_little_memory(await make_hub(database_url=database_url))


async def test_the_data_dir_keeps_files_encrypted(make_hub: HubFactory, tmp_path: Path) -> None:
    hub = await make_hub(data_dir=tmp_path / "var")
    _tenant, _agent, _peer, visitor, chat = await active_chat(hub)
    pdf = pdf_bytes(200_000)
    sent = await upload(hub, chat["id"], upload_token(visitor), multipart(pdf, "x.pdf", "a/b"))
    assert 201 == sent.status, sent.body
    stored = files_under(tmp_path / "var" / "files")
    assert 1 == len(stored)  # a PDF has no thumbnail
    on_disk = stored[0].read_bytes()
    assert b"%PDF" not in on_disk
    assert b"%%%%%%%%" not in on_disk
    assert [] == files_under(tmp_path / "var" / "uploads")


async def test_an_agents_pdf_is_served_as_a_download(hub: LiveHub) -> None:
    _tenant, agent, _peer, visitor, chat = await active_chat(hub)
    pdf = pdf_bytes(5000)
    sent = await upload(hub, chat["id"], agent["token"], multipart(pdf, "cotización.pdf", "x/y"))
    assert 201 == sent.status, sent.body
    attachment = sent.body["message"]["attachment"]
    assert ("agent", "application/pdf", 5000) == (
        sent.body["message"]["author"],
        attachment["content_type"],
        attachment["size"],
    )
    assert "width" not in attachment
    pushed = await visitor.wait_for("message", lambda e: "attachment" in e["message"])
    assert sent.body["message"] == pushed["message"]

    got = await download(hub, f"/api/attachments/{attachment['id']}", upload_token(visitor))
    assert 200 == got.status
    assert pdf == got.content
    assert "application/pdf" == got.headers["Content-Type"]
    assert "nosniff" == got.headers["X-Content-Type-Options"]
    assert "attachment; filename*=UTF-8''cotizaci%C3%B3n.pdf" == got.headers["Content-Disposition"]
    thumb = await download(
        hub, f"/api/attachments/{attachment['id']}/thumbnail", upload_token(visitor)
    )
    assert (404, "not_found") == (thumb.status, thumb.body["error"]["code"])


async def test_refused_uploads_leave_no_file_and_no_message(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    limit = 50_000
    hub = await make_hub(data_dir=tmp_path / "var", files=Files(max_bytes=limit))
    tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    other_tenant, other_agent, _, other_visitor, other_chat = await active_chat(hub)
    token = upload_token(visitor)
    html = b"<!DOCTYPE html><html><script>alert(1)</script></html>" + b" " * 400

    async def refused(chat_id: str, who: str | None, body: bytes) -> tuple[int, str]:
        sent = await upload(hub, chat_id, who, body)
        return sent.status, sent.body["error"]["code"]

    # not yours: another visitor's chat, another tenant's agent; nobody at all
    assert (404, "not_found") == await refused(other_chat["id"], token, multipart(b"x", "a", "b"))
    assert (404, "not_found") == await refused(
        chat["id"], other_agent["token"], multipart(pdf_bytes(900), "a.pdf", "application/pdf")
    )
    assert (404, "not_found") == await refused(
        chat["id"], upload_token(other_visitor), multipart(b"x", "a", "b")
    )
    assert (401, "unauthorized") == await refused(chat["id"], None, multipart(b"x", "a", "b"))
    assert (401, "unauthorized") == await refused(chat["id"], "forged", multipart(b"x", "a", "b"))
    # not a form with a file
    assert (400, "invalid_payload") == await refused(chat["id"], token, b"garbage, no parts")
    no_file = multipart(b"x", "a.pdf", "application/pdf").replace(b'name="file"', b'name="doc"')
    assert (400, "invalid_payload") == await refused(chat["id"], token, no_file)
    status, body = await hub.request(
        "POST", f"/api/chats/{chat['id']}/attachments", token=token, json={"file": "x"}
    )
    assert (400, "invalid_payload") == (status, body["error"]["code"])
    # a file that lies about its type, by name and header, or by its first bytes
    assert (415, "invalid_payload") == await refused(
        chat["id"], token, multipart(html, "photo.jpg", "image/jpeg")
    )
    fake_jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 2000
    assert (415, "invalid_payload") == await refused(
        chat["id"], token, multipart(fake_jpeg, "photo.jpg", "image/jpeg")
    )
    # one byte over the limit; the limit itself is fine
    assert (413, "too_large") == await refused(
        chat["id"], token, multipart(pdf_bytes(limit + 1), "a.pdf", "application/pdf")
    )
    assert [] == files_under(tmp_path / "var" / "files")
    assert [] == files_under(tmp_path / "var" / "uploads")
    kept = await upload(hub, chat["id"], token, multipart(pdf_bytes(limit), "a.pdf", "x"))
    assert 201 == kept.status, kept.body
    # a tenant that takes photos only
    status, _ = await hub.request(
        "PATCH",
        f"/api/admin/tenants/{tenant['id']}",
        token=ADMIN_TOKEN,
        json={"settings": {"attachment_types": ["image/jpeg"]}},
    )
    assert 200 == status
    assert (415, "invalid_payload") == await refused(
        chat["id"], token, multipart(pdf_bytes(900), "a.pdf", "application/pdf")
    )
    # a closed chat takes none
    await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    assert (409, "closed") == await refused(
        chat["id"], token, multipart(jpeg_with_gps(), "a.jpg", "image/jpeg")
    )

    assert 1 == len(files_under(tmp_path / "var" / "files"))
    assert [] == files_under(tmp_path / "var" / "uploads")
    attached = [m for m in await transcript(hub, chat["id"], agent["token"]) if m["text"] == ""]
    assert [kept.body["message"]] == attached
    # and the other tenant's agent cannot fetch it either
    got = await download(
        hub, f"/api/attachments/{kept.body['message']['attachment']['id']}", other_agent["token"]
    )
    assert 404 == got.status
    assert other_tenant["id"] != tenant["id"]


async def test_a_sender_past_the_upload_limit_is_told_to_wait_and_nothing_is_kept(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    limits = Limits(visitor_uploads_per_minute=2, agent_uploads_per_minute=3)
    hub = await make_hub(data_dir=tmp_path / "var", limits=limits)
    tenant, agent, _peer, visitor, chat = await active_chat(hub)
    _, _, _, other_visitor, other_chat = await active_chat(hub, tenant)
    token = upload_token(visitor)

    async def send(chat_id: str, who: str) -> tuple[int, Any]:
        sent = await upload(hub, chat_id, who, multipart(pdf_bytes(900), "a.pdf", "x"))
        return sent.status, sent.body

    assert [201, 201] == [(await send(chat["id"], token))[0] for _ in range(2)]
    status, body = await send(chat["id"], token)
    assert (429, "rate_limited") == (status, body["error"]["code"])
    assert "wait" in body["error"]["message"]
    # the budget is the sender's: another visitor, and the chat's agent, still send
    assert 201 == (await send(other_chat["id"], upload_token(other_visitor)))[0]
    assert [201, 201, 201] == [(await send(chat["id"], agent["token"]))[0] for _ in range(3)]
    assert 429 == (await send(chat["id"], agent["token"]))[0]
    # what was refused left neither a message nor a file
    attached = [m for m in await transcript(hub, chat["id"], agent["token"]) if m["text"] == ""]
    assert 5 == len(attached)
    assert 6 == len(files_under(tmp_path / "var" / "files"))


async def test_visitors_from_one_address_share_one_budget_of_files(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    """A visitor id is free to make up: the visitors of one tenant from one address (here
    every test client's, 127.0.0.1) send CHARLA_ADDRESS_UPLOADS_PER_MINUTE files together."""
    limits = Limits(visitor_uploads_per_minute=10, address_uploads_per_minute=3)
    hub = await make_hub(data_dir=tmp_path / "var", limits=limits)
    tenant, agent, _peer, first, chat = await active_chat(hub)
    _, _, _, second, other_chat = await active_chat(hub, tenant)
    _, _, _, other_dealers, elsewhere = await active_chat(hub)

    async def send(chat_id: str, token: str) -> int:
        sent = await upload(hub, chat_id, token, multipart(pdf_bytes(900), "a.pdf", "x"))
        return sent.status

    assert [201, 201] == [await send(chat["id"], upload_token(first)) for _ in range(2)]
    assert [201, 429] == [await send(other_chat["id"], upload_token(second)) for _ in range(2)]
    # another dealer's visitors from the same address have their own; agents are not counted
    assert 201 == await send(elsewhere["id"], upload_token(other_dealers))
    assert 201 == await send(chat["id"], agent["token"])


async def test_export_names_files_and_erasure_deletes_them(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    hub = await make_hub(data_dir=tmp_path / "var")
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    _tenant, agent, _peer, visitor, chat = await active_chat(hub, tenant)
    sent = await upload(
        hub, chat["id"], upload_token(visitor), multipart(jpeg_with_gps(), "licencia.jpg", "x")
    )
    attachment = sent.body["message"]["attachment"]
    visitor_id = visitor.seen("session")[0]["visitor_id"]
    assert 2 == len(files_under(tmp_path / "var" / "files"))  # the photo and its thumbnail

    status, export = await hub.request(
        "GET", f"/api/visitors/{visitor_id}/export", token=admin["token"]
    )
    assert 200 == status
    exported = [
        m["attachment"] for c in export["chats"] for m in c["messages"] if "attachment" in m
    ]
    assert [attachment] == exported

    status, erased = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"visitor_id": visitor_id}
    )
    assert 200 == status, erased
    assert [] == files_under(tmp_path / "var" / "files")
    got = await download(hub, f"/api/attachments/{attachment['id']}", agent["token"])
    assert (404, "not_found") == (got.status, got.body["error"]["code"])
    assert [] == [m for m in await transcript(hub, chat["id"], agent["token"]) if "attachment" in m]


async def test_the_retention_purge_deletes_files_with_their_transcripts(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    hub = await make_hub(data_dir=tmp_path / "var")
    tenant, agent, agent_peer, visitor, chat = await active_chat(hub)
    await upload(hub, chat["id"], upload_token(visitor), multipart(pdf_bytes(3000), "a.pdf", "x"))
    await agent_peer.call("close_chat", {"chat_id": chat["id"]})
    store = hub.app[STORE]
    long_ago = hub.app[CLOCK].now() - timedelta(days=400)
    await store.write(update(ChatRow).where(ChatRow.id == chat["id"]).values(closed_at=long_ago))
    assert 1 == len(files_under(tmp_path / "var" / "files"))

    run = await store.retention.purge(tenant["id"], Policy(transcripts_days=365))
    deleted = await sweep(hub.app)

    assert (1, 1) == (run.counts["chats"], deleted)
    assert [] == files_under(tmp_path / "var" / "files")
    assert all("attachment" not in m for m in await transcript(hub, chat["id"], agent["token"]))


def test_a_crm_transcript_shows_an_attachment_as_a_link_never_the_file() -> None:
    shape = {"id": "a1", "name": "tacoma.jpg", "content_type": "image/jpeg", "size": 2048}
    message = Message(
        id="000000000001",
        chat_id="c1",
        author="visitor",
        text="",
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
        attachment=shape,
    )
    line = message.plain_text("https://chat.dealer.example")
    assert "https://chat.dealer.example/console/#/attachments/a1?chat=c1" in line
    assert "tacoma.jpg" in line
    assert "hola" == replace(message, attachment=None, text="hola").plain_text()


@pytest.mark.parametrize(
    ("given", "kind", "expected"),
    [
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("C:\\fotos\\IMG_1.HEIC", "image/jpeg", "IMG_1.jpg"),
        ('we"ird\x00name.png', "image/png", "weirdname.png"),
        (None, "image/webp", "file.webp"),
    ],
)
def test_a_stored_name_keeps_no_path(given: str | None, kind: str, expected: str) -> None:
    assert expected == stored_name(given, kind)


async def test_a_heic_photo_is_stored_as_jpeg_without_its_metadata(hub: LiveHub) -> None:
    _tenant, agent, _peer, visitor, chat = await active_chat(hub)
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (18.0, 27.0, 57.0)}
    heic = io.BytesIO()
    Image.new("RGB", (200, 100), (200, 50, 50)).save(heic, format="HEIF", exif=exif.tobytes())
    assert GPS_IFD in Image.open(io.BytesIO(heic.getvalue())).getexif()

    sent = await upload(
        hub, chat["id"], upload_token(visitor), multipart(heic.getvalue(), "IMG_7.HEIC", "x")
    )

    assert 201 == sent.status, sent.body
    attachment = sent.body["message"]["attachment"]
    assert ("IMG_7.jpg", "image/jpeg", 200, 100) == (
        attachment["name"],
        attachment["content_type"],
        attachment["width"],
        attachment["height"],
    )
    got = await download(hub, f"/api/attachments/{attachment['id']}", agent["token"])
    image = Image.open(io.BytesIO(got.content))
    assert ("JPEG", {}) == (image.format, dict(image.getexif()))


async def test_a_supervisor_who_whispers_sends_no_file_to_the_visitor(hub: LiveHub) -> None:
    tenant, _agent, _peer, visitor, chat = await active_chat(hub)
    supervisor = await hub.agent(tenant, languages=["es"], role="supervisor")
    watching = await hub.agent_peer(supervisor, online=False)
    joined = await watching.call("join", {"chat_id": chat["id"], "mode": "whisper"})
    assert joined["ok"] is True, joined
    pdf = multipart(pdf_bytes(900), "a.pdf", "application/pdf")

    sent = await upload(hub, chat["id"], supervisor["token"], pdf)

    assert (409, "conflict") == (sent.status, sent.body["error"]["code"])
    assert [] == visitor.seen("message")


async def test_rotate_key_wraps_the_files_keys_with_the_new_data_key(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    old, new = DataCipher.new_key(), DataCipher.new_key()
    hub = await make_hub(data_dir=tmp_path / "var", data_key=old)
    _tenant, _agent, _peer, visitor, chat = await active_chat(hub)
    pdf = pdf_bytes(150_000)
    sent = await upload(hub, chat["id"], upload_token(visitor), multipart(pdf, "a.pdf", "x"))
    [stored] = files_under(tmp_path / "var" / "files")
    key = str(stored.relative_to(tmp_path / "var" / "files"))
    settings = hub.app[SETTINGS]
    await hub.close()

    lines = await rotate_keys(settings.with_(data_key=f"{new},{old}"))

    assert "charla: the keys of 1 attachment files in the data dir wrapped again" in lines
    new_only = LocalStorage(tmp_path / "var" / "files", DataCipher(new))
    assert pdf == b"".join([chunk async for chunk in new_only.read(key)])
    old_only = LocalStorage(tmp_path / "var" / "files", DataCipher(old))
    with pytest.raises(DecryptionError):
        await anext(aiter(old_only.read(key)))
    assert sent.body["message"]["attachment"]["id"] == stored.name


async def test_the_sweep_removes_what_a_process_that_died_mid_upload_left(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    hub = await make_hub(data_dir=tmp_path / "var")
    tenant, _agent, _peer, visitor, chat = await active_chat(hub)
    kept = await upload(hub, chat["id"], upload_token(visitor), multipart(pdf_bytes(900), "k", "x"))
    store, clock = hub.app[STORE], hub.app[CLOCK]
    half = Attachment("half-1", tenant["id"], chat["id"], "v", "half.pdf", "application/pdf", 900)
    await store.attachments.add(
        half, author="visitor", agent_id=None, created_at=clock.now() - timedelta(hours=2)
    )
    source = tmp_path / "half.pdf"
    source.write_bytes(pdf_bytes(900))
    await hub.app[FILES].put(file_key(tenant["id"], "half-1"), source)
    stale = tmp_path / "var" / "uploads" / "stale"
    stale.mkdir(parents=True)
    (stale / "upload").write_bytes(b"%PDF")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    assert 2 == len(files_under(tmp_path / "var" / "files"))

    assert 1 == await sweep(hub.app)

    [left] = files_under(tmp_path / "var" / "files")
    assert kept.body["message"]["attachment"]["id"] == left.name
    assert not stale.exists()
    assert 0 == await sweep(hub.app)


async def test_the_widget_on_the_dealers_site_may_send_and_fetch_files(hub: LiveHub) -> None:
    """CORS: the widget runs on the tenant's own origin and sends its token in a header."""
    _tenant, _agent, _peer, visitor, chat = await active_chat(hub)
    path = f"/api/chats/{chat['id']}/attachments"
    ask = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    async with hub.http.options(hub.url + path, headers=ask) as preflight:
        assert 204 == preflight.status
        assert ORIGIN == preflight.headers["Access-Control-Allow-Origin"]
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    stranger = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    async with hub.http.options(hub.url + path, headers=stranger) as refused:
        assert "Access-Control-Allow-Origin" not in refused.headers

    headers = {
        "Origin": ORIGIN,
        "Authorization": f"Bearer {upload_token(visitor)}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    body = multipart(pdf_bytes(900), "a.pdf", "application/pdf")
    async with hub.http.post(hub.url + path, data=body, headers=headers) as sent:
        assert (201, ORIGIN) == (sent.status, sent.headers["Access-Control-Allow-Origin"])
        attachment = (await sent.json())["message"]["attachment"]
    async with hub.http.get(
        f"{hub.url}/api/attachments/{attachment['id']}", headers=headers
    ) as got:
        assert (200, ORIGIN) == (got.status, got.headers["Access-Control-Allow-Origin"])
        assert "Content-Disposition" in got.headers["Access-Control-Expose-Headers"]
    async with hub.http.get(f"{hub.url}/api/attachments/nope", headers=headers) as missing:
        assert (404, ORIGIN) == (missing.status, missing.headers["Access-Control-Allow-Origin"])
