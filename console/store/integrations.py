"""A tenant's delivery settings: connector configs and webhooks, secrets encrypted.

A secret goes in through `put`/`add_webhook` and comes out only through `secret_for`/
`webhook`, which the outbox worker calls; everything a person can read leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.domain.clock import Clock
from console.domain.types import iso
from console.security.crypto import DataCipher
from console.store.models import IntegrationRow, WebhookRow, new_id


@dataclass(frozen=True)
class Integration:
    kind: str
    config: dict[str, Any]
    has_secret: bool
    updated_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            **self.config,
            "has_secret": self.has_secret,
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True)
class Webhook:
    id: str
    tenant_id: str
    url: str
    events: tuple[str, ...]
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "created_at": iso(self.created_at),
        }


class IntegrationRepository:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cipher: DataCipher, clock: Clock
    ) -> None:
        self._sessions = sessions
        self.cipher = cipher
        self.clock = clock

    async def put(
        self, tenant_id: str, kind: str, config: dict[str, Any], secret: str | None
    ) -> Integration:
        """Create or replace; a `secret` of None keeps the one stored (if any)."""
        now = self.clock.now()
        async with self._sessions() as s, s.begin():
            row = await s.get(IntegrationRow, (tenant_id, kind))
            if row is None:
                row = IntegrationRow(tenant_id=tenant_id, kind=kind, secret_enc=None)
                s.add(row)
            row.config = config
            if secret is not None:
                row.secret_enc = self.cipher.encrypt(secret)
            row.updated_at = now
            return Integration(kind, dict(config), row.secret_enc is not None, now)

    async def get(self, tenant_id: str, kind: str) -> Integration | None:
        async with self._sessions() as s:
            row = await s.get(IntegrationRow, (tenant_id, kind))
        if row is None:
            return None
        return Integration(kind, dict(row.config), row.secret_enc is not None, row.updated_at)

    async def secret_for(self, tenant_id: str, kind: str) -> tuple[dict[str, Any], str | None]:
        """(config, secret) for the worker; KeyError when the tenant removed it."""
        async with self._sessions() as s:
            row = await s.get(IntegrationRow, (tenant_id, kind))
        if row is None:
            raise KeyError(kind)
        return dict(row.config), self.cipher.decrypt_optional(row.secret_enc)

    async def configured(self, tenant_id: str) -> list[Integration]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(IntegrationRow)
                .where(IntegrationRow.tenant_id == tenant_id)
                .order_by(IntegrationRow.kind)
            )
            return [
                Integration(r.kind, dict(r.config), r.secret_enc is not None, r.updated_at)
                for r in rows
            ]

    async def remove(self, tenant_id: str, kind: str) -> bool:
        async with self._sessions() as s, s.begin():
            done = await s.execute(
                delete(IntegrationRow).where(
                    IntegrationRow.tenant_id == tenant_id, IntegrationRow.kind == kind
                )
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]  # a DELETE gives a CursorResult

    # -- webhooks ------------------------------------------------------------------------

    @staticmethod
    def _webhook(row: WebhookRow) -> Webhook:
        return Webhook(row.id, row.tenant_id, row.url, tuple(row.events), row.created_at)

    async def add_webhook(
        self, tenant_id: str, *, url: str, secret: str, events: list[str]
    ) -> Webhook:
        row = WebhookRow(
            id=new_id(),
            tenant_id=tenant_id,
            url=url,
            secret_enc=self.cipher.encrypt(secret),
            events=events,
            created_at=self.clock.now(),
        )
        async with self._sessions() as s, s.begin():
            s.add(row)
        return self._webhook(row)

    async def webhooks(self, tenant_id: str) -> list[Webhook]:
        async with self._sessions() as s:
            rows = await s.scalars(
                select(WebhookRow)
                .where(WebhookRow.tenant_id == tenant_id)
                .order_by(WebhookRow.created_at, WebhookRow.id)
            )
            return [self._webhook(r) for r in rows]

    async def webhook(self, tenant_id: str, webhook_id: str) -> tuple[Webhook, str] | None:
        """The webhook and its secret, for the worker."""
        async with self._sessions() as s:
            row = await s.get(WebhookRow, webhook_id)
        if row is None or row.tenant_id != tenant_id:
            return None
        return self._webhook(row), self.cipher.decrypt(row.secret_enc)

    async def remove_webhook(self, tenant_id: str, webhook_id: str) -> bool:
        async with self._sessions() as s, s.begin():
            done = await s.execute(
                delete(WebhookRow).where(
                    WebhookRow.id == webhook_id, WebhookRow.tenant_id == tenant_id
                )
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]  # a DELETE gives a CursorResult
