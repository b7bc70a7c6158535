"""The outbox worker: claims due deliveries, runs their connectors, records what happened.

It runs inside `charla serve` (an aiohttp cleanup context) and alone as `charla worker`;
any number of them can share one database, because a delivery is leased to one worker at a
time (console/store/outbox.py). A worker killed mid-delivery leaves its lease to expire; the
next worker delivers again, and the connectors make that repeat harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import structlog
from redis.asyncio import Redis

from console.contract.plans import delivers_to
from console.outbox.backoff import RetryPolicy
from console.outbox.transcripts import transcript_email_parts
from console.outbox.wake import WAKE_CHANNEL
from console.runtime.metrics import Metrics, OutboxMetrics
from console.runtime.metrics_server import serving_metrics
from console.runtime.redis_client import open_redis
from console.settings import Outbox, Settings
from console.store.db import open_store
from console.store.outbox import Claimed
from console.store.repository import Store
from console.store.transcripts import TRANSCRIPT_EMAIL
from integrations.base import (
    LEAD_EVENTS,
    DeliveryError,
    DeliveryJob,
    PermanentError,
    RetryableError,
    TranscriptLine,
)
from integrations.registry import Registry, default_registry

log = structlog.get_logger("charla.outbox")
STOP_GRACE_S = 10.0
RECOVERY_EVERY_S = 60.0
# How often the pending deliveries are counted for the metrics (one grouped query)
QUEUE_METRICS_EVERY_S = 15.0


class OutboxWorker:
    def __init__(
        self,
        store: Store,
        registry: Registry,
        settings: Outbox,
        *,
        redis: Redis | None = None,
        worker_id: str | None = None,
        metrics: OutboxMetrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics or Metrics().outbox
        self._destinations: set[str] = set()
        self.registry = registry
        self.settings = settings
        self.redis = redis
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.policy = RetryPolicy(
            base_s=settings.backoff_s,
            cap_s=settings.backoff_cap_s,
            max_attempts=settings.max_attempts,
        )
        # a delivery ends well before its lease does, or another worker could start it
        self.timeout_s = min(settings.delivery_timeout_s, settings.lease_s / 2)
        self._wake = asyncio.Event()
        self._stopping = False
        self._inflight: set[asyncio.Task[None]] = set()
        self._loop_ended = asyncio.Event()
        self._running = False

    def wake(self) -> None:
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------

    async def run(self) -> None:
        listener = asyncio.create_task(self._listen()) if self.redis is not None else None
        log.info("outbox_worker_started", worker=self.id)
        self._running = True
        loop = asyncio.get_running_loop()
        recover_at = count_at = loop.time()
        try:
            while not self._stopping:
                self._wake.clear()
                if loop.time() >= recover_at:
                    recover_at = loop.time() + RECOVERY_EVERY_S
                    await self._recover()
                if loop.time() >= count_at:
                    count_at = loop.time() + QUEUE_METRICS_EVERY_S
                    await self.count_pending()
                free = self.settings.concurrency - len(self._inflight)
                claimed: list[Claimed] = []
                if free > 0:
                    try:
                        claimed = await self.store.outbox.claim(
                            self.id, limit=free, lease_s=self.settings.lease_s
                        )
                    except Exception:
                        log.exception("outbox_claim_failed", worker=self.id)
                for delivery in claimed:
                    self._leased(delivery)
                    task = asyncio.create_task(self._deliver_logged(delivery))
                    self._inflight.add(task)
                    task.add_done_callback(self._finished)
                if claimed and len(claimed) == free:
                    continue  # there may be more due right now
                await self._sleep()
        finally:
            self._loop_ended.set()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _recover(self) -> None:
        try:
            found = await self.store.outbox.recover_chat_closed()
        except Exception:
            log.exception("outbox_recovery_failed", worker=self.id)
            return
        if found:
            log.warning("chat_closed_events_recovered", count=found, worker=self.id)
        # Each recovery on its own: one failing (logged) does not keep the others from running
        try:
            released = await self.store.transcripts.release_ended()
        except Exception:
            log.exception("transcript_release_failed", worker=self.id)
            released = 0
        if released:
            log.warning("transcript_requests_released", count=released, worker=self.id)
        try:
            announced = await self.store.tickets.recover_announcements()
        except Exception:
            log.exception("ticket_announcement_recovery_failed", worker=self.id)
            announced = 0
        if announced:
            log.warning("ticket_announcements_recovered", count=announced, worker=self.id)

    def _leased(self, delivery: Claimed) -> None:
        waited = (self.store.clock.now() - delivery.created_at).total_seconds()
        self.metrics.leased.labels(delivery.destination).inc()
        self.metrics.wait.labels(delivery.destination).observe(max(0.0, waited))

    async def count_pending(self) -> None:
        """Refresh the pending count and the oldest pending delivery's age, per connector."""
        try:
            pending = await self.store.outbox.pending_by_destination()
        except Exception:
            log.warning("outbox_count_failed", worker=self.id)
            return
        now = self.store.clock.now()
        for destination in self._destinations | set(pending):
            count, oldest = pending.get(destination, (0, now))
            self.metrics.pending.labels(destination).set(count)
            age = (now - oldest).total_seconds()
            self.metrics.queue_age.labels(destination).set(max(0.0, age))
        self._destinations |= set(pending)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()  # a slot is free

    async def _sleep(self) -> None:
        timeout = self.settings.poll_s
        with contextlib.suppress(Exception):
            due = await self.store.outbox.next_due()
            if due is not None:
                timeout = min(timeout, max(0.01, (due - self.store.clock.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _listen(self) -> None:
        """Wake on the hub's notification (Redis pub/sub), reconnecting when Redis drops."""
        assert self.redis is not None
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(WAKE_CHANNEL)
                log.info("outbox_wakeups_subscribed", worker=self.id)
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("outbox_wakeups_interrupted", worker=self.id)
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def stop(self, timeout_s: float = STOP_GRACE_S) -> None:
        """Stop claiming; let deliveries in flight finish (their leases cover the rest)."""
        self._stopping = True
        self._wake.set()
        if self._running:
            # a claim in progress ends first, so that what it claimed is waited for too
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._loop_ended.wait(), timeout_s)
        pending = set(self._inflight)
        if pending:
            _done, late = await asyncio.wait(pending, timeout=timeout_s)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # -- one delivery --------------------------------------------------------------------

    async def _deliver_logged(self, delivery: Claimed) -> None:
        """A background delivery whose bookkeeping failed (the store is down) is logged; its
        lease expires and it is delivered again."""
        try:
            await self._deliver(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery_bookkeeping_failed", delivery_id=delivery.id)

    async def _deliver(self, delivery: Claimed) -> None:
        bound = {
            "delivery_id": delivery.id,
            "tenant_id": delivery.tenant_id,
            "destination": delivery.destination,
            "outbox_event": delivery.event,
            "attempt": delivery.attempts,
        }
        try:
            connector = self.registry.get(delivery.destination)
            if connector is None:
                raise PermanentError(f"no connector delivers to {delivery.destination}")
            job = await self._job(delivery)
            done = await asyncio.wait_for(connector.deliver(job), timeout=self.timeout_s)
        except DeliveryError as exc:
            await self._failed(delivery, exc, bound)
        except TimeoutError:
            await self._failed(
                delivery, RetryableError("the delivery took too long", code="timeout"), bound
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery_crashed", **bound)
            await self._failed(
                delivery, RetryableError("Charla failed while delivering", code="internal"), bound
            )
        else:
            recorded = await self.store.outbox.delivered(delivery.id, self.id, done.external_id)
            self.metrics.delivered.labels(delivery.destination).inc()
            log.info("delivered", external_id=done.external_id, recorded=recorded, **bound)

    async def _failed(self, delivery: Claimed, exc: DeliveryError, bound: dict[str, Any]) -> None:
        attempts = delivery.attempts
        final = not exc.retryable or self.policy.exhausted(attempts)
        self.metrics.failed.labels(delivery.destination, "true" if final else "false").inc()
        if final:
            reason = exc.message
            if exc.retryable:
                reason = f"{reason} (gave up after {attempts} attempts)"
            await self.store.outbox.failed(delivery.id, self.id, reason)
            log.warning("delivery_failed", code=exc.code, final=True, **bound)
            return
        delay = self.policy.after_failure(
            attempts,
            throttled=exc.throttled,
            retry_after_s=exc.retry_after_s,
            throttle_pause_s=self.settings.throttle_pause_s,
        )
        await self.store.outbox.retry_later(
            delivery.id, self.id, exc.message, self.store.clock.now() + timedelta(seconds=delay)
        )
        log.info("delivery_retry", code=exc.code, retry_in_s=round(delay, 2), **bound)

    async def _job(self, delivery: Claimed) -> DeliveryJob:
        """Everything the connector needs, read now (the lead as it is at delivery time)."""
        store = self.store
        tenant = await store.get_tenant(delivery.tenant_id)
        if tenant is None:
            raise PermanentError("the tenant no longer exists")
        if not delivers_to(tenant.plan, delivery.destination):
            raise PermanentError(f"the tenant's plan no longer includes {delivery.destination}")
        payload: dict[str, Any] = dict(delivery.payload or {})
        external_id = None
        if delivery.event in LEAD_EVENTS:
            lead = await store.leads.get(tenant.id, delivery.lead_id or "")
            if lead is None:
                raise PermanentError("the lead no longer exists")
            if not lead.qualified:
                raise PermanentError("the lead was marked not qualified after it was queued")
            payload = {"lead": lead.to_wire(with_deliveries=False)}
            external_id = await store.outbox.external_id(
                lead.id, delivery.destination, delivery.target_id
            )
        config: dict[str, Any] = {}  # a visitor's transcript by e-mail needs no settings
        secret_value: str | None = None
        if delivery.destination == "webhook":
            found = await store.integrations.webhook(tenant.id, delivery.target_id or "")
            if found is None:
                raise PermanentError("the webhook was removed")
            webhook, secret = found
            config, secret_value = {"url": webhook.url}, secret
        elif delivery.destination != "email":
            try:
                config, secret_value = await store.integrations.secret_for(
                    tenant.id, delivery.destination
                )
            except KeyError:
                raise PermanentError(
                    f"the {delivery.destination} integration was removed"
                ) from None
        transcript: tuple[TranscriptLine, ...] = ()
        if delivery.event == TRANSCRIPT_EMAIL:
            payload, transcript = await transcript_email_parts(store, delivery.chat_id, payload)
        elif delivery.chat_id and delivery.destination in ("salesforce", "adf", "notify"):
            transcript = tuple(
                TranscriptLine(
                    m.created_at, m.author, m.author_name, m.plain_text(self.settings.public_url)
                )
                for m in await store.list_messages(delivery.chat_id)
            )
        return DeliveryJob(
            delivery_id=delivery.id,
            tenant=tenant,
            event=delivery.event,  # type: ignore[arg-type]  # an Event, as stored
            destination=delivery.destination,  # type: ignore[arg-type]  # as stored
            payload=payload,
            config=config,
            secret=secret_value,
            attempt=delivery.attempts,
            transcript=transcript,
            created_at=delivery.created_at,
            external_id=external_id,
        )


# -- running it --------------------------------------------------------------------------


def connectors(settings: Settings) -> Registry:
    """The connectors this deployment delivers with (integrations/registry.py)."""
    return default_registry(
        smtp=settings.smtp,
        delivery_timeout_s=settings.outbox.delivery_timeout_s,
        allow_private=settings.outbox.allow_private,
    )


@contextlib.asynccontextmanager
async def running_worker(
    store: Store, settings: Settings, redis: Redis | None, metrics: OutboxMetrics | None = None
) -> AsyncIterator[OutboxWorker]:
    """A worker delivering in the background until the block ends, then stopped cleanly."""
    registry = connectors(settings)
    worker = OutboxWorker(store, registry, settings.outbox, redis=redis, metrics=metrics)
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        await worker.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await registry.close()


async def _wakeup_redis(settings: Settings) -> Redis | None:
    """CHARLA_REDIS_URL or Sentinel's primary; else the embedded Redis of a `charla serve` on
    the same data dir (its Unix socket), if one answers; else none: the worker then polls."""
    if settings.external_redis:
        return open_redis(settings, max_connections=8)
    socket_path = settings.data_dir.resolve() / "redis.sock"
    if not socket_path.exists():
        return None
    redis = Redis(unix_socket_path=str(socket_path), socket_connect_timeout=1)
    try:
        await redis.ping()
    except Exception:
        await redis.aclose()
        return None
    return redis


async def run_worker(settings: Settings) -> None:
    """`charla worker`: the outbox alone, until SIGTERM or SIGINT."""
    store = await open_store(settings)
    redis = await _wakeup_redis(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    metrics = Metrics()
    try:
        async with (
            serving_metrics(metrics, settings.host, settings.metrics_port),
            running_worker(store, settings, redis, metrics.outbox) as worker,
        ):
            await stop.wait()
            log.info("outbox_worker_stopping", worker=worker.id)
    finally:
        if redis is not None:
            await redis.aclose()
        await store.close()
