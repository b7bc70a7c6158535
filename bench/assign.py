"""The cost of the ASSIGN Lua script with a long queue: it scans the tenant's whole queue
against every online agent, inside Redis, where it blocks every other command of every hub
process while it runs. Worst case measured: no waiting chat can be given to anyone (they
wait in a language that no online agent speaks), so each dispatch scans everything.

Run: .venv/bin/python -m bench.assign
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from console.routing.state import RoutingState
from tests.support import RedisServer

ROUNDS = 20


async def measure(state: RoutingState, tenant: str, waiting: int, agents: int) -> float:
    await state.reset()
    now = int(time.time() * 1000)
    for n in range(agents):
        await state.set_agent_status(
            tenant, f"a{n}", status="online", max_chats=3, languages=["es"], now_ms=now
        )
    async with state.redis.pipeline(transaction=False) as pipe:
        for n in range(waiting):
            pipe.zadd(f"{state.prefix(tenant)}queue", {f"c{n}": now + n})
            pipe.hset(f"{state.prefix(tenant)}qmeta:c{n}", mapping={"lang": "en", "since": now})
        await pipe.execute()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        assert await state.assign(tenant, now_ms=now, overflow_after_ms=0) == []
    return (time.perf_counter() - started) / ROUNDS * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, RedisServer(Path(tmp)) as server:
        redis = Redis.from_url(server.url)
        state = RoutingState(redis)
        print(f"{'waiting chats':>14} {'online agents':>14} {'ASSIGN, ms':>11}")
        for waiting in (10, 100, 1000, 5000):
            for agents in (5, 50):
                ms = await measure(state, "t1", waiting, agents)
                print(f"{waiting:>14} {agents:>14} {ms:>11.2f}")
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
