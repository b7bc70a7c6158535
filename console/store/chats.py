"""The store's chats, their messages and tickets (methods of `Store`).

A chat's state changes are conditional updates (`_transition`): exactly one caller wins a
race for each. Its hot paths are SQLAlchemy Core: a chat start's statements, a chat by id,
and a dispatch run's assignments and first messages as hot statements (store/hot.py: asyncpg
itself on PostgreSQL); a transcript as plain Core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, literal, select, update

from console.domain.types import Chat, Message, Ticket, format_message_id
from console.store.base import StoreBase, tenant_rows
from console.store.hot import Hot, one_of, param
from console.store.models import (
    CHATS,
    MESSAGES,
    TICKETS,
    ChatRow,
    TicketRow,
    UTCDateTime,
    new_id,
)
from console.store.records import read_chat, read_message, read_ticket

OPEN_STATUSES = ("queued", "active", "bot")

# a chat start's statements (store/hot.py), and a chat by id (typing, closing, sync...)
CHAT = Hot(select(CHATS).where(CHATS.c.id == param("id")))
INSERT_CHAT = Hot(insert(CHATS).values({f.name: param(f.name) for f in fields(Chat)}))
MESSAGE_COLUMNS = (
    "chat_id",
    "author",
    "sender",
    "text_enc",
    "client_msg_id",
    "created_at",
    "whisper",
)
INSERT_MESSAGE = Hot(
    insert(MESSAGES)
    .values({name: param(name) for name in MESSAGE_COLUMNS})
    .returning(MESSAGES.c.id)
)
INSERT_TICKET = Hot(insert(TICKETS).values({c.name: param(c.name) for c in TICKETS.c}))
_VISITOR_CHATS: dict[tuple[str, ...], Hot] = {}
# a dispatch run's: its chats assigned to one agent, and their transcripts' first messages
ASSIGN = Hot(
    update(CHATS)
    .where(one_of(CHATS.c.id, "ids"), CHATS.c.status == "queued")
    .values(
        status="active",
        agent_id=param("agent_id"),
        assigned_at=param("at"),
        overflowed=param("overflowed"),
    )
    .returning(CHATS)
)


def _first_messages(*, whispers: bool) -> Hot:
    query = select(
        MESSAGES,
        func.row_number().over(partition_by=MESSAGES.c.chat_id, order_by=MESSAGES.c.id).label("n"),
    ).where(one_of(MESSAGES.c.chat_id, "ids"))
    if not whispers:
        query = query.where(MESSAGES.c.whisper.is_(False))
    numbered = query.subquery()
    return Hot(
        select(*(numbered.c[c.name] for c in MESSAGES.c))
        .where(numbered.c.n <= param("limit"))
        .order_by(numbered.c.id)
    )


FIRST_MESSAGES = _first_messages(whispers=True)
FIRST_MESSAGES_NO_WHISPERS = _first_messages(whispers=False)


def visitor_chats(statuses: Sequence[str]) -> Hot:
    """A visitor's chats in these statuses, oldest first (one statement per set of them)."""
    key = tuple(statuses)
    hot = _VISITOR_CHATS.get(key)
    if hot is None:
        hot = _VISITOR_CHATS[key] = Hot(
            select(CHATS)
            .where(CHATS.c.visitor_id == param("visitor_id"), CHATS.c.status.in_(key))
            .order_by(CHATS.c.created_at)
        )
    return hot


visitor_chats(OPEN_STATUSES)  # a start's, made now so that `hot.warm` readies it


