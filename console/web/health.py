"""Health that means something.

- /livez: the event loop answers (a process whose loop is stuck answers nothing, and is
  restarted); it asks nothing else, so a database outage never restarts every hub at once.
- /readyz: give this process traffic? The database and Redis answer, the schema is at the
  migration this code expects, the data key reads the database's key check, and the process
  is not leaving (SIGTERM: runtime/shutdown.py).
- /healthz: the database and Redis (compose's and older balancers' check).
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from console.store.db import head_revision, known_revisions, schema_revision
from console.store.keycheck import data_key_status
from console.web.keys import METRICS, READINESS, REDIS, SETTINGS, STORE

PROBE_TIMEOUT_S = 2.0

routes = web.RouteTableDef()


@routes.get("/")
async def root(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


async def _redis_check(app: web.Application) -> str:
    try:
        await asyncio.wait_for(app[REDIS].ping(), PROBE_TIMEOUT_S)
    except Exception as exc:  # any failure means "not healthy", whatever its kind
        return f"failed: {type(exc).__name__}"
    return "ok"


def _answer(checks: dict[str, str], bad: str = "unavailable") -> web.Response:
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else bad, "checks": checks}, status=200 if healthy else 503
    )


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    try:
        # shielded: a ping cancelled by the timeout inside its query would leave SQLite's
        # connection holding the write lock (see console/store/db.py)
        await asyncio.wait_for(asyncio.shield(request.app[STORE].ping()), PROBE_TIMEOUT_S)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not healthy", whatever its kind
        checks["database"] = f"failed: {type(exc).__name__}"
    checks["redis"] = await _redis_check(request.app)
    return _answer(checks)


@routes.get("/livez")
async def livez(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    app = request.app
    if app[READINESS].draining:  # leaving: nothing else matters, and nothing is asked
        return web.json_response({"status": "draining", "checks": {}}, status=503)
    checks: dict[str, str] = {}
    try:  # one read: the database answers, and says which migration it is at
        at = await asyncio.wait_for(
            asyncio.shield(schema_revision(app[STORE].engine)), PROBE_TIMEOUT_S
        )
        checks["database"] = "ok"
        head = head_revision()
        if at == head:
            checks["migrations"] = "ok"
        elif at is not None and at not in known_revisions():
            # an upgrade's migration ran before its new hubs: this older hub still serves
            # until it is replaced (migrations are additive), so a rollout never goes dark
            checks["migrations"] = "ok"
        else:
            checks["migrations"] = f"at {at}, expected {head}"
        # this process's CHARLA_DATA_KEY still reads the database (console/store/keycheck.py)
        checks["data_key"] = await asyncio.wait_for(
            asyncio.shield(data_key_status(app[STORE])), PROBE_TIMEOUT_S
        )
    except Exception as exc:
        checks["database"] = f"failed: {type(exc).__name__}"
    checks["redis"] = await _redis_check(app)
    return _answer(checks)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    if request.app[SETTINGS].metrics_port is not None:  # served on the internal port only
        raise web.HTTPNotFound()
    return web.Response(
        body=request.app[METRICS].render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
