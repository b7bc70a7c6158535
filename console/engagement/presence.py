"""Who is on the site now (PROTOCOL 1.2, Visitors on site), kept in Redis so that every hub
process sees every visitor, and so that a dead process's visitors disappear.

A visitor is on the site from their first `page_view` until their last socket closes.
Each has a record (`VisitorNow` without what SQL knows) under a key that expires: the
process holding their socket writes it on every page view and renews it every heartbeat;
a process that dies stops renewing, and its visitors are gone within three heartbeats.
The tenant's index is a sorted set of visitor ids scored by when their record expires.

The snapshot of a tenant (at most MAX_ROWS rows, most pages first, then longest on the
site) adds from SQL the visit's chat and invitation and whether a lead exists (console/
store/onsite.py), read for every visitor on the site so that the supervisor's counts (in a
chat, invited, with a lead) count them all, not only the rows shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import structlog

from console.domain.types import iso
from console.engagement.rules import visit_pages
from console.hub.context import HubContext
from console.realtime.schemas import PageViewIn
from console.store.chats import OPEN_STATUSES
from console.store.onsite import OnSiteFacts, onsite_facts

log = structlog.get_logger("charla.engagement")

MAX_ROWS = 200
TTL_BEATS = 3  # a record outlives its process by at most this many heartbeats
PREFIX = "charla:onsite:"


def index_key(tenant_id: str) -> str:
    return f"{PREFIX}t:{tenant_id}"


def record_key(visitor_id: str) -> str:
    return f"{PREFIX}v:{visitor_id}"


def sockets_key(visitor_id: str) -> str:
    return f"{PREFIX}s:{visitor_id}"


def browser_language(tag: str | None) -> str | None:
    """`es-PR` -> `es`: the primary tag of the browser's language, if it looks like one."""
    if not tag:
        return None
    primary = tag.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if 2 <= len(primary) <= 3 and primary.isalpha() else None


def order(record: dict[str, Any]) -> tuple[int, str, str]:
    """Most pages viewed first, then longest on the site (the earliest arrival)."""
    return (-int(record["pages_viewed"]), str(record["arrived_at"]), str(record["visitor_id"]))


class Snapshot(NamedTuple):
    """A tenant's visitors on the site now: the rows the list shows, how many there are,
    and the supervisor's counts among them all (`in_chat`, `invited`, `lead`)."""

    rows: list[dict[str, Any]]
    total: int
    counts: dict[str, int]


def counts(facts: OnSiteFacts, on_site: set[str]) -> dict[str, int]:
    """Visitors on the site in a chat now (waiting, with the bot or a person), invited
    during this visit (whatever their answer), and with a lead."""
    return {
        "in_chat": sum(1 for c in facts.chats.values() if c["status"] in OPEN_STATUSES),
        "invited": len(facts.invitations),
        "lead": len(facts.leads & on_site),
    }


@dataclass
class Local:
    """A visitor with a socket on this process, and the record it last wrote."""

    tenant_id: str
    record: dict[str, Any]
    sids: set[str] = field(default_factory=set)


