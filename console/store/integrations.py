"""A tenant's delivery settings: connector configs and webhooks, secrets encrypted.

A secret goes in through `put`/`add_webhook` and comes out only through `secret_for`/
`webhook`, which the outbox worker calls; everything a person can read leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.domain.types import as_wire, iso
from console.store.base import StorePart, tenant_rows
from console.store.models import IntegrationRow, RowReader, WebhookRow, new_id


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
        return as_wire(self, "id", "url", "events", "created_at")


read_webhook = RowReader(Webhook, WebhookRow, events=tuple)


def read_integration(row: IntegrationRow) -> Integration:
    return Integration(row.kind, dict(row.config), row.secret_enc is not None, row.updated_at)


class IntegrationRepository(StorePart):
    async def put(
        self, tenant_id: str, kind: str, config: dict[str, Any], secret: str | None
    ) -> Integration:
        """Create or replace; a `secret` of None keeps the one stored (if any)."""
        now = self.store.clock.now()
        async with self.store.session() as s, s.begin():
            row = await s.get(IntegrationRow, (tenant_id, kind))
            if row is None:
                row = IntegrationRow(tenant_id=tenant_id, kind=kind, secret_enc=None)
                s.add(row)
            row.config = config
            if secret is not None:
                row.secret_enc = self.store.cipher.encrypt(secret)
            row.updated_at = now
            return read_integration(row)

    async def get(self, tenant_id: str, kind: str) -> Integration | None:
        row = await self.get_owned(IntegrationRow, tenant_id, (tenant_id, kind))
        return read_integration(row) if row else None

    async def secret_for(self, tenant_id: str, kind: str) -> tuple[dict[str, Any], str | None]:
        """(config, secret) for the worker; KeyError when the tenant removed it."""
        row = await self.get_owned(IntegrationRow, tenant_id, (tenant_id, kind))
        if row is None:
            raise KeyError(kind)
        return dict(row.config), self.store.cipher.decrypt_optional(row.secret_enc)

    async def configured(self, tenant_id: str) -> list[Integration]:
        async with self.store.session() as s:
            rows = await s.scalars(tenant_rows(IntegrationRow, tenant_id, IntegrationRow.kind))
            return [read_integration(r) for r in rows]

    async def remove(self, tenant_id: str, kind: str) -> bool:
        return await self.delete_owned(IntegrationRow, tenant_id, IntegrationRow.kind == kind)

    # -- webhooks ------------------------------------------------------------------------

    async def add_webhook(
        self, tenant_id: str, *, url: str, secret: str, events: list[str]
    ) -> Webhook:
        row = WebhookRow(
            id=new_id(),
            tenant_id=tenant_id,
            url=url,
            secret_enc=self.store.cipher.encrypt(secret),
            events=events,
            created_at=self.store.clock.now(),
        )
        await self.store.add(row)
        return read_webhook(row)

    async def webhooks(self, tenant_id: str) -> list[Webhook]:
        async with self.store.session() as s:
            rows = await s.scalars(
                tenant_rows(WebhookRow, tenant_id, WebhookRow.created_at, WebhookRow.id)
            )
            return [read_webhook(r) for r in rows]

    async def webhook(self, tenant_id: str, webhook_id: str) -> tuple[Webhook, str] | None:
        """The webhook and its secret, for the worker."""
        row = await self.get_owned(WebhookRow, tenant_id, webhook_id)
        if row is None:
            return None
        return read_webhook(row), self.store.cipher.decrypt(row.secret_enc)

    async def remove_webhook(self, tenant_id: str, webhook_id: str) -> bool:
        return await self.delete_owned(WebhookRow, tenant_id, WebhookRow.id == webhook_id)
