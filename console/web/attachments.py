"""Attachments over HTTP (PROTOCOL 1.2, Attachments): a visitor (with the `upload_token` of
their `session` event) or an agent sends a file into a chat; both sides download it.

An upload goes: the caller and the chat checked before a byte of the body is read; the one
part `file` received in chunks into a temporary file, its kind read from its first bytes
and its size counted (refused at the limit: console/files/receive.py); an image re-encoded
without its metadata, with a thumbnail (console/files/images.py); the row written
`pending`, the files put into the storage, the row marked `stored`, and then the message
stored and delivered like any other. A refusal at any step leaves no file, no row and no
message (the temporary files are removed whatever happens).

Files whose chat was erased or purged are deleted by `sweep`, every SWEEP_EVERY_S and at
once after an erasure; so are the files of an upload that died half-way.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import structlog
from aiohttp import BodyPartReader, web

from console.domain.errors import ProtocolError
from console.domain.types import Message
from console.files.backend import open_storage
from console.files.images import prepare
from console.files.kinds import EXTENSIONS, IMAGES, JPEG, allowed_kinds
from console.files.receive import receive, too_large
from console.files.storage import CHUNK, FileMissingError, Storage, file_key
from console.hub.agents import AgentSession, may_write
from console.hub.upkeep import run_periodically
from console.hub.visitors import writable
from console.realtime.ratelimit import Buckets
from console.security.tokens import FULL, UPLOAD, InvalidToken
from console.settings import Limits
from console.store.attachments import Attachment
from console.web.http import bearer, client_ip, error_response
from console.web.keys import ACTOR, CLOCK, HUB, ORIGINS, SETTINGS, SIGNER, STORE

log = structlog.get_logger("charla.attachments")
routes = web.RouteTableDef()
FILES: web.AppKey[Storage] = web.AppKey("files")
VISITOR = "visitor"
SWEEP_EVERY_S = 60.0
PENDING_GRACE = timedelta(hours=1)  # an upload still pending after this died half-way
MULTIPART_SLACK = 64 * 1024  # a body this much over the limit may still hold a file within it
MAX_NAME = 200
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/]')
R = TypeVar("R", bound=web.StreamResponse)


@dataclass(frozen=True)
class Caller:
    """Who sends or fetches a file: a visitor (their upload token) or an agent."""

    tenant_id: str
    visitor_id: str | None = None
    agent: AgentSession | None = None

    def may_read(self, attachment: Attachment) -> bool:
        if attachment.tenant_id != self.tenant_id:
            return False
        return self.agent is not None or attachment.visitor_id == self.visitor_id


class Uploads:
    """How many files each visitor and each agent may send (CHARLA_*_UPLOADS_PER_MINUTE),
    and the visitors of one tenant from one address together (a visitor id is free to make
    up, an address is not); counted in this process: behind a balancer a sender may reach
    that many on each hub."""

    def __init__(self, limits: Limits) -> None:
        self.visitors = Buckets.per_minute(limits.visitor_uploads_per_minute)
        self.agents = Buckets.per_minute(limits.agent_uploads_per_minute)
        self.addresses = Buckets.per_minute(limits.address_uploads_per_minute)

    def take(self, who: Caller, address: str) -> None:
        if who.agent is not None:
            allowed = self.agents.take(who.agent.agent_id)
        else:
            allowed = self.addresses.take(f"{who.tenant_id}|{address}") and self.visitors.take(
                f"{who.tenant_id}|{who.visitor_id}"
            )
        if not allowed:
            raise ProtocolError(
                "rate_limited", "too many files sent in the last minute; wait and send it again"
            )


UPLOADS: web.AppKey[Uploads] = web.AppKey("uploads")


async def caller(request: web.Request) -> Caller:
    try:
        claims = request.app[SIGNER].verify_any(bearer(request))
    except InvalidToken as exc:
        raise ProtocolError("unauthorized", str(exc)) from None
    if claims.scope == UPLOAD and claims.role == VISITOR:
        return Caller(claims.tenant_id, visitor_id=claims.agent_id)
    if claims.scope != FULL:
        raise ProtocolError("unauthorized", "this token cannot send or fetch files")
    agent = await request.app[STORE].get_agent(claims.agent_id)
    if agent is None or agent.tenant_id != claims.tenant_id or not agent.active:
        raise ProtocolError("unauthorized", "this agent no longer exists; log in again")
    request[ACTOR] = (agent.tenant_id, f"agent:{agent.id}")
    session = AgentSession(agent.id, agent.tenant_id, agent.role, agent.name)
    return Caller(agent.tenant_id, agent=session)


def stored_name(given: str | None, kind: str) -> str:
    """The name as given, without any path or control character; an image re-encoded to
    another kind (HEIC to JPEG) gets that kind's extension."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", given or ""))[-1]
    name = _UNSAFE.sub("", base).strip().lstrip(".")[:MAX_NAME] or "file"
    stem, dot, ext = name.rpartition(".")
    if kind == JPEG and dot and ext.lower() in ("heic", "heif"):
        return f"{stem}{EXTENSIONS[JPEG]}"
    return name if dot else f"{name}{EXTENSIONS[kind]}"


