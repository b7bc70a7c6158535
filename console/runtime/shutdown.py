"""Leaving the balancer before closing: on SIGTERM a hub first answers /readyz with 503 for
`CHARLA_DRAIN_DELAY_S` while it still serves, so that the balancer (or Kubernetes' endpoints)
stops sending it new connections; only then does aiohttp's graceful exit start the drain
(console/app.py's `_drain`). A second SIGTERM, or SIGINT, exits at once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import structlog
from aiohttp import web

log = structlog.get_logger("charla.shutdown")


class Readiness:
    """Whether this process should be given new traffic (/readyz): not once it is leaving."""

    def __init__(self) -> None:
        self.draining = False


def _graceful_exit() -> None:
    raise web.GracefulExit


def unready_on_sigterm(
    loop: asyncio.AbstractEventLoop,
    readiness: Readiness,
    delay_s: float,
    exit_now: Callable[[], None] = _graceful_exit,
) -> None:
    """Take over SIGTERM (after aiohttp's runner set its own): unready at once, exit after
    `delay_s`. Called while the app starts, in the serving loop."""

    def on_sigterm() -> None:
        if readiness.draining:
            exit_now()
            return
        readiness.draining = True
        log.info("unready", drain_in_s=delay_s)
        loop.call_later(delay_s, exit_now)

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
