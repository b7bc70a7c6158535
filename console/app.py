"""The application factory: `create_app(settings)` wires the web app, the Socket.IO hub and
the background work, opening and closing Redis and the database through `cleanup_ctx`."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import socketio
import structlog
from aiohttp import web

from console.billing.service import charge_late_fees
from console.contract.plans import allows
from console.domain.clock import Clock, SystemClock
from console.engagement.feed import VisitorsFeed
from console.engagement.service import Engagement
from console.hub import Hub
from console.hub.cluster import Cluster
from console.hub.retention import RetentionPurge
from console.hub.upkeep import run_periodically
from console.outbox.worker import running_worker
from console.realtime import fastjson
from console.realtime.engine import SocketServer
from console.realtime.fanout import CoalescingRedisManager, client_manager
from console.realtime.namespaces import (
    AgentNamespace,
    Gate,
    VisitorNamespace,
    agent_disconnector,
)
from console.realtime.packets import JsonPacket
from console.realtime.ratelimit import Buckets
from console.reports.sla import freeze_due
from console.routing.language import LanguageDetectors
from console.routing.state import RoutingState
from console.runtime.embedded_redis import EmbeddedRedis
from console.runtime.eventloop import loop_name, watch_lag
from console.runtime.metrics import Metrics
from console.runtime.metrics_server import serving_metrics
from console.runtime.redis_client import open_redis
from console.runtime.shutdown import Readiness
from console.security.crypto import load_or_create_secret
from console.security.passwords import PasswordHasher
from console.security.tokens import TokenSigner
from console.settings import Settings
from console.store.db import open_store
from console.supervision.breaches import WATCH_EVERY_S, BreachWatch
from console.supervision.live import STATS_PUSH_S, StatsPusher
from console.web import (
    admin,
    agents,
    agreement,
    attachments,
    audit_log,
    billing,
    canned,
    console_page,
    health,
    integrations,
    invitations,
    invoices,
    leads,
    mfa,
    openapi,
    operators,
    privacy,
    reports,
    supervisor,
    tenant_admin,
    tickets,
    widget,
)
from console.web.http import errors_middleware
from console.web.keys import (
    BACKGROUND,
    CLOCK,
    EMBEDDED_REDIS,
    GATE,
    HUB,
    LOGIN_GUARD,
    METRICS,
    ORIGINS,
    ORIGINS_LOCK,
    PASSWORDS,
    READINESS,
    REDIS,
    SETTINGS,
    SIGNER,
    SIO,
    STORE,
)
from console.web.login_guard import LoginGuard
from console.web.request_ids import request_id_middleware

log = structlog.get_logger("charla.app")
REDIS_CONNECTIONS = 100
REDIS_WAIT_S = 5.0
# How often the SLA freeze looks for months to close (idempotent in every process)
SLA_FREEZE_EVERY_S = 3600.0
# How often overdue invoices are looked at for late fees (idempotent in every process)
LATE_FEES_EVERY_S = 3600.0


def create_app(
    settings: Settings, *, passwords: PasswordHasher | None = None, clock: Clock | None = None
) -> web.Application:
    """The whole process: HTTP API, Socket.IO hub, background work. `clock` is the time the
    hub and the store read (tests hand in a fixed day; production the system's)."""
    app = web.Application(
        middlewares=[
            request_id_middleware,
            errors_middleware,
            audit_log.audit_middleware,
            operators.operator_access,
        ],
        client_max_size=settings.limits.max_http_buffer_bytes,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[METRICS] = Metrics()
    app[ORIGINS] = set()
    app[ORIGINS_LOCK] = asyncio.Lock()
    app[PASSWORDS] = passwords or PasswordHasher()
    app[BACKGROUND] = []
    app[GATE] = Gate()
    app[READINESS] = Readiness()

    def origin_allowed(origin: str | None, environ: dict[str, Any]) -> bool:
        """Engine.IO's first gate: no Origin (not a browser), our own host, or a tenant's.

        The `/visitor` namespace then checks the origin against that tenant's own list.
        """
        if not origin:
            return True
        host = environ.get("HTTP_HOST", "")
        if origin in (f"http://{host}", f"https://{host}"):
            return True
        return origin in app[ORIGINS]

    # CHARLA_SOCKETIO_ENGINE=stock: python-socketio's and python-engineio's own loops, for
    # a release of either that engine.py no longer fits (slower, the same protocol)
    server_class = SocketServer if settings.socketio_engine != "stock" else socketio.AsyncServer
    sio = server_class(
        async_mode="aiohttp",
        cors_allowed_origins=origin_allowed,
        max_http_buffer_size=settings.limits.max_frame_bytes,
        ping_interval=20,
        ping_timeout=20,
        logger=False,
        engineio_logger=False,
        serializer=JsonPacket,
        json=fastjson,
    )
    sio.attach(app)
    app[SIO] = sio
    for module in (
        health,
        admin,
        agents,
        leads,
        invitations,
        widget,
        canned,
        tenant_admin,
        tickets,
        supervisor,
        console_page,
        integrations,
        agreement,
        reports,
        billing,
        invoices,
        audit_log,
        mfa,
        operators,
        privacy,
        attachments,
        openapi,
    ):
        app.add_routes(module.routes)
    app.cleanup_ctx.extend([_redis_ctx, _store_ctx, _hub_ctx, _outbox_ctx])
    app.cleanup_ctx.append(_metrics_port_ctx)
    app.cleanup_ctx.append(attachments.files_ctx)  # after the hub's: it signs upload tokens
    app.on_shutdown.append(_drain)
    return app


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url
    if not settings.external_redis:
        embedded = EmbeddedRedis(settings.data_dir)
        await embedded.start()
        app[EMBEDDED_REDIS] = embedded
        url = embedded.url
        log.info("embedded_redis_started", socket=str(embedded.socket))
    # Blocking: at a burst (a hundred chats starting at once, each taking locks) a caller
    # waits a moment for a free connection instead of failing with "Too many connections".
    app[REDIS] = open_redis(
        settings,
        url,
        max_connections=REDIS_CONNECTIONS,
        wait_s=REDIS_WAIT_S,
        health_check_interval=10,
    )
    app[LOGIN_GUARD] = LoginGuard(app[REDIS])
    fanout = _use_client_manager(app[SIO], client_manager(settings, url))
    try:
        yield
    finally:
        if fanout is not None:
            await _close_client_manager(fanout)
        await app[REDIS].aclose()
        if embedded is not None:
            await embedded.stop()
            log.info("embedded_redis_stopped")


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[STORE] = await open_store(settings, app[CLOCK])
    if not settings.database.pgbouncer:  # no statement is kept across PgBouncer's pooling
        try:
            readied = await app[STORE].hot.warm(settings.database.pool_warm)
        except Exception as exc:  # an optimisation: the hub serves without it
            log.warning("db_pool_warm_failed", error=f"{type(exc).__name__}: {exc}")
        else:
            if readied:  # none on SQLite
                log.info("db_pool_warmed", connections=readied)
    secret = load_or_create_secret(
        settings.data_dir,
        settings.secret_key,
        "secret.key",
        lambda: uuid.uuid4().hex + uuid.uuid4().hex,
    )
    app[SIGNER] = TokenSigner(secret, settings.token_ttl_s)
    await admin.refresh_origins(app)
    try:
        yield
    finally:
        await app[STORE].close()


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis = app[REDIS]
    sio = app[SIO]
    instance = _process_id(sio.manager)
    hub = Hub.build(
        settings=settings,
        store=app[STORE],
        state=RoutingState(redis, instance),
        emitter=sio,
        metrics=app[METRICS],
        clock=app[CLOCK],
        detectors=LanguageDetectors(),
        disconnect=agent_disconnector(sio),
    )
    app[HUB] = hub
    app[METRICS].event_loop.labels(loop_name(asyncio.get_running_loop())).set(1)
    cluster = _with_fanout(Cluster(redis, hub, settings.heartbeat_s, instance), sio.manager)
    await cluster.join()

    async def refresh_origins() -> None:
        await admin.refresh_origins(app)

    engagement, feed = _register_namespaces(app, hub)
    tasks = app[BACKGROUND]
    tasks.append(asyncio.create_task(_warm_language_models(hub)))
    tasks.append(asyncio.create_task(watch_lag(app[METRICS].loop_lag.observe)))
    upkeep = hub.upkeep
    tasks.append(asyncio.create_task(run_periodically(settings.sweep_interval_s, upkeep.sweep)))
    tasks.append(asyncio.create_task(run_periodically(settings.heartbeat_s, cluster.beat)))
    # Another process may have added a tenant: its origins reach this one within a beat.
    tasks.append(asyncio.create_task(run_periodically(settings.heartbeat_s, refresh_origins)))
    pusher = StatsPusher(hub.ctx, sio)

    async def freeze_sla_months() -> None:
        await freeze_due(app[STORE], app[CLOCK].now())

    tasks.append(asyncio.create_task(run_periodically(SLA_FREEZE_EVERY_S, freeze_sla_months)))

    async def charge_late() -> None:
        await charge_late_fees(app[STORE], app[CLOCK].now())

    tasks.append(asyncio.create_task(run_periodically(LATE_FEES_EVERY_S, charge_late)))
    tasks.append(asyncio.create_task(run_periodically(STATS_PUSH_S, pusher.push)))
    tasks.extend(feed.running(settings.heartbeat_s))  # who is on the site now
    breaches = BreachWatch(hub.ctx)
    tasks.append(asyncio.create_task(run_periodically(WATCH_EVERY_S, breaches.check)))
    tasks.append(
        asyncio.create_task(run_periodically(settings.reconcile_interval_s, upkeep.reconcile))
    )
    purge = RetentionPurge(app[STORE], redis, app[CLOCK])
    tasks.append(asyncio.create_task(run_periodically(settings.purge_check_s, purge.run_due)))
    try:
        yield
    finally:
        await engagement.close()
        await hub.bots.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        tasks.clear()
        with contextlib.suppress(Exception):
            await cluster.leave()


def _process_id(manager: socketio.AsyncManager) -> str:
    """One id for this process in the cluster and in the fan-out (its channel, its rooms)."""
    if isinstance(manager, CoalescingRedisManager):
        return str(manager.host_id)
    return uuid.uuid4().hex


def _with_fanout(cluster: Cluster, manager: socketio.AsyncManager) -> Cluster:
    """The cluster tells the fan-out when a process's rooms are to be forgotten or
    recorded again (a reaped process, this one leaving, this one reaped while paused)."""
    if isinstance(manager, CoalescingRedisManager):
        cluster.forget_rooms, cluster.restore_rooms = manager.forget, manager.register_all
    return cluster


def _register_namespaces(app: web.Application, hub: Hub) -> tuple[Engagement, VisitorsFeed]:
    """`/visitor` and `/agent`, with the engagement features they share."""
    sio, limits = app[SIO], app[SETTINGS].limits
    engagement = Engagement(hub.ctx, hub.chats, hub.bots)
    feed = VisitorsFeed(engagement.onsite, sio)
    sio.register_namespace(
        VisitorNamespace(
            hub,
            Buckets(limits.visitor_events_per_s, limits.visitor_burst),
            app[GATE],
            engagement,
        )
    )
    sio.register_namespace(
        AgentNamespace(
            hub,
            Buckets(limits.agent_events_per_s, limits.agent_burst),
            app[GATE],
            app[SIGNER],
            engagement=engagement,
            feed=feed,
        )
    )
    return engagement, feed


async def _warm_language_models(hub: Hub) -> None:
    """Load lingua's models before the first premium visitor needs them (~0.3 s, ~90 MB)."""
    tenants = await hub.store.list_tenants()
    for languages in {t.languages for t in tenants if allows(t.plan, "multilingual")}:
        detector = hub.chats.detectors.get(languages)
        await asyncio.to_thread(detector.detect, "hola, hello")


async def _metrics_port_ctx(app: web.Application) -> AsyncIterator[None]:
    """CHARLA_METRICS_PORT: /metrics there, for the internal network, and not on the API."""
    settings = app[SETTINGS]
    async with serving_metrics(app[METRICS], settings.host, settings.metrics_port):
        yield


async def _outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    """The in-process outbox worker of `charla serve` (off with CHARLA_OUTBOX_WORKER=false)."""
    settings = app[SETTINGS]
    if not settings.outbox.in_process:
        yield
        return
    async with running_worker(app[STORE], settings, app[REDIS], app[METRICS].outbox):
        yield


def _use_client_manager(
    sio: socketio.AsyncServer, manager: socketio.AsyncManager | None
) -> socketio.AsyncManager | None:
    """Fan out through `manager` (known once Redis's URL is): set before any connection,
    and started now so that it listens before the first event of another process."""
    if manager is None:
        return None
    sio.manager = manager
    manager.set_server(sio)
    sio.manager_initialized = True
    manager.initialize()
    return manager


async def _close_client_manager(manager: socketio.AsyncManager) -> None:
    if isinstance(manager, CoalescingRedisManager):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(manager.flush(), 5)
        await manager.router.reset()
    listener = getattr(manager, "thread", None)
    if isinstance(listener, asyncio.Future):
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await listener
    connection = getattr(manager, "redis", None)
    if connection is not None:
        with contextlib.suppress(Exception):
            await connection.aclose()


async def _drain(app: web.Application) -> None:
    """On shutdown: stop taking events, let in-flight writes finish, then close connections
    so that clients reconnect (to another process, or to this one once it is back)."""
    app[READINESS].draining = True  # SIGINT comes straight here: unready all the same
    drained = await app[GATE].drain(timeout_s=10)
    log.info("events_drained", complete=drained)
    sio = app[SIO]
    for eio_socket in list(sio.eio.sockets.values()):
        with contextlib.suppress(Exception):
            await eio_socket.close(wait=False, abort=False)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(sio.shutdown(), 5)
