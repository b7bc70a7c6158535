"""A visitor's request for their chat's transcript by e-mail (PROTOCOL 1.2), kept as an
outbox delivery (`transcript.email` to `email`): it survives restarts, is retried like any
other delivery, and its id, derived from the chat, makes it one per chat.

A request made while the chat is open is held (due far in the future) until the chat ends:
the hub releases it at the close, and the outbox worker's sweep releases any a crash left
held. The address is encrypted with the rest of the event's body.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from console.store.base import StorePart
from console.store.chats import OPEN_STATUSES
from console.store.leads import pending_delivery
from console.store.models import ChatRow, DeliveryRow

TRANSCRIPT_EMAIL = "transcript.email"
EMAIL = "email"
# a chat ends long before this; past it, the worker finds the chat still open and waits
HELD_FOR = timedelta(days=7)
_IDS = uuid.UUID("0f6a2b9e-7c1d-4f3a-9b57-2d8e4c6a1f30")


def transcript_delivery_id(chat_id: str) -> str:
    return str(uuid.uuid5(_IDS, chat_id))


class TranscriptRequests(StorePart):
    async def request(self, tenant_id: str, chat_id: str, email: str, *, ended: bool) -> bool:
        """Record the request: due now if the chat has ended, else held until it does.
        False when this chat's transcript was requested already."""
        now = self.store.clock.now()
        row = pending_delivery(
            tenant_id,
            TRANSCRIPT_EMAIL,
            (EMAIL, None),
            now,
            delivery_id=transcript_delivery_id(chat_id),
            chat_id=chat_id,
            payload_enc=self.store.cipher.encrypt(json.dumps({"email": email})),
        )
        if not ended:
            row.next_attempt_at = now + HELD_FOR
        try:
            await self.store.add(row)
        except IntegrityError:
            return False
        return True

    async def release(self, chat_id: str) -> bool:
        """The chat ended: its held request, if any, is due now."""
        now = self.store.clock.now()
        released = await self.store.write(
            update(DeliveryRow)
            .where(
                DeliveryRow.id == transcript_delivery_id(chat_id),
                DeliveryRow.status == "pending",
                DeliveryRow.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        )
        return released > 0

    async def release_ended(self) -> int:
        """Held requests whose chat has ended (a close the hub could not follow up): due now.
        Returns how many."""
        now = self.store.clock.now()
        ended = select(ChatRow.id).where(ChatRow.status.not_in(OPEN_STATUSES))
        return await self.store.write(
            update(DeliveryRow)
            .where(
                DeliveryRow.event == TRANSCRIPT_EMAIL,
                DeliveryRow.status == "pending",
                DeliveryRow.next_attempt_at > now,
                DeliveryRow.chat_id.in_(ended),
            )
            .values(next_attempt_at=now)
        )
