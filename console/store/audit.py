"""The audit log: who did what, appended to a hash chain per tenant (and one for the
provider). Never conversation text: details pass through `clean_detail`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError

from console.domain.types import iso
from console.security.audit_chain import GENESIS, ChainBreak, check_chain, clean_detail, event_hash
from console.store.base import StorePart
from console.store.protection_models import PROVIDER_CHAIN, AuditEventRow

APPEND_TRIES = 5
PAGE = 1000


@dataclass(frozen=True)
class AuditEvent:
    chain: str
    seq: int
    at: datetime
    actor: str
    action: str
    target: str | None
    ip: str | None
    detail: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "seq": self.seq,
            "at": iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
        }
        if self.ip:
            wire["ip"] = self.ip
        if self.chain != PROVIDER_CHAIN:
            wire["tenant_id"] = self.chain
        return wire | ({"detail": self.detail} if self.detail else {})


def hashed_fields(row: AuditEventRow | AuditEvent) -> dict[str, Any]:
    """What an event's hash covers: every column but the ids and hashes themselves."""
    return {
        "chain": row.chain,
        "seq": row.seq,
        "at": iso(row.at),
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "ip": row.ip,
        "detail": row.detail,
    }


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        chain=row.chain,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        ip=row.ip,
        detail=dict(row.detail or {}),
    )


def _action_is(action: str) -> ColumnElement[bool]:
    if not action.endswith("*"):
        return AuditEventRow.action == action
    prefix = action[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return AuditEventRow.action.like(f"{prefix}%", escape="\\")


class AuditRepository(StorePart):
    async def record(
        self,
        tenant_id: str | None,
        actor: str,
        action: str,
        target: str | None = None,
        *,
        ip: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event to the tenant's chain (the provider's without a tenant).

        Two writers racing for the same place: the unique (chain, seq) lets one win, the
        other reads the new head and tries again."""
        chain = tenant_id or PROVIDER_CHAIN
        clean = clean_detail(detail or {})
        for _ in range(APPEND_TRIES):
            try:
                async with self.store.session() as s, s.begin():
                    head = (
                        await s.execute(
                            select(AuditEventRow.seq, AuditEventRow.hash)
                            .where(AuditEventRow.chain == chain)
                            .order_by(AuditEventRow.seq.desc())
                            .limit(1)
                        )
                    ).first()
                    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
                    row = AuditEventRow(
                        chain=chain,
                        seq=seq,
                        at=self.store.clock.now(),
                        actor=actor[:120],
                        action=action,
                        target=target[:200] if target else None,
                        ip=ip,
                        detail=clean,
                        prev_hash=prev,
                        hash="",
                    )
                    row.hash = event_hash(prev, hashed_fields(row))
                    s.add(row)
                return _event(row)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not append to the audit chain {chain!r}: too much contention")

    async def events(
        self,
        tenant_id: str | None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
        every_chain: bool = False,
        actions: Sequence[str] = (),
        before_seq: int | None = None,
    ) -> list[AuditEvent]:
        """A chain's events, newest first (the provider may ask for all chains at once).

        `actions`: only these (one ending in `*` matches every action it begins);
        `before_seq`: a page further back in one chain (the events before that one)."""
        query = select(AuditEventRow)
        if every_chain:
            query = query.order_by(AuditEventRow.at.desc(), AuditEventRow.id.desc())
        else:
            query = query.where(AuditEventRow.chain == (tenant_id or PROVIDER_CHAIN))
            query = query.order_by(AuditEventRow.seq.desc())
            if before_seq is not None:
                query = query.where(AuditEventRow.seq < before_seq)
        if actions:
            query = query.where(or_(*(_action_is(a) for a in actions)))
        if since is not None:
            query = query.where(AuditEventRow.at >= since)
        if until is not None:
            query = query.where(AuditEventRow.at < until)
        async with self.store.reading() as s:
            return [_event(row) for row in await s.scalars(query.limit(limit))]

    async def check(self) -> tuple[int, list[ChainBreak]]:
        """Verify every chain: (events checked, where each broken chain breaks)."""
        async with self.store.reading() as s:
            chains = list(await s.scalars(select(AuditEventRow.chain).distinct()))
        checked = 0
        broken: list[ChainBreak] = []
        for chain in sorted(chains):
            rows: list[tuple[int, str, str, dict[str, Any]]] = []
            after = 0
            while True:
                async with self.store.reading() as s:
                    page = list(
                        await s.scalars(
                            select(AuditEventRow)
                            .where(AuditEventRow.chain == chain, AuditEventRow.seq > after)
                            .order_by(AuditEventRow.seq)
                            .limit(PAGE)
                        )
                    )
                rows.extend((r.seq, r.prev_hash, r.hash, hashed_fields(r)) for r in page)
                if len(page) < PAGE:
                    break
                after = page[-1].seq
            checked += len(rows)
            found = check_chain(chain, rows)
            if found is not None:
                broken.append(found)
        return checked, broken
