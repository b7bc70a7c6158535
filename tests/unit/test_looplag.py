"""The event loop's lag, as a serving process reports it to /metrics."""

from __future__ import annotations

import asyncio
import time

from console.eventloop import watch_lag


async def test_a_callback_that_holds_the_loop_is_observed_as_lag() -> None:
    seen: list[float] = []
    watcher = asyncio.create_task(watch_lag(seen.append, every_s=0.01))
    try:
        while len(seen) < 3:  # settled: the probe runs
            await asyncio.sleep(0.01)
        quiet = len(seen)
        time.sleep(0.3)  # a callback holding the loop, as a blocking call in a handler would
        while len(seen) < quiet + 2:
            await asyncio.sleep(0.01)
    finally:
        watcher.cancel()
    assert all(lag >= 0 for lag in seen), seen
    assert max(seen[quiet:]) >= 0.25, seen  # the probe was due during the blocking sleep
