"""A visitor asks for their chat's transcript by e-mail (PROTOCOL 1.2, Transcript by
e-mail): checked here, recorded as an outbox delivery (console/store/transcripts.py), sent
by the outbox once the chat has ended (integrations/email_transcript/)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.domain.contact import checked, normalize_email
from console.domain.errors import ProtocolError
from console.hub.context import HubContext, chat_log
from console.outbox.wake import wake_outbox
from console.realtime.schemas import EmailTranscriptIn
from console.store.chats import OPEN_STATUSES


def transcript_address(raw: str) -> str:
    """The address as stored, or `invalid_payload` saying what to fix: a CR or LF would let
    it add headers to the e-mail, so it is refused before anything else."""
    if "\r" in raw or "\n" in raw:
        raise ProtocolError("invalid_payload", "email: one address, without line breaks (CR, LF)")
    address = checked("email", normalize_email, raw.strip())
    if address is None:
        raise ProtocolError("invalid_payload", "email: write the address to send it to")
    return address


@dataclass(eq=False)
class TranscriptByEmail:
    ctx: HubContext

    async def request(
        self, tenant_id: str, visitor_id: str, payload: EmailTranscriptIn
    ) -> dict[str, Any]:
        address = transcript_address(payload.email)
        store = self.ctx.store
        chat = await store.get_chat(payload.chat_id)
        if chat is None or chat.tenant_id != tenant_id or chat.visitor_id != visitor_id:
            raise ProtocolError("not_found", f"no chat {payload.chat_id} for this visitor")
        ended = chat.status not in OPEN_STATUSES
        if not await store.transcripts.request(tenant_id, chat.id, address, ended=ended):
            raise ProtocolError(
                "conflict", "this chat's transcript was requested already (one per chat)"
            )
        if not ended:
            # a close between the read above and the request missed it: release it now
            now = await store.get_chat(chat.id)
            ended = now is not None and now.status not in OPEN_STATUSES
            if ended:
                await store.transcripts.release(chat.id)
        chat_log(chat).info("transcript_requested", ended=ended)
        if ended:
            await wake_outbox(self.ctx.state.redis)
        return {"ok": True}
