"""The fan-out's routing script goes to Redis on a connection that gets no replies
(console/realtime/fanout.py's `RouteWriter`): the emits still reach the processes that hold
their rooms, the hub reads nothing back, and a Redis that restarted is written to again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from console.realtime.fanout import RouteWriter
from console.realtime.holders import PROCESS_CHANNEL_PREFIX, holders_key
from tests.support.cluster import RedisServer


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[tuple[RedisServer, Redis]]:
    server = RedisServer(tmp_path / "redis").start()
    client = Redis.from_url(server.url)
    yield server, client
    await client.aclose()
    server.kill()


async def _published(pubsub: Any, timeout_s: float = 5) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            return str(message["data"].decode())
    raise AssertionError("nothing was published")


async def test_routed_emits_reach_the_holder_and_nothing_comes_back(
    redis: tuple[RedisServer, Redis],
) -> None:
    _server, client = redis
    room = holders_key("/agent", "agent:a1")
    await client.sadd(room, "other", "me")
    pubsub = client.pubsub()
    await pubsub.subscribe(PROCESS_CHANNEL_PREFIX + "other", PROCESS_CHANNEL_PREFIX + "me")
    router = RouteWriter(lambda: client)
    emit = json.dumps({"event": "message", "room": "agent:a1", "data": ["hola"]})

    await router.send(
        [room, holders_key("/agent", "watch:c1")], ["me", PROCESS_CHANNEL_PREFIX, emit, "{}"]
    )
    assert f"me|[{emit}]" == await _published(pubsub), "to the other holder, not to itself"
    await router.send([room], ["me", PROCESS_CHANNEL_PREFIX, "not json: still routed"])
    assert "me|[not json: still routed]" == await _published(pubsub)

    connection = router._connection
    assert connection is not None
    await asyncio.sleep(0.2)
    assert not await connection.can_read(), "Redis sent no reply to read"
    await router.reset()
    await pubsub.aclose()


async def test_after_a_redis_restart_the_next_batch_goes_on_a_new_connection(
    redis: tuple[RedisServer, Redis],
) -> None:
    server, client = redis
    room = holders_key("/visitor", "visitor:v1")
    router = RouteWriter(lambda: client)
    await client.sadd(room, "other")
    await router.send([room], ["me", PROCESS_CHANNEL_PREFIX, "{}"])
    before = router._connection

    await asyncio.to_thread(server.kill)
    await asyncio.to_thread(server.start)
    await client.sadd(room, "other")
    pubsub = client.pubsub()
    await pubsub.subscribe(PROCESS_CHANNEL_PREFIX + "other")
    await router.reset()  # what the listener does as it subscribes again
    await router.send([room], ["me", PROCESS_CHANNEL_PREFIX, '{"n": 2}'])
    assert 'me|[{"n": 2}]' == await _published(pubsub)
    assert router._connection is not before
    await router.reset()
    await pubsub.aclose()


async def test_a_write_to_a_redis_that_is_gone_raises_and_drops_the_connection(
    redis: tuple[RedisServer, Redis],
) -> None:
    server, client = redis
    router = RouteWriter(lambda: client)
    await router.send([holders_key("/visitor", "visitor:v1")], ["me", PROCESS_CHANNEL_PREFIX])
    await asyncio.to_thread(server.kill)
    room = holders_key("/visitor", "visitor:v1")

    async def keep_sending() -> None:
        for _ in range(50):  # the first writes may still go into the socket's buffer
            await router.send([room], ["me", PROCESS_CHANNEL_PREFIX])
            await asyncio.sleep(0.02)

    with pytest.raises(RedisConnectionError):
        await keep_sending()
    assert router._connection is None
