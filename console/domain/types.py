"""The small public types of Charla, shared by the hub, `bots/` and `integrations/`.

They hold decrypted values and render the protocol's shapes (PROTOCOL.md, "Shapes").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Literal, Required, TypedDict
from urllib.parse import quote

Plan = Literal["basic", "proactive", "premium"]
Role = Literal["agent", "supervisor", "admin"]
ChatStatus = Literal["queued", "active", "bot", "offline", "closed"]
Author = Literal["visitor", "agent", "bot", "system"]

PLANS: tuple[Plan, ...] = ("basic", "proactive", "premium")
# A gap this long since a visitor was last seen starts a new visit
NEW_VISIT_AFTER = timedelta(minutes=30)
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")
# The roles that see the whole floor: every chat of the tenant, its tiles, its deliveries
SUPERVISING: frozenset[str] = frozenset({"supervisor", "admin"})


class Draft(TypedDict, total=False):
    """A message before the store keeps it (the store gives it its id and time): who
    writes what. A `client_msg_id` makes a resend of the same sender's message store it
    once; `agent_id` says which agent wrote it."""

    author: Required[Author]
    text: Required[str]
    client_msg_id: str | None
    author_name: str | None
    agent_id: str | None
    # for the chat's agent and supervisors only: never the visitor, never a transcript
    whisper: bool
    # a file sent in the chat (PROTOCOL 1.2, Attachments), as the protocol shows it
    attachment: dict[str, Any] | None


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, as the protocol wants."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _wire_value(value: Any) -> Any:
    """A value as the protocol shows it: a time in ISO 8601, a tuple as a list, a mapping
    copied."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def as_wire(record: Any, *keys: str) -> dict[str, Any]:
    """The record's attributes named `keys` (all its fields when none are named), as the
    protocol shows them."""
    names = keys or [field.name for field in fields(record)]
    return {key: _wire_value(getattr(record, key)) for key in names}


def known(record: object, *keys: str) -> dict[str, Any]:
    """Those of the record's attributes named `keys` that are not None, as the protocol
    shows them: a shape leaves out what is not known."""
    found = {}
    for key in keys:
        value = getattr(record, key)
        if value is not None:
            found[key] = _wire_value(value)
    return found


def format_message_id(number: int) -> str:
    """Zero-padded so that ids sort in storage order as strings and as numbers."""
    return f"{number:012d}"


def parse_message_id(message_id: str) -> int:
    if not message_id.isascii() or not message_id.isdigit() or len(message_id) > 18:
        raise ValueError("a message id is a string of up to 18 digits, as the hub returned it")
    return int(message_id)


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    plan: Plan
    languages: tuple[str, ...]
    timezone: str
    allowed_origins: tuple[str, ...]
    hours: dict[str, list[list[str]]] | None
    holidays: str | None
    bot_enabled: bool
    overflow_after_s: int | None
    site_key: str
    created_at: datetime
    # Options that are not routing (tenants.settings), e.g. the pre-chat form's fields
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def primary_language(self) -> str:
        return self.languages[0]

    def to_wire(self) -> dict[str, Any]:
        return as_wire(self)


@dataclass(frozen=True)
class Agent:
    id: str
    tenant_id: str
    email: str
    name: str
    languages: tuple[str, ...]
    max_chats: int
    role: Role
    created_at: datetime
    active: bool = True

    @property
    def supervises(self) -> bool:
        return self.role in SUPERVISING

    def to_wire(self) -> dict[str, Any]:
        keys = ("id", "tenant_id", "email", "name", "languages", "max_chats", "role")
        return as_wire(self, *keys, "active", "created_at")

    def to_login_wire(self) -> dict[str, Any]:
        return as_wire(self, "id", "name", "tenant_id", "role", "languages")


@dataclass(frozen=True)
class PageView:
    url: str
    title: str | None
    referrer: str | None
    viewed_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return as_wire(self)


@dataclass(frozen=True)
class Visitor:
    id: str
    tenant_id: str
    name: str | None
    email: str | None
    phone: str | None
    visits: int
    first_seen_at: datetime
    pages: tuple[PageView, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "pages": [p.to_wire() for p in self.pages],
            **known(self, "name", "email", "phone"),
            "returning": self.visits > 1,
        }


def attachment_page(attachment_id: str, chat_id: str) -> str:
    """Where the console shows one attachment, with its chat (frontend/console/file.tsx)."""
    return f"/console/#/attachments/{quote(attachment_id, safe='')}?chat={quote(chat_id, safe='')}"


