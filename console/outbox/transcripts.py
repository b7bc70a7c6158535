"""What the worker reads for a transcript by e-mail (integrations/email_transcript/): the
chat as it ended and its messages without whispers, each with its attachment's name."""

from __future__ import annotations

from typing import Any

from console.domain.types import Message, iso
from console.store.chats import OPEN_STATUSES
from console.store.repository import Store
from integrations.base import PermanentError, RetryableError, TranscriptLine


def attachment_name(message: Message) -> str | None:
    """The attached file's name (PROTOCOL 1.2, Attachments): the e-mail names the file,
    it never carries it."""
    name = (message.attachment or {}).get("name")
    return str(name) if name else None


def transcript_lines(messages: list[Message]) -> tuple[TranscriptLine, ...]:
    return tuple(
        TranscriptLine(m.created_at, m.author, m.author_name, m.text, attachment_name(m))
        for m in messages
        if not m.whisper
    )


async def transcript_email_parts(
    store: Store, chat_id: str | None, payload: dict[str, Any]
) -> tuple[dict[str, Any], tuple[TranscriptLine, ...]]:
    """(the event's body with the chat and the visitor's name added, the transcript)."""
    chat = await store.get_chat(chat_id or "")
    if chat is None:
        raise PermanentError("the chat no longer exists")
    if chat.status in OPEN_STATUSES:
        raise RetryableError("the chat has not ended yet", code="open")
    visitor = await store.get_visitor(chat.visitor_id)
    body = {
        **payload,
        "chat": {
            "id": chat.id,
            "language": chat.language,
            "created_at": iso(chat.created_at),
            "closed_at": iso(chat.closed_at),
        },
        "visitor_name": visitor.name if visitor else None,
    }
    return body, transcript_lines(await store.list_messages(chat.id, whispers=False))
