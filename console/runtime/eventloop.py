"""The event loop `charla serve` runs on: uvloop where it is installed (the default), or
asyncio's own (CHARLA_EVENT_LOOP=asyncio). uvloop runs the same asyncio code on libuv and
took about a tenth off the hub's CPU per message (docs/performance.md)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from console.settings import ConfigError

LAG_PROBE_S = 0.25


def new_event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """A loop of the kind `choice` names ("uvloop", "asyncio", or "" for uvloop if any)."""
    if choice == "asyncio":
        return asyncio.new_event_loop()
    try:
        import uvloop  # noqa: PLC0415 (optional: there is no uvloop for Windows)
    except ImportError:
        if choice == "uvloop":
            raise ConfigError("CHARLA_EVENT_LOOP=uvloop, but uvloop is not installed") from None
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """ "uvloop" or "asyncio": what a process runs on, for /metrics."""
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


async def watch_lag(observe: Callable[[float], None], every_s: float = LAG_PROBE_S) -> None:
    """Every `every_s`, observe how late the loop ran a timer that was due: how long
    callbacks held the loop past it. Every connection of the process waited as long."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + every_s
        await asyncio.sleep(every_s)
        observe(max(0.0, loop.time() - due))
