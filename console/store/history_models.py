"""The keyed hashes that History searches contact details by (migration 0007)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from console.store.models import Base


class ContactKeyRow(Base):
    """One keyed hash (console/security/lookup.py) of a visitor's phone, e-mail or a word of
    their name: the only form in which History can look a contact detail up."""

    __tablename__ = "contact_keys"
    # the visitor too, so that a look-up reads the index only (migration 0011)
    __table_args__ = (Index("ix_contact_keys_lookup", "tenant_id", "kind", "hash", "visitor_id"),)

    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id"), primary_key=True)
    # phone, email, name
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
