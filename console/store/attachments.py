"""The attachments' rows (PROTOCOL 1.2, Attachments): written `pending` before their files,
`stored` once their message is in the chat, `gone` when an erasure or the retention purge
takes their chat's text. The file storage (console/files/) deletes a gone row's files, and
a pending row's that never got its message, then the row (`doomed`, `forget`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from console.store.attachment_models import GONE, PENDING, STORED, AttachmentRow
from console.store.base import StorePart, changed
from console.store.models import ChatRow


@dataclass(frozen=True)
class Attachment:
    """One file sent in a chat, with the chat's tenant and visitor (who may read it)."""

    id: str
    tenant_id: str
    chat_id: str
    visitor_id: str
    name: str
    content_type: str
    size: int
    width: int | None = None
    height: int | None = None
    thumbnail_size: int | None = None

    def to_wire(self) -> dict[str, Any]:
        """The message's `attachment`: what the file is, as stored."""
        wire: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
        }
        if self.width is not None and self.height is not None:
            wire["width"], wire["height"] = self.width, self.height
        return wire


class AttachmentRepository(StorePart):
    async def add(
        self, attachment: Attachment, *, author: str, agent_id: str | None, created_at: datetime
    ) -> None:
        """A new attachment, `pending` until its message is stored (`mark_stored`)."""
        await self.store.add(
            AttachmentRow(
                id=attachment.id,
                tenant_id=attachment.tenant_id,
                chat_id=attachment.chat_id,
                author=author,
                agent_id=agent_id,
                name_enc=self.store.cipher.encrypt(attachment.name),
                content_type=attachment.content_type,
                size=attachment.size,
                width=attachment.width,
                height=attachment.height,
                thumbnail_size=attachment.thumbnail_size,
                status=PENDING,
                created_at=created_at,
            )
        )

    async def mark_stored(self, attachment_id: str) -> bool:
        return bool(
            await self.store.write(
                update(AttachmentRow)
                .where(AttachmentRow.id == attachment_id, AttachmentRow.status == PENDING)
                .values(status=STORED)
            )
        )

    async def get(self, attachment_id: str) -> Attachment | None:
        """A stored attachment (a pending or gone one is not found)."""
        query = (
            select(AttachmentRow, ChatRow.visitor_id)
            .join(ChatRow, ChatRow.id == AttachmentRow.chat_id)
            .where(AttachmentRow.id == attachment_id, AttachmentRow.status == STORED)
        )
        async with self.store.reading() as s:
            found = (await s.execute(query)).first()
        if found is None:
            return None
        row, visitor_id = found
        return Attachment(
            id=row.id,
            tenant_id=row.tenant_id,
            chat_id=row.chat_id,
            visitor_id=visitor_id,
            name=self.store.cipher.decrypt(row.name_enc or ""),
            content_type=row.content_type,
            size=row.size,
            width=row.width,
            height=row.height,
            thumbnail_size=row.thumbnail_size,
        )

    async def doomed(self, *, pending_before: datetime, limit: int = 500) -> list[tuple[str, str]]:
        """(tenant, id) of the attachments whose files must go: erased or purged ones, and
        uploads that never got their message (a process that died half-way)."""
        query = (
            select(AttachmentRow.tenant_id, AttachmentRow.id)
            .where(
                or_(
                    AttachmentRow.status == GONE,
                    (AttachmentRow.status == PENDING) & (AttachmentRow.created_at < pending_before),
                )
            )
            .order_by(AttachmentRow.created_at)
            .limit(limit)
        )
        async with self.store.reading() as s:
            return [(tenant_id, row_id) for tenant_id, row_id in await s.execute(query)]

    async def forget(self, attachment_ids: Sequence[str]) -> int:
        """Delete the rows whose files are gone (or never were written)."""
        if not attachment_ids:
            return 0
        return await self.store.write(
            delete(AttachmentRow).where(AttachmentRow.id.in_(list(attachment_ids)))
        )


async def retire(s: AsyncSession, chat_ids: Sequence[str]) -> int:
    """In an erasure's or a purge's transaction: these chats' files are to be deleted (their
    names go now, the files with the next sweep). Returns how many."""
    return await changed(
        s,
        update(AttachmentRow)
        .where(AttachmentRow.chat_id.in_(list(chat_ids)), AttachmentRow.status != GONE)
        .values(status=GONE, name_enc=None),
    )
