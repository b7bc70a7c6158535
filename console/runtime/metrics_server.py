"""`/metrics` on a port of its own (CHARLA_METRICS_PORT): for Prometheus on the internal
network, never through the public load balancer. `charla serve` then answers 404 to
/metrics on its public port; `charla worker`, which serves nothing else, serves it only here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from console.runtime.metrics import Metrics

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def metrics_app(metrics: Metrics) -> web.Application:
    async def render(_request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def alive(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/metrics", render)
    app.router.add_get("/livez", alive)
    return app


@contextlib.asynccontextmanager
async def serving_metrics(metrics: Metrics, host: str, port: int | None) -> AsyncIterator[None]:
    """Serve `metrics` on host:port while the block runs (nothing when `port` is None)."""
    if port is None:
        yield
        return
    runner = web.AppRunner(metrics_app(metrics), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield
    finally:
        await runner.cleanup()
