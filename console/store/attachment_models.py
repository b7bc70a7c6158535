"""The files sent in chats (migration 0010): one row per attachment, its bytes in the file
storage (console/files/), its name encrypted like every text a person wrote."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from console.store.models import Base

PENDING = "pending"  # its files are being written; its message not yet stored
STORED = "stored"  # its message is in the chat: it can be downloaded
GONE = "gone"  # erased or purged: its files are deleted by the next sweep, then the row


class AttachmentRow(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id"), index=True)
    author: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    name_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    thumbnail_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
