"""What the floor did today, read for supervisors, and tickets that agents write.

Queries return plain rows; the arithmetic of the tiles is in `console/supervision/tiles.py`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from console.domain.types import ChatDay
from console.store.base import StorePart
from console.store.models import ChatRow, RowReader

read_day = RowReader(ChatDay, ChatRow)


class FloorRepository(StorePart):
    async def chats_since(self, tenant_id: str, since: datetime) -> list[ChatDay]:
        """The tenant's chats that started, were answered or were rated since `since`."""
        query = select(*read_day.columns).where(
            ChatRow.tenant_id == tenant_id,
            or_(ChatRow.created_at >= since, ChatRow.rated_at >= since),
        )
        async with self.store.session() as s:
            rows = (await s.execute(query)).all()
        return [read_day(r) for r in rows]
