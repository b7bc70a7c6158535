"""Every Redis client Charla opens comes from here: one URL (`CHARLA_REDIS_URL`, or the
embedded server's socket), or the primary that Redis Sentinel names (`CHARLA_REDIS_SENTINELS`),
followed through a failover.

Through Sentinel, a connection asks the sentinels for the service's primary when it connects;
a connection to a primary that was demoted (READONLY) or died is dropped, and the next one
goes to the new primary. Socket.IO's fan-out takes the same endpoint as a `redis+sentinel://`
URL, which python-socketio's `AsyncRedisManager` reads itself.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from console.settings import RedisSentinel, Settings


class BlockingSentinelPool(SentinelConnectionPool, BlockingConnectionPool):
    """Connections to the primary Sentinel names, at most `max_connections`: at a burst a
    caller waits up to `timeout` for a free one, as with a plain `BlockingConnectionPool`."""


class SentinelRedis(Redis):
    """A client of the service's primary that closes its sentinels' connections with its own."""

    sentinels: Sentinel

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        await self.sentinels.aclose()


def _sentinel_options(sentinel: RedisSentinel, options: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in options.items() if k.startswith("socket_")}
    if sentinel.password:
        kept["password"] = sentinel.password
    return kept


def open_redis(
    settings: Settings,
    url: str | None = None,
    *,
    max_connections: int = 50,
    wait_s: float | None = 5.0,
    **options: Any,
) -> Redis:
    """A client of the deployment's Redis: its primary through Sentinel when sentinels are
    set, else `url` (the embedded server's) or CHARLA_REDIS_URL. `options` are redis-py's
    connection keywords (timeouts, health checks)."""
    if settings.redis_password:
        options.setdefault("password", settings.redis_password)
    sentinel_config = settings.redis_sentinel
    if sentinel_config is not None:
        sentinel = Sentinel(
            sentinel_config.sentinels,
            sentinel_kwargs=_sentinel_options(sentinel_config, options),
            **options,
        )
        client = cast(
            SentinelRedis,
            SentinelRedis.from_pool(
                BlockingSentinelPool(  # type: ignore[no-untyped-call]  # redis-py's __init__
                    sentinel_config.service,
                    sentinel,
                    max_connections=max_connections,
                    timeout=wait_s,
                    **sentinel.connection_kwargs,
                )
            ),
        )
        client.sentinels = sentinel
        return client
    target = url or settings.redis_url
    if target is None:
        raise ValueError("no Redis to connect to: set CHARLA_REDIS_URL or CHARLA_REDIS_SENTINELS")
    return Redis.from_pool(
        BlockingConnectionPool.from_url(
            target, max_connections=max_connections, timeout=wait_s, **options
        )
    )


def socketio_url(settings: Settings, url: str | None = None) -> str:
    """The endpoint as python-socketio's Redis manager reads it: `url`, or for Sentinel
    `redis+sentinel://host:port,host:port/0/service` (no password: `socketio_options`)."""
    sentinel = settings.redis_sentinel
    if sentinel is None:
        target = url or settings.redis_url
        if target is None:
            raise ValueError("no Redis to connect to")
        return target
    hosts = ",".join(f"{host}:{port}" for host, port in sentinel.sentinels)
    return f"redis+sentinel://{hosts}/0/{quote(sentinel.service, safe='')}"


def socketio_options(settings: Settings, options: dict[str, Any]) -> dict[str, Any]:
    """redis-py keywords for python-socketio's manager: the passwords out of the URL."""
    found = dict(options)
    if settings.redis_password:
        found["password"] = settings.redis_password
    if settings.redis_sentinel is not None:
        found["sentinel_kwargs"] = _sentinel_options(settings.redis_sentinel, options)
    return found
