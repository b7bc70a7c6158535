"""The daily retention purge, as upkeep: each tenant once a day, by one process at a time
(a Redis lock), each run recorded and audited. What goes and what stays:
console/store/retention.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import structlog
from redis.asyncio import Redis

from console.domain.clock import Clock
from console.store.privacy import Policy
from console.store.repository import Store
from console.store.retention import PurgeRun

log = structlog.get_logger("charla.retention")
LOCK = "charla:retention:lock"
EVERY = timedelta(days=1)
ACTOR = "system:retention"


@dataclass(eq=False)
class RetentionPurge:
    store: Store
    redis: Redis
    clock: Clock
    lock_s: int = 3600
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)

    async def run_due(self) -> list[PurgeRun]:
        """Purge every tenant whose last purge is a day old or more (or never ran)."""
        if not await self.redis.set(LOCK, self.instance, nx=True, ex=self.lock_s):
            return []  # another process is purging
        try:
            return await self._run()
        finally:
            if await self.redis.get(LOCK) in (self.instance, self.instance.encode()):
                await self.redis.delete(LOCK)

    async def _run(self) -> list[PurgeRun]:
        store = self.store
        now = self.clock.now()
        last = await store.retention.last_run_at()
        policies = await store.privacy.policies()
        runs = []
        for tenant in await store.list_tenants():
            if tenant.id in last and now - last[tenant.id] < EVERY:
                continue
            run = await store.retention.purge(tenant.id, policies.get(tenant.id, Policy()))
            await store.audit.record(
                tenant.id,
                ACTOR,
                "retention.purged",
                run.id,
                detail={"counts": run.counts, "cutoffs": run.cutoffs},
            )
            log.info("retention_purged", tenant_id=tenant.id, **run.counts)
            runs.append(run)
        return runs
