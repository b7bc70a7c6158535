"""What every part of the hub shares: settings, the store, the routing state, the emitter,
metrics and the clock, plus the tenant reads they all make (and their short caches)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from structlog.typing import FilteringBoundLogger

from console.contract.hours import Schedule
from console.domain.clock import Clock, epoch_ms
from console.domain.errors import ProtocolError
from console.domain.types import Chat, Tenant
from console.realtime.rooms import Emitter
from console.routing.state import RoutingState
from console.runtime.metrics import Metrics
from console.settings import Settings
from console.store.repository import Store

TENANT_CACHE_S = 2.0
HANDLE_TIME_CACHE_S = 60.0


def chat_log(chat: Chat) -> FilteringBoundLogger:
    """The hub's logger with the chat's tenant and id bound: every line about a chat
    carries both (and never its text)."""
    bound = structlog.get_logger("charla.hub").bind(tenant_id=chat.tenant_id, chat_id=chat.id)
    return cast(FilteringBoundLogger, bound)


@dataclass
class HubContext:
    settings: Settings
    store: Store
    state: RoutingState
    emitter: Emitter
    metrics: Metrics
    clock: Clock
    _schedules: dict[str, Schedule] = field(default_factory=dict)
    _tenants: dict[str, tuple[float, Tenant]] = field(default_factory=dict)
    _handle_time: dict[str, tuple[float, float]] = field(default_factory=dict)
    # signs a visitor's upload token (tenant id, visitor id); handed in by the app factory
    upload_token: Callable[[str, str], str] | None = None

    def now_ms(self) -> int:
        return epoch_ms(self.clock.now())

    def ms_from_now(self, seconds: float) -> int:
        return self.now_ms() + int(seconds * 1000)

    async def emit(
        self, event: str, data: Any, *, to: str, namespace: str, skip_sid: str | None = None
    ) -> None:
        await self.emitter.emit(event, data, to=to, namespace=namespace, skip_sid=skip_sid)

    def schedule(self, tenant: Tenant) -> Schedule:
        """The tenant's opening hours, built once per distinct set of hours."""
        key = json.dumps([tenant.timezone, tenant.hours, tenant.holidays], sort_keys=True)
        schedule = self._schedules.get(key)
        if schedule is None:
            schedule = Schedule(
                timezone=tenant.timezone, hours=tenant.hours, holidays=tenant.holidays
            )
            self._schedules[key] = schedule
        return schedule

    def closed_now(self, tenant: Tenant) -> str | None:
        """Why the tenant is closed now (after_hours, holiday), None when open."""
        return self.schedule(tenant).closed_reason(self.clock.now())

    async def tenant(self, tenant_id: str) -> Tenant:
        tenant = await self.store.get_tenant(tenant_id)
        if tenant is None:
            raise ProtocolError("not_found", "this tenant no longer exists")
        return tenant

    async def cached_tenant(self, tenant_id: str) -> Tenant | None:
        """A tenant read at most TENANT_CACHE_S ago: for the sweep's frequent dispatches."""
        cached = self._tenants.get(tenant_id)
        now = time.monotonic()
        if cached and now - cached[0] < TENANT_CACHE_S:
            return cached[1]
        tenant = await self.store.get_tenant(tenant_id)
        if tenant is not None:
            self._tenants[tenant_id] = (now, tenant)
        return tenant

    async def avg_handle_s(self, tenant_id: str) -> float:
        """The tenant's recent average handle time, for wait estimates (read once a minute)."""
        cached = self._handle_time.get(tenant_id)
        now = time.monotonic()
        if cached and now - cached[0] < HANDLE_TIME_CACHE_S:
            return cached[1]
        value = await self.store.average_handle_time(
            tenant_id, default=self.settings.default_handle_time_s
        )
        self._handle_time[tenant_id] = (now, value)
        return value