async def _part(request: web.Request) -> BodyPartReader:
    """The body's part named `file`; other fields are skipped, never kept."""
    if not request.content_type.startswith("multipart/"):
        raise ProtocolError("invalid_payload", "send multipart/form-data with one part: file")
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ProtocolError("invalid_payload", "file: send it as a plain form part")
            if part.name == "file":
                return part
            await part.release()
    except (ValueError, AssertionError) as exc:  # aiohttp's words for a malformed body
        raise ProtocolError("invalid_payload", f"the multipart body is malformed: {exc}") from None
    raise ProtocolError("invalid_payload", "file: the part named file is missing")


async def _chunks(part: BodyPartReader) -> AsyncIterator[bytes]:
    while True:
        try:
            chunk = await part.read_chunk(CHUNK)
        except ValueError as exc:  # a body that ends before its closing boundary, say
            raise ProtocolError(
                "invalid_payload", f"the multipart body is malformed: {exc}"
            ) from None
        if not chunk:
            return
        yield chunk


@routes.post("/api/chats/{chat_id}/attachments")
async def upload(request: web.Request) -> web.Response:
    """Send a file into a chat: the chat's visitor (upload token) or an agent; the file
    comes back as a message, delivered to both sides."""
    try:
        message = await _upload(request)
    except ProtocolError as exc:
        return cross_origin(request, error_response(exc))
    return cross_origin(request, web.json_response({"message": message.to_wire()}, status=201))


async def _upload(request: web.Request) -> Message:
    who = await caller(request)
    app = request.app
    app[UPLOADS].take(who, client_ip(request))
    store, hub, limit = app[STORE], app[HUB], app[SETTINGS].files.max_bytes
    chat_id = request.match_info["chat_id"]
    chat = await store.get_chat(chat_id)
    # the checks of the message's own transaction, now: nothing is read of a refused upload
    if who.agent is not None:
        may_write(who.agent, chat_id, chat)
        watching = await hub.supervision.watchers(chat_id)
        if who.agent.supervises and watching.get(who.agent.agent_id) == "whisper":
            raise ProtocolError(
                "conflict", "you joined this chat to whisper: join it visibly to send a file"
            )
    else:
        writable(who.tenant_id, who.visitor_id or "", chat_id)(chat)
    assert chat is not None
    tenant = await hub.ctx.tenant(chat.tenant_id)
    if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
        raise too_large(limit)
    part = await _part(request)
    workdir = Path(await asyncio.to_thread(_workdir, app[SETTINGS].data_dir))
    try:
        got = await receive(
            _chunks(part), workdir / "upload", limit=limit, allowed=allowed_kinds(tenant.settings)
        )
        attachment = Attachment(
            id=str(uuid.uuid4()),
            tenant_id=chat.tenant_id,
            chat_id=chat.id,
            visitor_id=chat.visitor_id,
            name=stored_name(part.filename, got.kind),
            content_type=got.kind,
            size=got.size,
        )
        files = [(file_key(chat.tenant_id, attachment.id), got.path)]
        if got.kind in IMAGES:
            image = await asyncio.to_thread(prepare, got.path, got.kind, workdir)
            attachment = replace(
                attachment,
                content_type=image.kind,
                size=image.size,
                name=stored_name(part.filename, image.kind),
                width=image.width,
                height=image.height,
                thumbnail_size=image.thumbnail_size,
            )
            thumb = file_key(chat.tenant_id, attachment.id, thumbnail=True)
            files = [(files[0][0], image.path), (thumb, image.thumbnail)]
        message = await _keep(request, who, attachment, files)
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)
    log.info("attachment_stored", tenant_id=chat.tenant_id, chat_id=chat.id, size=attachment.size)
    return message


def _workdir(data_dir: Path) -> str:
    uploads = data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    return tempfile.mkdtemp(dir=uploads)


async def _keep(
    request: web.Request, who: Caller, attachment: Attachment, files: list[tuple[str, Path]]
) -> Message:
    """Row, files, then the message: whatever fails undoes what went before."""
    app = request.app
    store, hub, storage = app[STORE], app[HUB], app[FILES]
    agent = who.agent
    await store.attachments.add(
        attachment,
        author=VISITOR if agent is None else "agent",
        agent_id=None if agent is None else agent.agent_id,
        created_at=app[CLOCK].now(),
    )
    try:
        for key, path in files:
            await storage.put(key, path)
        await store.attachments.mark_stored(attachment.id)
        shape = attachment.to_wire()
        if agent is not None:
            return await hub.agents.attach(agent, attachment.chat_id, shape)
        return await hub.visitors.attach(
            who.tenant_id, attachment.visitor_id, attachment.chat_id, shape
        )
    except BaseException:
        await asyncio.shield(_discard(app, attachment.tenant_id, attachment.id))
        raise


