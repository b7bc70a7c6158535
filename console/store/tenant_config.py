"""What a tenant admin configures: canned responses, the team, the tenant's own settings,
and the export/import of all of it (the tenant's scripts and rules are its own data).

Every method is scoped by `tenant_id`: another tenant's ids are simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from console.domain.types import Agent, as_wire, iso
from console.store.base import StorePart, assign, tenant_rows
from console.store.models import (
    AgentRow,
    CannedResponseRow,
    IntegrationRow,
    InvitationRuleRow,
    RowReader,
    TenantRow,
    WebhookRow,
    new_id,
)
from console.store.records import read_agent


class ConfigConflictError(Exception):
    """A uniqueness rule of the tenant's configuration was broken (a shortcut twice)."""


@dataclass(frozen=True)
class CannedResponse:
    id: str
    tenant_id: str
    shortcut: str
    text: dict[str, str]
    created_at: datetime

    def to_wire(self) -> dict[str, Any]:
        return as_wire(self, "id", "shortcut", "text", "created_at")


@dataclass(frozen=True)
class ImportOutcome:
    """What an import changed, section by section, and what it had to leave out."""

    counts: dict[str, int]
    skipped: list[dict[str, str]]

    def to_wire(self) -> dict[str, Any]:
        return {"imported": self.counts, "skipped": self.skipped}


read_canned = RowReader(CannedResponse, CannedResponseRow, text=dict)


