"""SQLAlchemy models. Text a visitor types and contact details are stored encrypted (`*_enc`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect, Row
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.schema import Column

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from console.security.crypto import DataCipher

R = TypeVar("R", bound="DataclassInstance")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> str:
    """A new row id (a random UUID, as text)."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime()}


class TenantRow(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(20))
    languages: Mapped[list[str]] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64))
    allowed_origins: Mapped[list[str]] = mapped_column(JSON)
    hours: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSON, nullable=True)
    holidays: Mapped[str | None] = mapped_column(String(20), nullable=True)
    bot_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    overflow_after_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Tenant-level options that are not routing: the pre-chat form's fields, lead defaults...
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The bot's chat script (flows, wording, FAQ): the tenant's own data; None = the default
    bot_script: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    site_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    languages: Mapped[list[str]] = mapped_column(JSON)
    max_chats: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    # Set by a tenant admin: the agent can no longer log in; the row stays for the history
    deactivated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class VisitorRow(Base):
    __tablename__ = "visitors"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    email_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    visits: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class PageViewRow(Base):
    __tablename__ = "page_views"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    referrer: Mapped[str | None] = mapped_column(Text, nullable=True)
    viewed_at: Mapped[datetime]


class ChatRow(Base):
    __tablename__ = "chats"
    __table_args__ = (
        Index("ix_chats_tenant_status_created", "tenant_id", "status", "created_at"),
        Index("ix_chats_tenant_created", "tenant_id", "created_at"),
        Index("ix_chats_agent_created", "agent_id", "created_at"),
        Index("ix_chats_tenant_language_created", "tenant_id", "language", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(ForeignKey("agents.id"), nullable=True, index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    overflowed: Mapped[bool] = mapped_column(Boolean, default=False)
    close_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime]
    queued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    first_agent_reply_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    abandoned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(40), nullable=True)
    csat_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    csat_comment_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The proactive invitation this chat came from, for conversion per rule
    invitation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # when the retention purge or an erasure removed its text (timings and scores stay)
    purged_at: Mapped[datetime | None] = mapped_column(nullable=True)


class MessageRow(Base):
    __tablename__ = "messages"
    # `client_msg_id` is the sender's: each participant's resends are idempotent on their own
    __table_args__ = (UniqueConstraint("chat_id", "sender", "client_msg_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id"), index=True)
    author: Mapped[str] = mapped_column(String(10))
    author_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    text_enc: Mapped[str] = mapped_column(Text)
    sender: Mapped[str] = mapped_column(String(50))
    client_msg_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime]
    # a supervisor's coaching: never sent to the visitor nor outside (PROTOCOL 1.2)
    whisper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    attachment_enc: Mapped[str | None] = mapped_column(Text, nullable=True)  # its JSON shape


class TicketRow(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    chat_id: Mapped[str | None] = mapped_column(ForeignKey("chats.id"), nullable=True)
    visitor_id: Mapped[str | None] = mapped_column(ForeignKey("visitors.id"), nullable=True)
    language: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="open")
    name_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    email_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    assignee_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    callback_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(nullable=True)


