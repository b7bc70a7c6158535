"""What the floor did today, read for supervisors, and tickets that agents write.

Queries return plain rows; the arithmetic of the tiles is in `console/supervision.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from console.store.models import ChatRow, TicketRow, new_id
from console.supervision import ChatDay
from console.types import Ticket, utcnow

if TYPE_CHECKING:
    from console.store.repository import Store


class FloorRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def chats_since(self, tenant_id: str, since: datetime) -> list[ChatDay]:
        """The tenant's chats that started, were answered or were rated since `since`."""
        query = select(
            ChatRow.status,
            ChatRow.created_at,
            ChatRow.assigned_at,
            ChatRow.first_agent_reply_at,
            ChatRow.csat_score,
            ChatRow.rated_at,
            ChatRow.close_reason,
        ).where(
            ChatRow.tenant_id == tenant_id,
            or_(ChatRow.created_at >= since, ChatRow.rated_at >= since),
        )
        async with self.store.session() as s:
            rows = (await s.execute(query)).all()
        return [
            ChatDay(
                status=r.status,
                created_at=r.created_at,
                assigned_at=r.assigned_at,
                first_agent_reply_at=r.first_agent_reply_at,
                csat_score=r.csat_score,
                rated_at=r.rated_at,
                close_reason=r.close_reason,
            )
            for r in rows
        ]

    async def create_ticket(
        self,
        *,
        tenant_id: str,
        chat_id: str | None,
        visitor_id: str | None,
        language: str,
        text: str,
        name: str | None,
        email: str | None,
        phone: str | None,
    ) -> Ticket:
        """A ticket an agent writes (a follow-up the chat could not settle)."""
        cipher = self.store.cipher
        row = TicketRow(
            id=new_id(),
            tenant_id=tenant_id,
            chat_id=chat_id,
            visitor_id=visitor_id,
            language=language,
            reason="agent",
            status="open",
            name_enc=cipher.encrypt_optional(name),
            email_enc=cipher.encrypt_optional(email),
            phone_enc=cipher.encrypt_optional(phone),
            text_enc=cipher.encrypt(text),
            created_at=utcnow(),
        )
        async with self.store.session() as s, s.begin():
            s.add(row)
        return self.store._ticket(row)
