"""What the floor did today, read for supervisors, and tickets that agents write.

Queries return plain rows; the arithmetic of the tiles is in `console/supervision/tiles.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from console.domain.types import ChatDay
from console.store.models import ChatRow

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