class InvitationRuleRow(Base):
    __tablename__ = "invitation_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    only_when_agents_available: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class InvitationRow(Base):
    """One invitation shown to a visitor, and what became of it."""

    __tablename__ = "invitations"
    __table_args__ = (Index("ix_invitations_visitor_visit", "visitor_id", "visit"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    # None for a personal invitation, sent by `agent_id` (PROTOCOL 1.2)
    rule_id: Mapped[str | None] = mapped_column(
        ForeignKey("invitation_rules.id"), index=True, nullable=True
    )
    agent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id"))
    visit: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    # shown, accepted, declined, ignored
    status: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    shown_at: Mapped[datetime]
    responded_at: Mapped[datetime | None] = mapped_column(nullable=True)


class CannedResponseRow(Base):
    __tablename__ = "canned_responses"
    __table_args__ = (UniqueConstraint("tenant_id", "shortcut"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    shortcut: Mapped[str] = mapped_column(String(64))
    text: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class LeadRow(Base):
    """A lead; everything that names or reaches the person is in `data_enc` (encrypted)."""

    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    chat_id: Mapped[str] = mapped_column(ForeignKey("chats.id"), unique=True)
    visitor_id: Mapped[str | None] = mapped_column(ForeignKey("visitors.id"), nullable=True)
    language: Mapped[str] = mapped_column(String(16))
    interest: Mapped[str] = mapped_column(String(20))
    qualified: Mapped[bool] = mapped_column(Boolean, default=False)
    # agent or bot
    source: Mapped[str] = mapped_column(String(10))
    agent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    data_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DeliveryRow(Base):
    """The outbox: one row per (event, destination), written with what it delivers."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), nullable=True, index=True)
    chat_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # lead.qualified, chat.closed
    event: Mapped[str] = mapped_column(String(40))
    # salesforce, adf, webhook
    destination: Mapped[str] = mapped_column(String(20))
    # the webhook's id for destination "webhook"
    target_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # pending, delivered, failed
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    locked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The event's body, fixed when it happened (encrypted: it can hold contact details)
    payload_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)


class IntegrationRow(Base):
    """A tenant's connector settings: `config` is public, `secret_enc` never leaves the hub."""

    __tablename__ = "integrations"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    # salesforce, adf
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    secret_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime]


class WebhookRow(Base):
    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret_enc: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class AgreementRow(Base):
    """One version of a tenant's service agreement (the terms as `Agreement.to_wire`)."""

    __tablename__ = "sla_agreements"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[str] = mapped_column(String(10))
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class ClosureRow(Base):
    """A one-off closed day (a hurricane day): the SLA clock does not run on it."""

    __tablename__ = "closures"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SlaMonthRow(Base):
    """A closed month: its figures as frozen, their SHA-256, and any later recomputation
    that came out different (kept beside them, never applied)."""

    __tablename__ = "sla_months"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    agreement_version: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    figures_sha256: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime]
    discrepancy: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class PresenceEventRow(Base):
    """An agent's status as it changed (online, away, offline): the staffing history."""

    __tablename__ = "presence_events"
    __table_args__ = (Index("ix_presence_events_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    agent_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime]


# The tables themselves, for SQLAlchemy Core statements on the hot paths (reads, the writer)
TENANTS: Table = TenantRow.__table__  # type: ignore[assignment]
AGENTS: Table = AgentRow.__table__  # type: ignore[assignment]
VISITORS: Table = VisitorRow.__table__  # type: ignore[assignment]
PAGE_VIEWS: Table = PageViewRow.__table__  # type: ignore[assignment]
CHATS: Table = ChatRow.__table__  # type: ignore[assignment]
MESSAGES: Table = MessageRow.__table__  # type: ignore[assignment]
TICKETS: Table = TicketRow.__table__  # type: ignore[assignment]
LEADS: Table = LeadRow.__table__  # type: ignore[assignment]


class RowReader(Generic[R]):
    """A record (a frozen dataclass) from a row of one model's table, a Core row or an ORM one.

    Each field that is a column is read from the column of its name; each field named in
    `secret` from its `*_enc` column, decrypted with the cipher the call passes; `convert`
    turns a value read into the field's (a list into a tuple...); the call gives the rest.
    """

    def __init__(
        self,
        record: type[R],
        model: type[Base],
        *,
        secret: Iterable[str] = (),
        **convert: Callable[[Any], Any],
    ) -> None:
        table: Table = model.__table__  # type: ignore[assignment]
        self.record = record
        self.columns: tuple[Column[Any], ...] = tuple(
            table.c[field.name] for field in fields(record) if field.name in table.c
        )
        self.names = tuple(column.key for column in self.columns)
        # (field, column): the fields stored encrypted, and every field read from the row
        self.encrypted = tuple((name, f"{name}_enc") for name in secret)
        self.reads = tuple((name, name) for name in self.names) + self.encrypted
        self.convert = tuple(convert.items())

    def __call__(self, row: Any, cipher: DataCipher | None = None, **given: Any) -> R:
        mapping = row._mapping if isinstance(row, Row) else row  # or a hot statement's dict
        if isinstance(mapping, Mapping):
            values = {name: mapping[column] for name, column in self.reads}
        else:
            values = {name: getattr(row, column) for name, column in self.reads}
        if self.encrypted:
            assert cipher is not None, f"{self.record.__name__} has encrypted fields"
            for name, _ in self.encrypted:
                values[name] = cipher.decrypt_optional(values[name])
        for name, convert in self.convert:
            values[name] = convert(values[name])
        return self.record(**values, **given)

    def row_values(self, record: R, cipher: DataCipher, **given: Any) -> dict[str, Any]:
        """A record's row, for one read without conversions: its columns, its secret fields
        encrypted; `given` sets columns itself (an `*_enc` encrypted already...)."""
        values = {name: getattr(record, name) for name in self.names}
        for name, column in self.encrypted:
            if column not in given:
                values[column] = cipher.encrypt_optional(getattr(record, name))
        return values | given
