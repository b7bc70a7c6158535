"""The store's one interface. Every method is one short transaction.

Encryption at rest happens here, so nothing above the store handles ciphertext and nothing
below it sees plaintext. Redaction of what visitors type happens earlier, in the hub.

`Store` holds the tenants, agents and visitors; its chats, messages and tickets are in
console/store/chats.py; the other parts are its attributes (`store.leads`...).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from console.domain.clock import Clock
from console.domain.types import NEW_VISIT_AFTER, Agent, PageView, Tenant, Visitor
from console.security.crypto import DataCipher
from console.store.agreements import AgreementRepository
from console.store.attachments import AttachmentRepository
from console.store.audit import AuditRepository
from console.store.base import assign, contact_values
from console.store.billing import BillingRepository
from console.store.billing_models import PlanChangeRow
from console.store.bots import BotRepository
from console.store.chats import OPEN_STATUSES, ChatStore
from console.store.engagement import EngagementRepository
from console.store.floor import FloorRepository
from console.store.history import HistoryRepository
from console.store.hot import Hot, one_of, param
from console.store.incidents import IncidentRepository
from console.store.integrations import IntegrationRepository
from console.store.invoices import InvoiceRepository
from console.store.leads import LeadRepository
from console.store.messages import MessageWriter
from console.store.mfa import MfaRepository
from console.store.models import (
    AGENTS,
    PAGE_VIEWS,
    TENANTS,
    VISITORS,
    AgentRow,
    InvitationRow,
    PageViewRow,
    TenantRow,
    VisitorRow,
    new_id,
)
from console.store.outbox import OutboxRepository
from console.store.privacy import PrivacyRepository
from console.store.records import read_agent, read_tenant, read_visitor
from console.store.reports import ReportsRepository
from console.store.retention import RetentionRepository
from console.store.tenant_config import TenantConfigRepository
from console.store.tickets import TicketRepository
from console.store.transcripts import TranscriptRequests

__all__ = ["OPEN_STATUSES", "Store", "StoreConflictError"]
PAGES_KEPT_PER_VISITOR = 50


# a chat start's reads (store/hot.py)
TENANT = Hot(select(TENANTS).where(TENANTS.c.id == param("id")))
VISITOR = Hot(select(VISITORS).where(VISITORS.c.id == param("id")))
PAGES = Hot(
    select(PAGE_VIEWS)
    .where(PAGE_VIEWS.c.visitor_id == param("visitor_id"))
    .order_by(PAGE_VIEWS.c.id.desc())
    .limit(PAGES_KEPT_PER_VISITOR)
)

VISITORS_BY_ID = Hot(select(VISITORS).where(one_of(VISITORS.c.id, "ids")))
_numbered_pages = (
    select(
        PAGE_VIEWS,
        func.row_number()
        .over(partition_by=PAGE_VIEWS.c.visitor_id, order_by=PAGE_VIEWS.c.id.desc())
        .label("n"),
    )
    .where(one_of(PAGE_VIEWS.c.visitor_id, "ids"))
    .subquery()
)
PAGES_OF_VISITORS = Hot(
    select(*(_numbered_pages.c[c.name] for c in PAGE_VIEWS.c))
    .where(_numbered_pages.c.n <= PAGES_KEPT_PER_VISITOR)
    .order_by(_numbered_pages.c.id)
)


class StoreConflictError(Exception):
    """A uniqueness rule was broken (e.g. an agent e-mail that exists already)."""


class Store(ChatStore):
    def __init__(
        self, engine: AsyncEngine, cipher: DataCipher, *, clock: Clock | None = None
    ) -> None:
        super().__init__(engine, cipher, clock=clock)
        self.leads = LeadRepository(self)
        self.engagement = EngagementRepository(self)
        self.bots = BotRepository(self)
        self.config = TenantConfigRepository(self)
        self.floor = FloorRepository(self)
        self.outbox = OutboxRepository(self)
        self.integrations = IntegrationRepository(self)
        self.audit = AuditRepository(self)
        self.mfa = MfaRepository(self)
        self.privacy = PrivacyRepository(self)
        self.retention = RetentionRepository(self)
        self.incidents = IncidentRepository(self)
        self.agreements = AgreementRepository(self)
        self.reports = ReportsRepository(self)
        self.tickets = TicketRepository(self)
        self.billing = BillingRepository(self)
        self.invoices = InvoiceRepository(self)
        self.history = HistoryRepository(self)
        self.attachments = AttachmentRepository(self)
        self.transcripts = TranscriptRequests(self)
        self.messages = MessageWriter(engine, cipher, clock=self.clock)
        # Store a message (group commit), with the chat as its transaction saw it: see
        # MessageWriter.post. An attribute, so that a test can wrap it.
        self.post_message = self.messages.post

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()

    # -- tenants -------------------------------------------------------------------------

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
            await s.flush()
            s.add(PlanChangeRow(tenant_id=row.id, plan=plan, at=now))  # billing's history
        return read_tenant(row)

    async def update_tenant(self, tenant_id: str, changes: dict[str, Any]) -> Tenant | None:
        async with self.session() as s, s.begin():
            row = await s.get(TenantRow, tenant_id)
            if row is None:
                return None
            now = self.clock.now()
            if changes.get("plan", row.plan) != row.plan:  # billing prorates by its history
                s.add(PlanChangeRow(tenant_id=row.id, plan=changes["plan"], at=now))
            assign(row, changes)
            row.updated_at = now
        return read_tenant(row)

    async def get_tenant(self, tenant_id: str) -> Tenant | None:
        row = await self.hot.row(TENANT, id=tenant_id)
        return read_tenant(row) if row else None

    async def get_tenant_by_site_key(self, site_key: str) -> Tenant | None:
        row = await self.read_row(select(TENANTS).where(TENANTS.c.site_key == site_key))
        return read_tenant(row) if row else None

    async def list_tenants(self) -> list[Tenant]:
        async with self.reading() as s:
            rows = await s.scalars(select(TenantRow).order_by(TenantRow.created_at))
            return [read_tenant(r) for r in rows]

    # -- agents --------------------------------------------------------------------------

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
            await self.add(row)
        except IntegrityError:
            raise StoreConflictError(f"an agent with e-mail {row.email} exists already") from None
        return read_agent(row)

    async def get_agent(self, agent_id: str) -> Agent | None:
        row = await self.read_row(select(AGENTS).where(AGENTS.c.id == agent_id))
        return read_agent(row) if row else None

    async def get_agent_login(self, email: str) -> tuple[Agent, str] | None:
        async with self.reading() as s:
            row = await s.scalar(select(AgentRow).where(AgentRow.email == email.strip().lower()))
            return (read_agent(row), row.password_hash) if row else None

    async def set_password_hash(self, agent_id: str, password_hash: str) -> None:
        await self.write(
            update(AgentRow).where(AgentRow.id == agent_id).values(password_hash=password_hash)
        )

    async def list_agents(self, tenant_id: str | None = None) -> list[Agent]:
        query = select(AgentRow).order_by(AgentRow.created_at)
        if tenant_id is not None:
            query = query.where(AgentRow.tenant_id == tenant_id)
        async with self.reading() as s:
            return [read_agent(r) for r in await s.scalars(query)]

    # -- visitors ------------------------------------------------------------------------

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
        return read_visitor(row, self.cipher)

    async def get_visitor(self, visitor_id: str, *, pages: bool = True) -> Visitor | None:
        """A visitor, with the pages they viewed (unless `pages` is False)."""
        row = await self.hot.row(VISITOR, id=visitor_id)
        if row is None:
            return None
        if not pages:
            return read_visitor(row, self.cipher)
        viewed = await self.hot.rows(PAGES, visitor_id=visitor_id)
        return read_visitor(row, self.cipher, reversed(viewed))

    async def get_visitors(self, visitor_ids: Sequence[str]) -> dict[str, Visitor]:
        """`get_visitor` (with pages) of several visitors in two queries, not two each."""
        ids = list(set(visitor_ids))
        rows, pages = await asyncio.gather(
            self.hot.rows(VISITORS_BY_ID, ids=ids), self.hot.rows(PAGES_OF_VISITORS, ids=ids)
        )
        viewed: dict[str, list[Any]] = {visitor_id: [] for visitor_id in ids}
        for page in pages:
            viewed[page["visitor_id"]].append(page)
        return {row["id"]: read_visitor(row, self.cipher, viewed[row["id"]]) for row in rows}

    async def update_visitor_contact(
        self,
        visitor_id: str,
        *,
        name: str | None,
        email: str | None,
        phone: str | None,
        tenant_id: str | None = None,
    ) -> None:
        """Encrypted, and (given the tenant) as History's keyed hashes too."""
        values = contact_values(self.cipher, name=name, email=email, phone=phone)
        if values:
            await self.write(update(VisitorRow).where(VisitorRow.id == visitor_id).values(values))
            if tenant_id is not None:
                await self.history.index_contact(
                    tenant_id, visitor_id, name=name, email=email, phone=phone
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
