"""Live breach warnings: each chat still waiting for its first agent message, at 80% of the
agreement's answer target (`at_risk`) and when it passes it (`breached`), told to the
tenant's supervisors and admins (`sla_warning` in `supervisors:<tenant_id>`, every plan);
a breach also queues the `sla.breached` webhook event.

The SLA clock is the agreement's coverage (console/contract/sla.py): a chat queued a minute
before closing is at risk the next morning, not tonight. Every hub process runs the check;
a Redis key per (chat, kind) makes each warning, and each webhook row, happen once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from console.contract.agreement import agreement_for
from console.contract.hours import Schedule
from console.domain.types import Chat, Tenant, iso
from console.hub.context import HubContext
from console.realtime.rooms import AGENT_NS, supervisors_room
from console.reports.sla import coverage_for

log = structlog.get_logger("charla.sla")
WATCH_EVERY_S = 2.0
AT_RISK = 0.8
# a warning is remembered this long: longer than any chat waits in a queue
REMEMBER_S = 3 * 24 * 3600
WAITING = ("queued", "active")


def entered_at(chat: Chat) -> datetime | None:
    """When the chat entered the human queue (as the reports count it)."""
    if chat.queued_at is not None:
        return chat.queued_at
    return chat.created_at if chat.assigned_at is not None else None


class BreachWatch:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx

    async def check(self) -> int:
        """One pass over every tenant with an agreement; returns how many warnings this
        process sent."""
        sent = 0
        store = self.ctx.store
        for tenant_id in await store.agreements.tenants_with_agreements():
            tenant = await self.ctx.cached_tenant(tenant_id)
            if tenant is not None:
                try:
                    sent += await self.check_tenant(tenant)
                except Exception:
                    log.exception("sla_watch_failed", tenant_id=tenant_id)
        return sent

    async def check_tenant(self, tenant: Tenant) -> int:
        store, now = self.ctx.store, self.ctx.clock.now()
        chats = [
            c
            for c in await store.list_chats(tenant_id=tenant.id, statuses=WAITING)
            if c.first_agent_reply_at is None and entered_at(c) is not None
        ]
        if not chats:
            return 0
        versions = [(v.version, v.agreement) for v in await store.agreements.versions(tenant.id)]
        today = Schedule(tenant.timezone).local_date(now)
        try:
            version, agreement = agreement_for(versions, today)
        except LookupError:
            return 0
        closures = [day for day, _ in await store.agreements.closures(tenant.id)]
        coverage = coverage_for(tenant, agreement, closures)
        sent = 0
        for chat in chats:
            entered = entered_at(chat)
            assert entered is not None
            due = coverage.deadline(entered, agreement.answer_s)
            if now >= due:
                kind = "breached"
            elif now >= coverage.deadline(entered, agreement.answer_s * AT_RISK):
                kind = "at_risk"
            else:
                continue
            if not await self._first(chat.id, kind):
                continue
            warning = {
                "chat_id": chat.id,
                "kind": kind,
                "language": chat.language,
                "status": chat.status,
                "agent_id": chat.agent_id,
                "entered_at": iso(entered),
                "due_at": iso(due),
                "answer_s": agreement.answer_s,
                "waited_s": round(coverage.open_seconds(entered, now), 1),
            }
            await self.ctx.emit(
                "sla_warning", warning, to=supervisors_room(tenant.id), namespace=AGENT_NS
            )
            sent += 1
            if kind == "breached":
                log.info("sla_breached", tenant_id=tenant.id, chat_id=chat.id)
                await store.agreements.queue_breach(
                    tenant, chat.id, breach_body(tenant, warning, version)
                )
        return sent

    async def _first(self, chat_id: str, kind: str) -> bool:
        """Whether this is the first process to see this (chat, kind)."""
        key = f"charla:sla-warned:{chat_id}:{kind}"
        return bool(await self.ctx.state.redis.set(key, "1", nx=True, ex=REMEMBER_S))


def breach_body(tenant: Tenant, warning: dict[str, Any], version: int) -> dict[str, Any]:
    """The sla.breached event's `data`: the chat that passed its answer target."""
    return {
        "chat": {
            "id": warning["chat_id"],
            "tenant_id": tenant.id,
            "language": warning["language"],
            "status": warning["status"],
            "agent_id": warning["agent_id"],
            "entered_at": warning["entered_at"],
            "due_at": warning["due_at"],
        },
        "answer_s": warning["answer_s"],
        "agreement_version": version,
    }