class OnSite:
    """The visitors on the site now: written by the process holding their sockets, read by
    any process."""

    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx
        self.redis = ctx.state.redis
        self._local: dict[str, Local] = {}
        self._sids: dict[str, str] = {}  # socket -> visitor id

    @property
    def ttl_ms(self) -> int:
        return int(self.ctx.settings.heartbeat_s * TTL_BEATS * 1000)

    # -- written by the process that holds the visitor's socket ---------------------------

    async def viewed(
        self, sid: str, tenant_id: str, visitor_id: str, payload: PageViewIn
    ) -> dict[str, Any] | None:
        """A page view (stored already): the visitor's record, written again."""
        visitor = await self.ctx.store.get_visitor(visitor_id)
        if visitor is None:
            return None
        views = [(p.viewed_at, p.referrer) for p in visitor.pages]
        pages, entry_referrer = visit_pages(views)
        arrived: datetime = visitor.pages[-pages].viewed_at if pages else self.ctx.clock.now()
        record: dict[str, Any] = {
            "visitor_id": visitor.id,
            "url": payload.url,
            "pages_viewed": max(pages, 1),
            "arrived_at": iso(arrived),
            "returning": visitor.visits > 1,
        }
        optional = {
            "name": visitor.name,
            "title": payload.title,
            "referrer": entry_referrer,
            "language": browser_language(payload.language),
        }
        record.update({key: value for key, value in optional.items() if value})
        local = self._local.setdefault(visitor_id, Local(tenant_id, record))
        local.record = record
        local.sids.add(sid)
        self._sids[sid] = visitor_id
        ttl = self.ttl_ms
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(record_key(visitor_id), json.dumps(record), px=ttl)
            pipe.sadd(sockets_key(visitor_id), sid)
            pipe.pexpire(sockets_key(visitor_id), ttl)
            pipe.zadd(index_key(tenant_id), {visitor_id: self.ctx.now_ms() + ttl})
            await pipe.execute()
        return record

    async def left(self, sid: str) -> None:
        """A socket closed: its visitor leaves the list when it was their last, anywhere."""
        visitor_id = self._sids.pop(sid, None)
        if visitor_id is None:
            return
        local = self._local.get(visitor_id)
        if local is None:
            return
        local.sids.discard(sid)
        if not local.sids:
            del self._local[visitor_id]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(sockets_key(visitor_id), sid)
            pipe.scard(sockets_key(visitor_id))
            _, remaining = await pipe.execute()
        if int(remaining) == 0:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(record_key(visitor_id), sockets_key(visitor_id))
                pipe.zrem(index_key(local.tenant_id), visitor_id)
                await pipe.execute()

    async def refresh(self) -> None:
        """Every heartbeat: this process's visitors stay on the list a while longer (and
        come back to a Redis that forgot them)."""
        if not self._local:
            return
        ttl, now_ms = self.ttl_ms, self.ctx.now_ms()
        visitors = list(self._local.items())
        async with self.redis.pipeline(transaction=False) as pipe:
            for visitor_id, local in visitors:
                pipe.pexpire(record_key(visitor_id), ttl)
                pipe.sadd(sockets_key(visitor_id), *local.sids)
                pipe.pexpire(sockets_key(visitor_id), ttl)
                pipe.zadd(index_key(local.tenant_id), {visitor_id: now_ms + ttl})
            for tenant_id in {local.tenant_id for _, local in visitors}:
                pipe.zremrangebyscore(index_key(tenant_id), "-inf", now_ms)
            results = await pipe.execute()
        lost = [v for (v, _), kept in zip(visitors, results[::4], strict=False) if not kept]
        if lost:
            async with self.redis.pipeline(transaction=False) as pipe:
                for visitor_id in lost:
                    record = json.dumps(self._local[visitor_id].record)
                    pipe.set(record_key(visitor_id), record, px=ttl, nx=True)
                await pipe.execute()

    # -- read by any process ----------------------------------------------------------------

    async def record(self, tenant_id: str, visitor_id: str) -> dict[str, Any] | None:
        """The visitor's record while they are on the tenant's site, else None."""
        score = await self.redis.zscore(index_key(tenant_id), visitor_id)
        if score is None or score < self.ctx.now_ms():
            return None
        raw = await self.redis.get(record_key(visitor_id))
        return _parse(raw)

    async def snapshot(self, tenant_id: str) -> Snapshot:
        ids = await self.redis.zrangebyscore(index_key(tenant_id), self.ctx.now_ms(), "+inf")
        if not ids:
            return Snapshot([], 0, counts(OnSiteFacts(), set()))
        raw = await self.redis.mget([_record_of(i) for i in ids])
        records = [r for r in map(_parse, raw) if r]
        records.sort(key=order)
        rows = records[:MAX_ROWS]
        visits = {r["visitor_id"]: datetime.fromisoformat(r["arrived_at"]) for r in records}
        facts = await onsite_facts(self.ctx.store, tenant_id, visits)
        for row in rows:
            visitor_id = row["visitor_id"]
            if visitor_id in facts.chats:
                row["chat"] = facts.chats[visitor_id]
            if visitor_id in facts.invitations:
                row["invitation"] = facts.invitations[visitor_id]
            row["lead"] = visitor_id in facts.leads
        return Snapshot(rows, len(records), counts(facts, set(visits)))


def _record_of(raw: Any) -> str:
    return record_key(raw.decode() if isinstance(raw, bytes) else str(raw))


def _parse(raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "visitor_id" in record else None
