"""The domain's records read from their rows (see `RowReader`): one reader per table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from console.domain.types import (
    Agent,
    Chat,
    Message,
    PageView,
    Tenant,
    Ticket,
    Visitor,
    format_message_id,
)
from console.security.crypto import DataCipher
from console.store.models import (
    AgentRow,
    ChatRow,
    MessageRow,
    PageViewRow,
    RowReader,
    TenantRow,
    TicketRow,
    VisitorRow,
)

read_tenant = RowReader(
    Tenant,
    TenantRow,
    languages=tuple,
    allowed_origins=tuple,
    settings=lambda settings: dict(settings or {}),
)
read_chat = RowReader(Chat, ChatRow)
read_message = RowReader(
    Message,
    MessageRow,
    secret=("text", "attachment"),
    id=format_message_id,
    attachment=lambda shape: None if shape is None else json.loads(shape),
)
read_ticket = RowReader(Ticket, TicketRow, secret=("text", "name", "email", "phone"))
read_page = RowReader(PageView, PageViewRow)
_read_agent = RowReader(Agent, AgentRow, languages=tuple)
_read_visitor = RowReader(Visitor, VisitorRow, secret=("name", "email", "phone"))


def read_agent(row: Any) -> Agent:
    return _read_agent(row, active=row.deactivated_at is None)


def read_visitor(row: Any, cipher: DataCipher, pages: Iterable[Any] = ()) -> Visitor:
    """The visitor, with the pages they viewed (rows, oldest first)."""
    return _read_visitor(row, cipher, pages=tuple(read_page(page) for page in pages))