@dataclass(frozen=True)
class Message:
    id: str
    chat_id: str
    author: Author
    text: str
    created_at: datetime
    author_name: str | None = None
    client_msg_id: str | None = None
    # a supervisor's coaching (PROTOCOL 1.2, Supervision): the console's only
    whisper: bool = False
    # {"id", "name", "content_type", "size", "width"?, "height"?} (PROTOCOL 1.2, Attachments)
    attachment: dict[str, Any] | None = None

    @cached_property
    def _created_iso(self) -> str | None:  # a new message goes out twice: ack and delivery
        return iso(self.created_at)

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.id,
            "chat_id": self.chat_id,
            "author": self.author,
            "text": self.text,
            "created_at": self._created_iso,
        }
        if self.author_name is not None:  # a message goes out often: no helper here
            wire["author_name"] = self.author_name
        if self.client_msg_id is not None:
            wire["client_msg_id"] = self.client_msg_id
        if self.whisper:
            wire["whisper"] = True
        if self.attachment is not None:
            wire["attachment"] = dict(self.attachment)
        return wire

    def plain_text(self, link_base: str = "") -> str:
        """The message as a transcript outside the console shows it: an attachment as a
        link to the console's page for it (the dealer's staff sign in there, the download
        itself needs the agent's token), never the file."""
        if self.attachment is None:
            return self.text
        shape = self.attachment
        what = f"{shape.get('name')} ({shape.get('content_type')}, {shape.get('size')} bytes)"
        return f"[{what}: {link_base}{attachment_page(str(shape.get('id')), self.chat_id)}]"


@dataclass(frozen=True)
class Chat:
    id: str
    tenant_id: str
    visitor_id: str
    status: ChatStatus
    language: str
    agent_id: str | None
    priority: int
    overflowed: bool
    close_reason: str | None
    created_at: datetime
    queued_at: datetime | None = None
    assigned_at: datetime | None = None
    first_agent_reply_at: datetime | None = None
    closed_at: datetime | None = None
    abandoned_at: datetime | None = None

    def to_wire(
        self, visitor: Visitor | None = None, messages: list[Message] | None = None
    ) -> dict[str, Any]:
        return {
            "id": self.id,
            "tenant_id": self.tenant_id,
            "status": self.status,
            "language": self.language,
            "visitor": visitor.to_wire() if visitor else {"id": self.visitor_id, "pages": []},
            "created_at": iso(self.created_at),
            "messages": [m.to_wire() for m in messages or []],
            "overflowed": self.overflowed,
            **known(self, "agent_id", "queued_at", "assigned_at", "first_agent_reply_at"),
            **known(self, "closed_at", "abandoned_at", "close_reason"),
        }


@dataclass(frozen=True)
class ChatDay:
    """One chat's timings and rating: the few columns that the floor's tiles read."""

    status: str
    created_at: datetime
    assigned_at: datetime | None
    first_agent_reply_at: datetime | None
    csat_score: int | None
    rated_at: datetime | None
    close_reason: str | None = None


TICKET_STATUSES = ("open", "in_progress", "resolved", "no_contact")
# a ticket still to be worked: its callback can be overdue
TICKET_PENDING = ("open", "in_progress")


@dataclass(frozen=True)
class TicketNote:
    id: str
    agent_id: str | None
    text: str
    created_at: datetime
    author_name: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {**as_wire(self, "id", "text", "created_at"), **known(self, "agent_id")} | known(
            self, "author_name"
        )


@dataclass(frozen=True)
class Ticket:
    """A follow-up: an offline message, a bot's callback promise, an agent's note to self.
    Worked through open -> in_progress -> resolved or no_contact (and reopened)."""

    id: str
    tenant_id: str
    chat_id: str | None
    visitor_id: str | None
    language: str
    reason: str
    status: str
    text: str
    created_at: datetime
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    assignee_id: str | None = None
    # after hours: the next opening, by when the dealer promised to call back
    callback_due_at: datetime | None = None
    updated_at: datetime | None = None
    notes: tuple[TicketNote, ...] = ()

    def overdue(self, now: datetime) -> bool:
        due = self.callback_due_at
        return due is not None and due < now and self.status in TICKET_PENDING

    def to_wire(self, now: datetime | None = None) -> dict[str, Any]:
        wire = {
            **as_wire(self, "id", "tenant_id", "chat_id", "visitor_id", "language", "reason"),
            **as_wire(self, "status", "text", "created_at"),
            **known(self, "name", "email", "phone", "assignee_id", "callback_due_at"),
            **known(self, "updated_at"),
            "notes": [note.to_wire() for note in self.notes],
        }
        if now is not None:
            wire["overdue"] = self.overdue(now)
        return wire