async def _discard(app: web.Application, tenant_id: str, attachment_id: str) -> None:
    storage = app[FILES]
    for thumbnail in (False, True):
        await storage.delete(file_key(tenant_id, attachment_id, thumbnail=thumbnail))
    await app[STORE].attachments.forget([attachment_id])


@routes.get("/api/attachments/{attachment_id}")
async def download(request: web.Request) -> web.StreamResponse:
    """An attachment's bytes, for the chat's visitor and the tenant's agents."""
    try:
        return await _serve(request, thumbnail=False)
    except ProtocolError as exc:
        return cross_origin(request, error_response(exc))


@routes.get("/api/attachments/{attachment_id}/thumbnail")
async def thumbnail(request: web.Request) -> web.StreamResponse:
    """An image attachment's thumbnail (JPEG, at most 320 px a side)."""
    try:
        return await _serve(request, thumbnail=True)
    except ProtocolError as exc:
        return cross_origin(request, error_response(exc))


@routes.options("/api/chats/{chat_id}/attachments")
@routes.options("/api/attachments/{attachment_id}")
@routes.options("/api/attachments/{attachment_id}/thumbnail")
async def preflight(request: web.Request) -> web.Response:
    """CORS preflight: the widget, on a dealer's site, sends and fetches files here with
    its token in the Authorization header."""
    headers = {
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
    }
    return cross_origin(request, web.Response(status=204, headers=headers))


def cross_origin(request: web.Request, response: R) -> R:
    """Readable from a tenant's own site (any tenant's allowed origin: the token, not the
    origin, says whose files these are)."""
    origin = request.headers.get("Origin")
    response.headers["Vary"] = "Origin"
    if origin and origin in request.app[ORIGINS]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Content-Disposition"
    return response


async def _serve(request: web.Request, *, thumbnail: bool) -> web.StreamResponse:
    who = await caller(request)
    attachment_id = request.match_info["attachment_id"]
    found = await request.app[STORE].attachments.get(attachment_id)
    if found is None or not who.may_read(found):
        raise ProtocolError("not_found", f"no attachment {attachment_id} in your chats")
    if thumbnail and found.thumbnail_size is None:
        raise ProtocolError("not_found", "this attachment has no thumbnail: it is not an image")
    key = file_key(found.tenant_id, found.id, thumbnail=thumbnail)
    chunks = aiter(request.app[FILES].read(key))
    try:
        first = await anext(chunks, b"")
    except FileMissingError:
        raise ProtocolError("not_found", f"attachment {attachment_id} was deleted") from None
    kind = JPEG if thumbnail else found.content_type
    disposition = "inline" if kind in IMAGES else "attachment"
    response = web.StreamResponse(
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(found.name)}",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        }
    )
    response.content_type = kind
    response.content_length = found.thumbnail_size if thumbnail else found.size
    cross_origin(request, response)
    await response.prepare(request)
    await response.write(first)
    async for chunk in chunks:
        await response.write(chunk)
    await response.write_eof()
    return response


async def sweep(app: web.Application) -> int:
    """Delete the files of erased and purged chats, and of uploads that died half-way."""
    store, storage = app[STORE], app[FILES]
    doomed = await store.attachments.doomed(pending_before=app[CLOCK].now() - PENDING_GRACE)
    for tenant_id, attachment_id in doomed:
        for thumbnail in (False, True):
            await storage.delete(file_key(tenant_id, attachment_id, thumbnail=thumbnail))
    await store.attachments.forget([attachment_id for _, attachment_id in doomed])
    if doomed:
        log.info("attachment_files_deleted", count=len(doomed))
    await asyncio.to_thread(_forget_uploads, app[SETTINGS].data_dir / "uploads")
    return len(doomed)


def _forget_uploads(uploads: Path) -> None:
    """Temporary files a process that died mid-upload left behind (an hour old: no upload
    of a live process is ever that slow to be checked)."""
    if not uploads.is_dir():
        return
    cutoff = time.time() - PENDING_GRACE.total_seconds()
    for left in uploads.iterdir():
        with contextlib.suppress(FileNotFoundError):
            if left.stat().st_mtime < cutoff:
                shutil.rmtree(left, ignore_errors=True)


def upload_signer(app: web.Application) -> None:
    """The hub's visitors get an upload token in their `session` event."""
    signer = app[SIGNER]

    def sign(tenant_id: str, visitor_id: str) -> str:
        return signer.issue(visitor_id, tenant_id, VISITOR, scope=UPLOAD)

    app[HUB].ctx.upload_token = sign


async def files_ctx(app: web.Application) -> AsyncIterator[None]:
    """The storage CHARLA_STORAGE_URL names, open while the app runs, with its sweep."""
    settings = app[SETTINGS]
    async with AsyncExitStack() as stack:
        cipher = app[STORE].cipher
        app[FILES] = await open_storage(settings.files, settings.data_dir, cipher, stack)
        app[UPLOADS] = Uploads(settings.limits)
        upload_signer(app)
        task = asyncio.create_task(run_periodically(SWEEP_EVERY_S, lambda: sweep(app)))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
