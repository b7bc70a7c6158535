"""Liveness that means something: /healthz asks the database and Redis for real."""

from __future__ import annotations

import asyncio

from aiohttp import web

from console.web.keys import METRICS, REDIS, STORE

routes = web.RouteTableDef()


@routes.get("/")
async def root(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    try:
        # shielded: a ping cancelled by the timeout inside its query would leave SQLite's
        # connection holding the write lock (see console/store/db.py)
        await asyncio.wait_for(asyncio.shield(request.app[STORE].ping()), 2)
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not healthy", whatever its kind
        checks["database"] = f"failed: {type(exc).__name__}"
    try:
        await asyncio.wait_for(request.app[REDIS].ping(), 2)
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"failed: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        body=request.app[METRICS].render(),
        headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
    )