class ChatStore(StoreBase):
    async def start_chat(
        self,
        *,
        tenant_id: str,
        visitor_id: str,
        language: str,
        status: str,
        text: str,
        client_msg_id: str | None,
        priority: int = 0,
        ticket_reason: str | None = None,
        contact: dict[str, str | None] | None = None,
        callback_due_at: datetime | None = None,
    ) -> tuple[Chat, Message, Ticket | None]:
        """The chat, the visitor's first message and (when offline) the ticket, together.

        Core inserts, and the records built from what was written: an ORM unit of work
        (identity map, flush, refresh) cost several times the two statements."""
        now = self.clock.now()
        chat = Chat(
            id=new_id(),
            tenant_id=tenant_id,
            visitor_id=visitor_id,
            status=status,  # type: ignore[arg-type]  # one of ChatStatus, from the hub
            language=language,
            agent_id=None,
            priority=priority,
            overflowed=False,
            close_reason=None,
            created_at=now,
            queued_at=now if status == "queued" else None,
        )
        text_enc = self.cipher.encrypt(text)
        ticket = ticket_row = None
        if ticket_reason is not None:
            contact = contact or {}
            ticket = Ticket(
                id=new_id(),
                tenant_id=tenant_id,
                chat_id=chat.id,
                visitor_id=visitor_id,
                language=language,
                reason=ticket_reason,
                status="open",
                text=text,
                created_at=now,
                name=contact.get("name"),
                email=contact.get("email"),
                phone=contact.get("phone"),
                callback_due_at=callback_due_at,
            )
            ticket_row = read_ticket.row_values(ticket, self.cipher, text_enc=text_enc)
        async with self.hot.transaction() as db:
            await db.rows(INSERT_CHAT, **asdict(chat))
            (first,) = await db.rows(  # its one row: the message's id
                INSERT_MESSAGE,
                chat_id=chat.id,
                author="visitor",
                sender="visitor",
                text_enc=text_enc,
                client_msg_id=client_msg_id,
                created_at=now,
                whisper=False,
            )
            if ticket_row is not None:
                await db.rows(INSERT_TICKET, **ticket_row)
        message_id = first["id"]
        message = Message(
            id=format_message_id(message_id),
            chat_id=chat.id,
            author="visitor",
            text=text,
            created_at=now,
            client_msg_id=client_msg_id,
        )
        return chat, message, ticket

    async def get_chat(self, chat_id: str) -> Chat | None:
        row = await self.hot.row(CHAT, id=chat_id)
        return read_chat(row) if row else None

    async def list_chats(
        self,
        *,
        tenant_id: str | None = None,
        statuses: Sequence[str] = OPEN_STATUSES,
        agent_id: str | None = None,
        visitor_id: str | None = None,
    ) -> list[Chat]:
        if visitor_id is not None and tenant_id is None and agent_id is None:  # hot: a start's
            rows = await self.hot.rows(visitor_chats(statuses), visitor_id=visitor_id)
            return [read_chat(row) for row in rows]
        query = select(CHATS).where(CHATS.c.status.in_(list(statuses)))
        if tenant_id is not None:
            query = query.where(CHATS.c.tenant_id == tenant_id)
        if agent_id is not None:
            query = query.where(CHATS.c.agent_id == agent_id)
        if visitor_id is not None:
            query = query.where(CHATS.c.visitor_id == visitor_id)
        return [read_chat(r) for r in await self.read_rows(query.order_by(CHATS.c.created_at))]

    async def _transition(
        self,
        chat_id: str,
        *,
        where_status: Sequence[str],
        values: dict[str, Any],
        where_agent: str | None = None,
    ) -> Chat | None:
        """A conditional status change: exactly one caller wins a race for it."""
        query = update(CHATS).where(CHATS.c.id == chat_id, CHATS.c.status.in_(where_status))
        if where_agent is not None:
            query = query.where(CHATS.c.agent_id == where_agent)
        async with self.engine.begin() as conn:
            row = (await conn.execute(query.values(values).returning(CHATS))).first()
        return read_chat(row) if row is not None else None

    async def assign_chat(self, chat_id: str, agent_id: str, *, overflowed: bool) -> Chat | None:
        """One chat to one agent (`assign_chats`' way): None when it was no longer queued."""
        return (await self.assign_chats([(chat_id, agent_id, overflowed)])).get(chat_id)

    async def assign_chats(self, given: Sequence[tuple[str, str, bool]]) -> dict[str, Chat]:
        """What a dispatch run gave (chat, agent, overflowed), recorded in one transaction:
        one conditional update per agent (and overflow), not one transaction per chat. The
        chats still queued are returned; one that was not (closed meanwhile) is left out."""
        groups: dict[tuple[str, bool], list[str]] = {}
        for chat_id, agent_id, overflowed in given:
            groups.setdefault((agent_id, overflowed), []).append(chat_id)
        now = self.clock.now()
        assigned: dict[str, Chat] = {}
        async with self.hot.transaction() as db:
            for (agent_id, overflowed), chat_ids in groups.items():
                for row in await db.rows(
                    ASSIGN, ids=chat_ids, agent_id=agent_id, at=now, overflowed=overflowed
                ):
                    assigned[row["id"]] = read_chat(row)
        return assigned

    async def move_chat(self, chat_id: str, from_agent: str, to_agent: str) -> Chat | None:
        return await self._transition(
            chat_id,
            where_status=("active",),
            where_agent=from_agent,
            values={"agent_id": to_agent, "assigned_at": self.clock.now()},
        )

    async def requeue_chat(
        self, chat_id: str, *, language: str, priority: int, from_agent: str | None = None
    ) -> Chat | None:
        return await self._transition(
            chat_id,
            where_status=("active", "bot", "queued"),
            where_agent=from_agent,
            values={
                "status": "queued",
                "agent_id": None,
                "language": language,
                "priority": priority,
                # the first time it queued stays: waits are measured from it
                "queued_at": func.coalesce(
                    CHATS.c.queued_at, literal(self.clock.now(), UTCDateTime())
                ),
            },
        )

    async def close_chat(
        self, chat_id: str, reason: str, *, disposition: str | None = None
    ) -> Chat | None:
        values: dict[str, Any] = {
            "status": "closed",
            "closed_at": self.clock.now(),
            "close_reason": reason,
        }
        if disposition is not None:
            values["disposition"] = disposition
        return await self._transition(chat_id, where_status=OPEN_STATUSES, values=values)

    async def abandon_chat(self, chat_id: str) -> Chat | None:
        now = self.clock.now()
        return await self._transition(
            chat_id,
            where_status=("queued",),
            values={
                "status": "closed",
                "closed_at": now,
                "abandoned_at": now,
                "close_reason": "abandoned",
            },
        )

    async def average_handle_time(
        self, tenant_id: str, *, default: float, sample: int = 50
    ) -> float:
        async with self.reading() as s:
            rows = (
                await s.execute(
                    select(ChatRow.assigned_at, ChatRow.closed_at)
                    .where(
                        ChatRow.tenant_id == tenant_id,
                        ChatRow.status == "closed",
                        ChatRow.assigned_at.is_not(None),
                    )
                    .order_by(ChatRow.closed_at.desc())
                    .limit(sample)
                )
            ).all()
        spans = [(c - a).total_seconds() for a, c in rows if a and c and c > a]
        return sum(spans) / len(spans) if spans else default

    # -- messages ------------------------------------------------------------------------

    async def list_messages(
        self,
        chat_id: str,
        *,
        after: int | None = None,
        limit: int = 1000,
        whispers: bool = False,
    ) -> list[Message]:
        """The chat's messages in order; supervisors' whispers only with `whispers` (the
        console's reads: every transcript for the visitor or outside leaves them out)."""
        query = select(MESSAGES).where(MESSAGES.c.chat_id == chat_id)
        if not whispers:
            query = query.where(MESSAGES.c.whisper.is_(False))
        if after is not None:
            query = query.where(MESSAGES.c.id > after)
        rows = await self.read_rows(query.order_by(MESSAGES.c.id).limit(limit))
        return [read_message(r, self.cipher) for r in rows]

    async def first_messages(
        self, chat_ids: Sequence[str], *, limit: int, whispers: bool = False
    ) -> dict[str, list[Message]]:
        """`list_messages` of several chats in one query: each chat's first `limit`."""
        statement = FIRST_MESSAGES if whispers else FIRST_MESSAGES_NO_WHISPERS
        rows = await self.hot.rows(statement, ids=list(chat_ids), limit=limit)
        found: dict[str, list[Message]] = {chat_id: [] for chat_id in chat_ids}
        for row in rows:
            found[row["chat_id"]].append(read_message(row, self.cipher))
        return found

    # -- tickets -------------------------------------------------------------------------

    async def add_ticket(
        self,
        *,
        tenant_id: str,
        chat_id: str | None,
        visitor_id: str | None,
        language: str,
        reason: str,
        text: str,
        name: str | None,
        email: str | None,
        phone: str | None,
        callback_due_at: datetime | None = None,
    ) -> Ticket:
        """A ticket written after the chat began: by an agent, or by the bot it could not
        hand to anyone (an offline start_chat writes its own, with the chat)."""
        ticket = Ticket(
            id=new_id(),
            tenant_id=tenant_id,
            chat_id=chat_id,
            visitor_id=visitor_id,
            language=language,
            reason=reason,
            status="open",
            text=text,
            created_at=self.clock.now(),
            name=name,
            email=email,
            phone=phone,
            callback_due_at=callback_due_at,
        )
        await self.add(TicketRow(**read_ticket.row_values(ticket, self.cipher)))
        return ticket

    async def list_tickets(self, tenant_id: str, *, limit: int = 200) -> list[Ticket]:
        async with self.reading() as s:
            rows = await s.scalars(
                tenant_rows(TicketRow, tenant_id, TicketRow.created_at.desc()).limit(limit)
            )
            return [read_ticket(r, self.cipher) for r in rows]