class TenantConfigRepository(StorePart):
    # -- canned responses ----------------------------------------------------------------

    async def list_canned(self, tenant_id: str) -> list[CannedResponse]:
        async with self.store.session() as s:
            rows = await s.scalars(
                tenant_rows(CannedResponseRow, tenant_id, CannedResponseRow.shortcut)
            )
            return [read_canned(r) for r in rows]

    async def create_canned(
        self, tenant_id: str, *, shortcut: str, text: dict[str, str]
    ) -> CannedResponse:
        row = CannedResponseRow(
            id=new_id(),
            tenant_id=tenant_id,
            shortcut=shortcut,
            text=text,
            created_at=self.store.clock.now(),
        )
        try:
            await self.store.add(row)
        except IntegrityError:
            raise ConfigConflictError(f"the shortcut {shortcut} exists already") from None
        return read_canned(row)

    async def delete_canned(self, tenant_id: str, canned_id: str) -> bool:
        return await self.delete_owned(
            CannedResponseRow, tenant_id, CannedResponseRow.id == canned_id
        )

    # -- the team ------------------------------------------------------------------------

    async def update_agent(
        self, tenant_id: str, agent_id: str, changes: dict[str, Any]
    ) -> Agent | None:
        row = await self.edit_owned(AgentRow, tenant_id, agent_id, lambda row: assign(row, changes))
        return read_agent(row) if row else None

    async def deactivate_agent(self, tenant_id: str, agent_id: str) -> Agent | None:
        """The agent can no longer log in; the row stays, since chats name it."""

        def deactivate(row: AgentRow) -> None:
            if row.deactivated_at is None:
                row.deactivated_at = self.store.clock.now()

        row = await self.edit_owned(AgentRow, tenant_id, agent_id, deactivate)
        return read_agent(row) if row else None

    # -- the tenant's own settings -------------------------------------------------------

    async def tenant_settings(self, tenant_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(settings, bot_script) of the tenant; settings is `{}` when never set."""
        async with self.store.session() as s:
            row = await s.get(TenantRow, tenant_id)
            if row is None:
                return {}, None
            return dict(row.settings or {}), row.bot_script

    # -- export and import ---------------------------------------------------------------

    async def export(self, tenant_id: str) -> dict[str, Any]:
        """Everything the tenant configures, without ids or secrets, so that it imports into
        any tenant (this one again, or another)."""
        async with self.store.session() as s:
            tenant = await s.get(TenantRow, tenant_id)
            if tenant is None:
                return {}
            canned = await s.scalars(
                tenant_rows(CannedResponseRow, tenant_id, CannedResponseRow.shortcut)
            )
            rules = await s.scalars(
                tenant_rows(
                    InvitationRuleRow,
                    tenant_id,
                    InvitationRuleRow.created_at,
                    InvitationRuleRow.name,
                )
            )
            integrations = await s.scalars(
                tenant_rows(IntegrationRow, tenant_id, IntegrationRow.kind)
            )
            webhooks = await s.scalars(
                tenant_rows(WebhookRow, tenant_id, WebhookRow.created_at, WebhookRow.url)
            )
            return {
                "format": "charla-tenant-config",
                "version": 1,
                "exported_at": iso(self.store.clock.now()),
                "timezone": tenant.timezone,
                "hours": tenant.hours,
                "holidays": tenant.holidays,
                "settings": dict(tenant.settings or {}),
                "bot_script": tenant.bot_script,
                "canned_responses": [{"shortcut": c.shortcut, "text": c.text} for c in canned],
                "invitation_rules": [
                    {
                        "name": r.name,
                        "enabled": r.enabled,
                        "text": r.text,
                        "conditions": r.conditions,
                        "only_when_agents_available": r.only_when_agents_available,
                    }
                    for r in rules
                ],
                "integrations": [
                    {"kind": i.kind, "config": public_config(i.config)} for i in integrations
                ],
                "webhooks": [{"url": w.url, "events": list(w.events)} for w in webhooks],
            }

    async def import_(self, tenant_id: str, document: dict[str, Any]) -> ImportOutcome:
        """Apply an (already validated) export document in one transaction.

        Idempotent: canned responses match by shortcut, invitation rules by name, webhooks by
        URL, integrations by kind; importing the same document twice changes nothing more.
        A secret never travels in an export: a webhook or Salesforce connection that has no
        secret here yet, and none given in the document, is skipped and reported.
        """
        now = self.store.clock.now()
        counts = dict.fromkeys(
            ("canned_responses", "invitation_rules", "integrations", "webhooks"), 0
        )
        skipped: list[dict[str, str]] = []
        async with self.store.session() as s, s.begin():
            tenant = await s.get(TenantRow, tenant_id)
            if tenant is None:
                return ImportOutcome(counts, skipped)
            for key in ("timezone", "hours", "holidays", "settings", "bot_script"):
                if key in document:
                    setattr(tenant, key, document[key])
            tenant.updated_at = now

            existing_canned = {
                r.shortcut: r for r in await s.scalars(tenant_rows(CannedResponseRow, tenant_id))
            }
            for item in document.get("canned_responses", []):
                canned = existing_canned.get(item["shortcut"])
                if canned is None:
                    canned = CannedResponseRow(
                        id=new_id(),
                        tenant_id=tenant_id,
                        shortcut=item["shortcut"],
                        text=item["text"],
                        created_at=now,
                    )
                    s.add(canned)
                    existing_canned[item["shortcut"]] = canned
                else:
                    canned.text = item["text"]
                counts["canned_responses"] += 1

            existing_rules = {
                r.name: r for r in await s.scalars(tenant_rows(InvitationRuleRow, tenant_id))
            }
            for item in document.get("invitation_rules", []):
                rule = existing_rules.get(item["name"])
                if rule is None:
                    rule = InvitationRuleRow(id=new_id(), tenant_id=tenant_id, created_at=now)
                    s.add(rule)
                    existing_rules[item["name"]] = rule
                for key in ("name", "enabled", "text", "conditions", "only_when_agents_available"):
                    setattr(rule, key, item[key])
                counts["invitation_rules"] += 1

            counts["integrations"], counts["webhooks"] = await self._import_connectors(
                s, tenant_id, document, skipped
            )
        return ImportOutcome(counts, skipped)

    async def _import_connectors(
        self,
        s: AsyncSession,
        tenant_id: str,
        document: dict[str, Any],
        skipped: list[dict[str, str]],
    ) -> tuple[int, int]:
        """Integrations (by kind) and webhooks (by URL); secrets are never exported."""
        now = self.store.clock.now()
        cipher = self.store.cipher
        integrations = webhooks = 0
        for item in document.get("integrations", []):
            integration = await s.get(IntegrationRow, (tenant_id, item["kind"]))
            secret = item.get("secret")
            needs_secret = item["kind"] == "salesforce"
            if integration is None:
                if needs_secret and not secret:
                    skipped.append(
                        {
                            "section": "integrations",
                            "item": item["kind"],
                            "reason": "no client_secret: add it with "
                            "PUT /api/integrations/salesforce",
                        }
                    )
                    continue
                integration = IntegrationRow(tenant_id=tenant_id, kind=item["kind"])
                s.add(integration)
            integration.config = item["config"]
            if secret:
                integration.secret_enc = cipher.encrypt(secret)
            integration.updated_at = now
            integrations += 1

        existing_hooks = {w.url: w for w in await s.scalars(tenant_rows(WebhookRow, tenant_id))}
        for item in document.get("webhooks", []):
            hook = existing_hooks.get(item["url"])
            secret = item.get("secret")
            if hook is None:
                if not secret:
                    skipped.append(
                        {
                            "section": "webhooks",
                            "item": item["url"],
                            "reason": "no secret: add it to the document or create the "
                            "webhook with POST /api/webhooks",
                        }
                    )
                    continue
                hook = WebhookRow(
                    id=new_id(),
                    tenant_id=tenant_id,
                    url=item["url"],
                    secret_enc=cipher.encrypt(secret),
                    created_at=now,
                )
                s.add(hook)
                existing_hooks[item["url"]] = hook
            elif secret:
                hook.secret_enc = cipher.encrypt(secret)
            hook.events = list(item["events"])
            webhooks += 1
        return integrations, webhooks


SECRET_KEYS = frozenset({"client_secret", "secret", "password", "token", "api_key"})


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    """An integration's config minus anything secret-looking (secrets live in secret_enc;
    this is a second guard in case a connector ever put one in config)."""
    return {k: v for k, v in config.items() if k.lower() not in SECRET_KEYS}
