"""Waking the outbox workers: a Redis message right after a delivery is queued.

Redis pub/sub is at most once, so this only makes delivery start at once; the workers' poll
is what guarantees that a queued delivery is found.
"""

from __future__ import annotations

import contextlib

from redis.asyncio import Redis

WAKE_CHANNEL = "charla:outbox:wake"


async def wake_outbox(redis: Redis) -> None:
    with contextlib.suppress(Exception):
        await redis.publish(WAKE_CHANNEL, "1")
