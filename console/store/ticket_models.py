"""The notes agents write on a ticket while they work it (migration 0005)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from console.store.models import Base


class TicketNoteRow(Base):
    """One note on a ticket, encrypted like every text a person wrote; never changed."""

    __tablename__ = "ticket_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    agent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    text_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
