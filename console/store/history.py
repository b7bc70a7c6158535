"""Past chats, searched (PROTOCOL 1.2, "Chat history"): by dates, status, agent, language,
lead, and by contact details through their keyed hashes (`contact_keys`), never plaintext.

The hashes are written whenever a visitor's contact details are (`index_contact`), and
rebuilt from the encrypted details when the data key changes (`rebuild`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, exists, insert, or_, select

from console.domain.types import iso
from console.security.lookup import PURPOSE, ContactHasher, name_words
from console.store.base import StorePart
from console.store.history_models import ContactKeyRow
from console.store.models import CHATS, LEADS, VISITORS

PAGE = 50
KEYS: Table = ContactKeyRow.__table__  # type: ignore[assignment]
REBUILD_BATCH = 500


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

    async def rebuild(self) -> int:
        """Every visitor's hashes again, from their encrypted details (after a key change)."""
        cipher = self.store.cipher
        done = 0
        after = ""
        while True:
            query = (
                select(VISITORS)
                .where(VISITORS.c.id > after)
                .order_by(VISITORS.c.id)
                .limit(REBUILD_BATCH)
            )
            rows = await self.store.read_rows(query)
            async with self.store.engine.begin() as conn:
                for row in rows:
                    await conn.execute(delete(KEYS).where(KEYS.c.visitor_id == row.id))
                    found = self.hasher.keys(
                        row.tenant_id,
                        name=cipher.decrypt_optional(row.name_enc),
                        email=cipher.decrypt_optional(row.email_enc),
                        phone=cipher.decrypt_optional(row.phone_enc),
                    )
                    if found:
                        values = [
                            {"visitor_id": row.id, "tenant_id": row.tenant_id, "kind": k, "hash": h}
                            for k, h in dict.fromkeys(found)
                        ]
                        await conn.execute(insert(KEYS), values)
                        done += 1
            if len(rows) < REBUILD_BATCH:
                return done
            after = rows[-1].id

    async def search(self, q: Search) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the tenant's chats, newest first, as History rows; and the cursor of
        the next page (None at the end)."""
        c = CHATS.c
        lead_id = select(LEADS.c.id).where(LEADS.c.chat_id == c.id).limit(1).scalar_subquery()
        query = (
            select(
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
            )
            .join(VISITORS, VISITORS.c.id == c.visitor_id)
            .where(c.tenant_id == q.tenant_id)
        )
        if q.start is not None:
            query = query.where(c.created_at >= q.start)
        if q.end is not None:
            query = query.where(c.created_at < q.end)
        if q.statuses:
            query = query.where(c.status.in_(q.statuses))
        if q.agent_id is not None:
            query = query.where(c.agent_id == q.agent_id)
        if q.language is not None:
            query = query.where(c.language == q.language)
        if q.has_lead is not None:
            has = exists().where(LEADS.c.chat_id == c.id)
            query = query.where(has if q.has_lead else ~has)
        for kind, value in self._wanted(q):
            digest = self.hasher.digest(q.tenant_id, kind, value)
            query = query.where(
                c.visitor_id.in_(
                    select(KEYS.c.visitor_id).where(
                        KEYS.c.tenant_id == q.tenant_id, KEYS.c.kind == kind, KEYS.c.hash == digest
                    )
                )
            )
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

    @staticmethod
    def _wanted(q: Search) -> list[tuple[str, str]]:
        wanted = []
        if q.phone:
            wanted.append(("phone", q.phone))
        if q.email:
            wanted.append(("email", q.email.strip().lower()))
        wanted += [("name", word) for word in sorted(name_words(q.name or ""))]
        return wanted
