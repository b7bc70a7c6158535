"""The store's one interface. Every method is one short transaction.

Encryption at rest happens here, so nothing above the store handles ciphertext and nothing
below it sees plaintext. Redaction of what visitors type happens earlier, in the hub.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Row, func, insert, literal, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from console.domain.clock import Clock, SystemClock
from console.domain.types import (
    NEW_VISIT_AFTER,
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
from console.store.bots import BotRepository
from console.store.engagement import EngagementRepository
from console.store.floor import FloorRepository
from console.store.integrations import IntegrationRepository
from console.store.leads import LeadRepository
from console.store.messages import MessageWriter
from console.store.models import (
    AGENTS,
    CHATS,
    MESSAGES,
    PAGE_VIEWS,
    TENANTS,
    TICKETS,
    VISITORS,
    AgentRow,
    ChatRow,
    InvitationRow,
    MessageRow,
    PageViewRow,
    TenantRow,
    TicketRow,
    UTCDateTime,
    VisitorRow,
    column_values,
    new_id,
)
from console.store.outbox import OutboxRepository
from console.store.tenant_config import TenantConfigRepository

OPEN_STATUSES = ("queued", "active", "bot")
PAGES_KEPT_PER_VISITOR = 50


class StoreConflictError(Exception):
    """A uniqueness rule was broken (e.g. an agent e-mail that exists already)."""


class Store:
    def __init__(
        self, engine: AsyncEngine, cipher: DataCipher, *, clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.clock: Clock = clock or SystemClock()
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # Reads on PostgreSQL run outside a transaction: one round trip per query instead of
        # BEGIN, the query and ROLLBACK (each statement still sees committed data, as in the
        # READ COMMITTED transaction it replaces). SQLite reads are in-process: unchanged.
        reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._reads = async_sessionmaker(reads, expire_on_commit=False)
        self._read_engine = reads
        self.leads = LeadRepository(self._sessions, cipher, self._row, self.clock)
        self.engagement = EngagementRepository(self)
        self.bots = BotRepository(self._sessions, cipher)
        self.config = TenantConfigRepository(self)
        self.floor = FloorRepository(self)
        self.outbox = OutboxRepository(self._sessions, cipher, self.clock)
        self.integrations = IntegrationRepository(self._sessions, cipher, self.clock)
        self.messages = MessageWriter(engine, cipher, self._chat, clock=self.clock)
        # Store a message (group commit), with the chat as its transaction saw it: see
        # MessageWriter.post. An attribute, so that a test can wrap it.
        self.post_message = self.messages.post

    def session(self) -> AsyncSession:
        return self._sessions()

    def reading(self) -> AsyncSession:
        """A session for reads only (no writes: on PostgreSQL it has no transaction)."""
        return self._reads()

    # The hot reads (a chat start, an assignment, a transcript) go through SQLAlchemy Core:
    # an ORM session's identity map and entity loading cost more CPU than the query itself.
    async def _rows(self, query: Executable) -> Sequence[Row[Any]]:
        async with self._read_engine.connect() as conn:
            return (await conn.execute(query)).all()

    async def _row(self, query: Executable) -> Row[Any] | None:
        rows = await self._rows(query)
        return rows[0] if rows else None

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    # -- tenants -------------------------------------------------------------------------

    @staticmethod
    def _tenant(row: Any) -> Tenant:
        return Tenant(
            id=row.id,
            name=row.name,
            plan=row.plan,
            languages=tuple(row.languages),
            timezone=row.timezone,
            allowed_origins=tuple(row.allowed_origins),
            hours=row.hours,
            holidays=row.holidays,
            bot_enabled=row.bot_enabled,
            overflow_after_s=row.overflow_after_s,
            site_key=row.site_key,
            created_at=row.created_at,
            settings=dict(row.settings or {}),
        )

    async def create_tenant(
        self,
        *,
        name: str,
        plan: str,
        languages: Sequence[str],
        timezone: str,
        allowed_origins: Sequence[str],
        hours: dict[str, list[list[str]]] | None = None,
        holidays: str | None = None,
        bot_enabled: bool = False,
        overflow_after_s: int | None = None,
        tenant_id: str | None = None,
        site_key: str | None = None,
    ) -> Tenant:
        now = self.clock.now()
        row = TenantRow(
            id=tenant_id or new_id(),
            name=name,
            plan=plan,
            languages=list(languages),
            timezone=timezone,
            allowed_origins=list(allowed_origins),
            hours=hours,
            holidays=holidays,
            bot_enabled=bot_enabled,
            overflow_after_s=overflow_after_s,
            site_key=site_key or f"sk_{secrets.token_urlsafe(18)}",
            created_at=now,
            updated_at=now,
        )
        async with self.session() as s, s.begin():
            s.add(row)
        return self._tenant(row)

    async def update_tenant(self, tenant_id: str, changes: dict[str, Any]) -> Tenant | None:
        async with self.session() as s, s.begin():
            row = await s.get(TenantRow, tenant_id)
            if row is None:
                return None
            for key, value in changes.items():
                setattr(row, key, list(value) if isinstance(value, tuple) else value)
            row.updated_at = self.clock.now()
        return self._tenant(row)

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = await self._row(select(TENANTS).where(TENANTS.c.id == tenant_id))
        return self._tenant(row) if row else None

    async def get_tenant_by_site_key(self, site_key: str) -> Tenant | None:
        row = await self._row(select(TENANTS).where(TENANTS.c.site_key == site_key))
        return self._tenant(row) if row else None

    async def list_tenants(self) -> list[Tenant]:
        async with self.reading() as s:
            rows = await s.scalars(select(TenantRow).order_by(TenantRow.created_at))
            return [self._tenant(r) for r in rows]

    # -- agents --------------------------------------------------------------------------

    @staticmethod
    def _agent(row: Any) -> Agent:
        return Agent(
            id=row.id,
            tenant_id=row.tenant_id,
            email=row.email,
            name=row.name,
            languages=tuple(row.languages),
            max_chats=row.max_chats,
            role=row.role,
            created_at=row.created_at,
            active=row.deactivated_at is None,
        )

    async def create_agent(
        self,
        *,
        tenant_id: str,
        email: str,
        name: str,
        password_hash: str,
        languages: Sequence[str],
        max_chats: int,
        role: str,
    ) -> Agent:
        row = AgentRow(
            id=new_id(),
            tenant_id=tenant_id,
            email=email.strip().lower(),
            name=name,
            password_hash=password_hash,
            languages=list(languages),
            max_chats=max_chats,
            role=role,
            created_at=self.clock.now(),
        )
        try:
            async with self.session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            raise StoreConflictError(f"an agent with e-mail {row.email} exists already") from None
        return self._agent(row)

    async def get_agent(self, agent_id: str) -> Agent | None:
        row = await self._row(select(AGENTS).where(AGENTS.c.id == agent_id))
        return self._agent(row) if row else None

    async def get_agent_login(self, email: str) -> tuple[Agent, str] | None:
        async with self.reading() as s:
            row = await s.scalar(select(AgentRow).where(AgentRow.email == email.strip().lower()))
            return (self._agent(row), row.password_hash) if row else None

    async def set_password_hash(self, agent_id: str, password_hash: str) -> None:
        async with self.session() as s, s.begin():
            await s.execute(
                update(AgentRow).where(AgentRow.id == agent_id).values(password_hash=password_hash)
            )

    async def list_agents(self, tenant_id: str | None = None) -> list[Agent]:
        query = select(AgentRow).order_by(AgentRow.created_at)
        if tenant_id is not None:
            query = query.where(AgentRow.tenant_id == tenant_id)
        async with self.reading() as s:
            return [self._agent(r) for r in await s.scalars(query)]

    # -- visitors ------------------------------------------------------------------------

    def _visitor(self, row: Any, pages: Sequence[Any] = ()) -> Visitor:
        return Visitor(
            id=row.id,
            tenant_id=row.tenant_id,
            name=self.cipher.decrypt_optional(row.name_enc),
            email=self.cipher.decrypt_optional(row.email_enc),
            phone=self.cipher.decrypt_optional(row.phone_enc),
            visits=row.visits,
            first_seen_at=row.first_seen_at,
            pages=tuple(
                PageView(url=p.url, title=p.title, referrer=p.referrer, viewed_at=p.viewed_at)
                for p in pages
            ),
        )

    async def visitor_arrives(self, tenant_id: str, visitor_id: str | None) -> Visitor:
        """The visitor of a new connection: the known one if the id is this tenant's.

        A gap of more than half an hour since the last sighting starts a new visit.
        """
        now = self.clock.now()
        async with self.session() as s, s.begin():
            row = await s.get(VisitorRow, visitor_id) if visitor_id else None
            if row is None or row.tenant_id != tenant_id:
                row = VisitorRow(
                    id=new_id(),
                    tenant_id=tenant_id,
                    visits=1,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                s.add(row)
            else:
                if now - row.last_seen_at > NEW_VISIT_AFTER:
                    row.visits += 1
                    # the last visit's unanswered invitations were ignored
                    await s.execute(
                        update(InvitationRow)
                        .where(InvitationRow.visitor_id == row.id, InvitationRow.status == "shown")
                        .values(status="ignored")
                    )
                row.last_seen_at = now
        return self._visitor(row)

    async def get_visitor(self, visitor_id: str, *, pages: bool = True) -> Visitor | None:
        """A visitor, with the pages they viewed (unless `pages` is False)."""
        row = await self._row(select(VISITORS).where(VISITORS.c.id == visitor_id))
        if row is None:
            return None
        if not pages:
            return self._visitor(row)
        viewed = await self._rows(
            select(PAGE_VIEWS)
            .where(PAGE_VIEWS.c.visitor_id == visitor_id)
            .order_by(PAGE_VIEWS.c.id.desc())
            .limit(PAGES_KEPT_PER_VISITOR)
        )
        return self._visitor(row, list(reversed(viewed)))

    async def update_visitor_contact(
        self, visitor_id: str, *, name: str | None, email: str | None, phone: str | None
    ) -> None:
        values: dict[str, str] = {}
        for key, value in (("name", name), ("email", email), ("phone", phone)):
            if value:
                values[f"{key}_enc"] = self.cipher.encrypt(value)
        if values:
            async with self.session() as s, s.begin():
                await s.execute(
                    update(VisitorRow).where(VisitorRow.id == visitor_id).values(values)
                )

    async def add_page_view(
        self, visitor_id: str, *, url: str, title: str | None, referrer: str | None
    ) -> PageView:
        now = self.clock.now()
        async with self.session() as s, s.begin():
            s.add(
                PageViewRow(
                    visitor_id=visitor_id, url=url, title=title, referrer=referrer, viewed_at=now
                )
            )
            await s.execute(
                update(VisitorRow).where(VisitorRow.id == visitor_id).values(last_seen_at=now)
            )
        return PageView(url=url, title=title, referrer=referrer, viewed_at=now)

    # -- chats ---------------------------------------------------------------------------

    @staticmethod
    def _chat(row: Any) -> Chat:
        return Chat(
            id=row.id,
            tenant_id=row.tenant_id,
            visitor_id=row.visitor_id,
            status=row.status,
            language=row.language,
            agent_id=row.agent_id,
            priority=row.priority,
            overflowed=row.overflowed,
            close_reason=row.close_reason,
            created_at=row.created_at,
            queued_at=row.queued_at,
            assigned_at=row.assigned_at,
            first_agent_reply_at=row.first_agent_reply_at,
            closed_at=row.closed_at,
            abandoned_at=row.abandoned_at,
        )

    def _message(self, row: Any) -> Message:
        return Message(
            id=format_message_id(row.id),
            chat_id=row.chat_id,
            author=row.author,
            text=self.cipher.decrypt(row.text_enc),
            created_at=row.created_at,
            author_name=row.author_name,
            client_msg_id=row.client_msg_id,
        )

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
    ) -> tuple[Chat, Message, Ticket | None]:
        """The chat, the visitor's first message and (when offline) the ticket, together.

        Core inserts, and the chat and message built from what was written: an ORM unit of
        work (identity map, flush, refresh) cost several times the two statements."""
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
        ticket = None
        if ticket_reason is not None:
            ticket = self._ticket_row(
                tenant_id=tenant_id,
                chat_id=chat.id,
                visitor_id=visitor_id,
                language=language,
                reason=ticket_reason,
                contact=contact or {},
                text_enc=text_enc,
                created_at=now,
            )
        async with self.engine.begin() as conn:
            await conn.execute(insert(CHATS), asdict(chat))  # Chat's fields are columns
            message_id = (
                await conn.execute(
                    insert(MESSAGES).returning(MESSAGES.c.id),
                    {
                        "chat_id": chat.id,
                        "author": "visitor",
                        "sender": "visitor",
                        "text_enc": text_enc,
                        "client_msg_id": client_msg_id,
                        "created_at": now,
                    },
                )
            ).scalar_one()
            if ticket is not None:
                await conn.execute(insert(TICKETS), column_values(ticket, TICKETS))
        message = Message(
            id=format_message_id(message_id),
            chat_id=chat.id,
            author="visitor",
            text=text,
            created_at=now,
            client_msg_id=client_msg_id,
        )
        return chat, message, self._ticket(ticket) if ticket is not None else None

    async def get_chat(self, chat_id: str) -> Chat | None:
        row = await self._row(select(CHATS).where(CHATS.c.id == chat_id))
        return self._chat(row) if row else None

    async def list_chats(
        self,
        *,
        tenant_id: str | None = None,
        statuses: Sequence[str] = OPEN_STATUSES,
        agent_id: str | None = None,
        visitor_id: str | None = None,
    ) -> list[Chat]:
        query = select(CHATS).where(CHATS.c.status.in_(list(statuses)))
        if tenant_id is not None:
            query = query.where(CHATS.c.tenant_id == tenant_id)
        if agent_id is not None:
            query = query.where(CHATS.c.agent_id == agent_id)
        if visitor_id is not None:
            query = query.where(CHATS.c.visitor_id == visitor_id)
        return [self._chat(r) for r in await self._rows(query.order_by(CHATS.c.created_at))]

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
        return self._chat(row) if row is not None else None

    async def assign_chat(self, chat_id: str, agent_id: str, *, overflowed: bool) -> Chat | None:
        return await self._transition(
            chat_id,
            where_status=("queued",),
            values={
                "status": "active",
                "agent_id": agent_id,
                "assigned_at": self.clock.now(),
                "overflowed": overflowed,
            },
        )

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
        self, chat_id: str, *, after: int | None = None, limit: int = 1000
    ) -> list[Message]:
        query = select(MESSAGES).where(MESSAGES.c.chat_id == chat_id)
        if after is not None:
            query = query.where(MESSAGES.c.id > after)
        rows = await self._rows(query.order_by(MESSAGES.c.id).limit(limit))
        return [self._message(r) for r in rows]

    async def count_messages(self, chat_id: str) -> int:
        async with self.reading() as s:
            return int(
                await s.scalar(select(func.count()).where(MessageRow.chat_id == chat_id)) or 0
            )

    # -- tickets -------------------------------------------------------------------------

    def _ticket(self, row: TicketRow) -> Ticket:
        return Ticket(
            id=row.id,
            tenant_id=row.tenant_id,
            chat_id=row.chat_id,
            visitor_id=row.visitor_id,
            language=row.language,
            reason=row.reason,
            status=row.status,
            text=self.cipher.decrypt(row.text_enc),
            created_at=row.created_at,
            name=self.cipher.decrypt_optional(row.name_enc),
            email=self.cipher.decrypt_optional(row.email_enc),
            phone=self.cipher.decrypt_optional(row.phone_enc),
        )

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
    ) -> Ticket:
        """A ticket written after the chat began: by an agent, or by the bot it could not
        hand to anyone (an offline start_chat writes its own, with the chat)."""
        row = self._ticket_row(
            tenant_id=tenant_id,
            chat_id=chat_id,
            visitor_id=visitor_id,
            language=language,
            reason=reason,
            contact={"name": name, "email": email, "phone": phone},
            text_enc=self.cipher.encrypt(text),
            created_at=self.clock.now(),
        )
        async with self.session() as s, s.begin():
            s.add(row)
        return self._ticket(row)

    def _ticket_row(
        self,
        *,
        tenant_id: str,
        chat_id: str | None,
        visitor_id: str | None,
        language: str,
        reason: str,
        contact: Mapping[str, str | None],
        text_enc: str,
        created_at: datetime,
    ) -> TicketRow:
        """An open ticket, its contact details encrypted (the text is already)."""
        return TicketRow(
            id=new_id(),
            tenant_id=tenant_id,
            chat_id=chat_id,
            visitor_id=visitor_id,
            language=language,
            reason=reason,
            status="open",
            name_enc=self.cipher.encrypt_optional(contact.get("name")),
            email_enc=self.cipher.encrypt_optional(contact.get("email")),
            phone_enc=self.cipher.encrypt_optional(contact.get("phone")),
            text_enc=text_enc,
            created_at=created_at,
        )

    async def list_tickets(self, tenant_id: str, *, limit: int = 200) -> list[Ticket]:
        async with self.reading() as s:
            rows = await s.scalars(
                select(TicketRow)
                .where(TicketRow.tenant_id == tenant_id)
                .order_by(TicketRow.created_at.desc())
                .limit(limit)
            )
            return [self._ticket(r) for r in rows]

    async def stats_since(self, tenant_id: str, since: datetime) -> dict[str, int]:
        async with self.reading() as s:
            rows = (
                await s.execute(
                    select(ChatRow.status, func.count())
                    .where(ChatRow.tenant_id == tenant_id, ChatRow.created_at >= since)
                    .group_by(ChatRow.status)
                )
            ).all()
        return {status: int(count) for status, count in rows}
