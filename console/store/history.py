"""Past chats, searched (PROTOCOL 1.2, "Chat history"): by dates, status, agent, language,
lead, and by contact details through their keyed hashes (`contact_keys`), never plaintext.

The hashes are written whenever a visitor's contact details are (`index_contact`), and
rebuilt from the encrypted details when the data key changes (`rebuild`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, delete, exists, func, insert, or_, select

from console.domain.types import iso
from console.security.lookup import PURPOSE, ContactHasher, name_words
from console.store.base import StorePart
from console.store.history_models import ContactKeyRow
from console.store.models import CHATS, LEADS, VISITORS

Progress = Callable[[int, int], None]
PAGE = 50
KEYS: Table = ContactKeyRow.__table__  # type: ignore[assignment]
REBUILD_BATCH = 500
# up to this many people match a phone, an e-mail or name words: their chats are read by
# visitor; beyond, the tenant's chats newest first (bench/history_search.py)
FEW_VISITORS = 1000


@dataclass(frozen=True)
class Search:
    """What History looks for; every field optional but the tenant."""

    tenant_id: str
    start: datetime | None = None
    end: datetime | None = None  # excluded
    statuses: tuple[str, ...] = ()
    agent_id: str | None = None
    language: str | None = None
    phone: str | None = None  # E.164
    email: str | None = None
    name: str | None = None
    has_lead: bool | None = None
    cursor: str | None = None


def encode_cursor(created_at: datetime, chat_id: str) -> str:
    raw = f"{iso(created_at)}|{chat_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """ValueError for a cursor this hub did not give."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, chat_id = raw.split("|", 1)
        return datetime.fromisoformat(at.replace("Z", "+00:00")), chat_id
    except (ValueError, UnicodeDecodeError):
        raise ValueError("cursor: pass next_cursor as the hub gave it") from None


