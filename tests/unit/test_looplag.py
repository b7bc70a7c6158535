"""The event loop's lag, as a serving process reports it to /metrics."""

from __future__ import annotations

import asyncio
import time

from console.runtime.eventloop import watch_lag


async def test_a_callback_that_holds_the_loop_is_observed_as_lag() -> None:
    seen: list[float] = []
    probed = asyncio.Event()

    def observe(lag: float) -> None:
        seen.append(lag)
        probed.set()

    async def probes(count: int) -> None:
        for _ in range(count):
            await asyncio.wait_for(probed.wait(), 5)
            probed.clear()

    watcher = asyncio.create_task(watch_lag(observe, every_s=0.01))
    try:
        await probes(3)  # the probe runs
        quiet = len(seen)
        # a callback holding the loop, as a blocking call in a handler would
        asyncio.get_running_loop().call_soon(time.sleep, 0.3)
        await probes(2)
    finally:
        watcher.cancel()
    assert all(lag >= 0 for lag in seen), seen
    assert max(seen[quiet:]) >= 0.25, seen  # the probe was due during the blocking sleep