class HistoryRepository(StorePart):
    @property
    def hasher(self) -> ContactHasher:
        return ContactHasher(self.store.cipher.derive(PURPOSE))

    async def index_contact(
        self,
        tenant_id: str,
        visitor_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> None:
        """The visitor's keyed hashes for the details given (each kind given replaces the
        ones of that kind); a detail not given keeps its hashes."""
        found = self.hasher.keys(tenant_id, name=name, email=email, phone=phone)
        kinds = {kind for kind, _ in found}
        if not kinds:
            return
        async with self.store.engine.begin() as conn:
            await conn.execute(
                delete(KEYS).where(KEYS.c.visitor_id == visitor_id, KEYS.c.kind.in_(kinds))
            )
            await conn.execute(
                insert(KEYS),
                [
                    {"visitor_id": visitor_id, "tenant_id": tenant_id, "kind": k, "hash": h}
                    for k, h in dict.fromkeys(found)
                ],
            )

    async def rebuild(
        self, tenant_id: str | None = None, progress: Progress | None = None
    ) -> tuple[int, int]:
        """Every visitor's hashes again (of one tenant, or all), from their encrypted details:
        after a key change, or for details stored before the hashes existed. The same rows
        however often it runs. (visitors read, visitors with details); `progress` is told
        (read, total) after each batch."""
        counted = await self.store.read_row(
            select(func.count()).select_from(VISITORS).where(*_of_tenant(tenant_id))
        )
        total = int(counted[0]) if counted is not None else 0
        read = with_details = 0
        after = ""
        while True:
            query = (
                select(
                    VISITORS.c.id,
                    VISITORS.c.tenant_id,
                    VISITORS.c.name_enc,
                    VISITORS.c.email_enc,
                    VISITORS.c.phone_enc,
                )
                .where(VISITORS.c.id > after, *_of_tenant(tenant_id))
                .order_by(VISITORS.c.id)
                .limit(REBUILD_BATCH)
                .with_for_update()
            )
            async with self.store.engine.begin() as conn:
                # the batch's visitors locked while their hashes are rewritten (SQLite: the
                # transaction holds the write lock from its start): a detail the hub changes
                # meanwhile is either read here, or written, and indexed, after this batch
                rows = (await conn.execute(query)).all()
                values = [value for row in rows for value in self._hashes(row)]
                ids = [row.id for row in rows]
                if ids:
                    await conn.execute(delete(KEYS).where(KEYS.c.visitor_id.in_(ids)))
                if values:
                    await conn.execute(insert(KEYS), values)
            read += len(rows)
            with_details += len({value["visitor_id"] for value in values})
            if progress is not None:
                progress(read, max(total, read))
            if len(rows) < REBUILD_BATCH:
                return read, with_details
            after = rows[-1].id

    def _hashes(self, row: Any) -> list[dict[str, str]]:
        cipher = self.store.cipher
        found = self.hasher.keys(
            row.tenant_id,
            name=cipher.decrypt_optional(row.name_enc),
            email=cipher.decrypt_optional(row.email_enc),
            phone=cipher.decrypt_optional(row.phone_enc),
        )
        return [
            {"visitor_id": row.id, "tenant_id": row.tenant_id, "kind": kind, "hash": digest}
            for kind, digest in dict.fromkeys(found)
        ]

    async def search(self, q: Search) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the tenant's chats, newest first, as History rows; and the cursor of
        the next page (None at the end)."""
        c = CHATS.c
        lead_id = select(LEADS.c.id).where(LEADS.c.chat_id == c.id).limit(1).scalar_subquery()
        query = select(
            c.id,
            c.status,
            c.language,
            c.visitor_id,
            c.agent_id,
            c.created_at,
            c.closed_at,
            c.csat_score,
            VISITORS.c.name_enc,
            VISITORS.c.email_enc,
            VISITORS.c.phone_enc,
            lead_id.label("lead_id"),
        ).join(VISITORS, VISITORS.c.id == c.visitor_id)
        wanted = self._wanted(q)
        by_visitor = False
        if wanted:
            matching = self._matching(q.tenant_id, wanted)
            few = await self.store.read_rows(matching.limit(FEW_VISITORS + 1))
            if not few:
                return [], None
            by_visitor = len(few) <= FEW_VISITORS
            # few people: their chats read by visitor; else so many that the newest-first
            # walk meets a page of theirs soon
            people = [row.visitor_id for row in few] if by_visitor else matching
            query = query.where(c.visitor_id.in_(people))
        query = query.where(*_filters(q, by_visitor))
        if q.cursor:
            at, chat_id = decode_cursor(q.cursor)
            query = query.where(or_(c.created_at < at, and_(c.created_at == at, c.id < chat_id)))
        rows = await self.store.read_rows(
            query.order_by(c.created_at.desc(), c.id.desc()).limit(PAGE + 1)
        )
        cipher = self.store.cipher
        out = []
        for row in rows[:PAGE]:
            visitor: dict[str, Any] = {"id": row.visitor_id}
            for key in ("name", "phone", "email"):
                detail = cipher.decrypt_optional(getattr(row, f"{key}_enc"))
                if detail is not None:
                    visitor[key] = detail
            item: dict[str, Any] = {
                "id": row.id,
                "status": row.status,
                "language": row.language,
                "visitor": visitor,
                "created_at": iso(row.created_at),
            }
            for key in ("agent_id", "lead_id"):
                if getattr(row, key) is not None:
                    item[key] = getattr(row, key)
            if row.closed_at is not None:
                item["closed_at"] = iso(row.closed_at)
            if row.csat_score is not None:
                item["csat"] = row.csat_score
            out.append(item)
        more = len(rows) > PAGE
        last = rows[PAGE - 1] if more else None
        return out, (encode_cursor(last.created_at, last.id) if last is not None else None)

    def _matching(self, tenant_id: str, wanted: list[tuple[str, str]]) -> Select[Any]:
        """The tenant's visitors who have every detail wanted: the first detail's hash rows,
        each joined to the next detail's by its primary key (visitor, kind, hash)."""
        digests = [(kind, self.hasher.digest(tenant_id, kind, value)) for kind, value in wanted]
        first = KEYS.alias("k0")
        query = select(first.c.visitor_id).where(
            first.c.tenant_id == tenant_id,
            first.c.kind == digests[0][0],
            first.c.hash == digests[0][1],
        )
        for n, (kind, digest) in enumerate(digests[1:], start=1):
            other = KEYS.alias(f"k{n}")
            query = query.join(
                other,
                and_(
                    other.c.visitor_id == first.c.visitor_id,
                    other.c.kind == kind,
                    other.c.hash == digest,
                ),
            )
        return query

    @staticmethod
    def _wanted(q: Search) -> list[tuple[str, str]]:
        wanted = []
        if q.phone:
            wanted.append(("phone", q.phone))
        if q.email:
            wanted.append(("email", q.email.strip().lower()))
        wanted += [("name", word) for word in sorted(name_words(q.name or ""))]
        return wanted


def _of_tenant(tenant_id: str | None) -> list[ColumnElement[bool]]:
    return [] if tenant_id is None else [VISITORS.c.tenant_id == tenant_id]


def _filters(q: Search, by_visitor: bool) -> list[ColumnElement[bool]]:
    """The search's tests but the contact details'. Read by visitor, the tenant's and the
    agent's are made unusable as an index (`|| ''`): SQLite, which keeps no statistics,
    would otherwise walk all of the tenant's (or the agent's) chats newest first looking
    for a few people's instead of reading theirs."""
    c = CHATS.c
    tenant: ColumnElement[Any] = c.tenant_id
    agent: ColumnElement[Any] = c.agent_id
    if by_visitor:
        tenant, agent = c.tenant_id.concat(""), c.agent_id.concat("")
    found: list[ColumnElement[bool]] = [tenant == q.tenant_id]
    if q.start is not None:
        found.append(c.created_at >= q.start)
    if q.end is not None:
        found.append(c.created_at < q.end)
    if q.statuses:
        found.append(c.status.in_(q.statuses))
    if q.agent_id is not None:
        found.append(agent == q.agent_id)
    if q.language is not None:
        found.append(c.language == q.language)
    if q.has_lead is not None:
        has = exists().where(LEADS.c.chat_id == c.id)
        found.append(has if q.has_lead else ~has)
    return found
