"""Choosing the Socket.IO fan-out, and the socket records a dead process leaves behind."""

from __future__ import annotations

import pytest
import socketio

from console.realtime.fanout import client_manager
from console.realtime.packets import LocalManager
from console.routing.state import LocalSocket, parse_socket
from console.settings import ConfigError, Limits, Settings


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "local"),
        ({"CHARLA_REDIS_URL": "redis://redis:6379/0"}, "redis"),
        ({"CHARLA_REDIS_URL": "redis://redis:6379/0", "CHARLA_FANOUT": "local"}, "local"),
        ({"CHARLA_FANOUT": "Redis"}, "redis"),
    ],
)
def test_fanout_defaults_to_redis_only_when_redis_is_shared(
    env: dict[str, str], expected: str
) -> None:
    assert expected == Settings.from_env(env).resolved_fanout


def test_an_unknown_fanout_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="CHARLA_FANOUT must be one of redis, local"):
        Settings.from_env({"CHARLA_FANOUT": "kafka"})


def test_heartbeat_is_configurable() -> None:
    assert (5.0, 0.5) == (
        Settings.from_env({}).heartbeat_s,
        Settings.from_env({"CHARLA_HEARTBEAT_S": "0.5"}).heartbeat_s,
    )


def test_client_manager_is_python_socketios_redis_manager_on_our_channel() -> None:
    shared = Settings.from_env({"CHARLA_REDIS_URL": "redis://127.0.0.1:6390/0"})
    manager = client_manager(shared, "redis://127.0.0.1:6390/0")
    assert isinstance(manager, socketio.AsyncRedisManager)
    assert ("redis://127.0.0.1:6390/0", "charla:socketio", False) == (
        manager.redis_url,
        manager.channel,
        manager.write_only,
    )
    local = client_manager(Settings(), "unix:///tmp/redis.sock")
    assert isinstance(local, LocalManager)
    assert not isinstance(local, socketio.AsyncRedisManager)


def test_socket_records_round_trip_and_garbage_is_ignored() -> None:
    socket = LocalSocket(kind="agent", tenant_id="t1", owner_id="a1", sid="s|x")
    assert "agent|t1|a1|s|x" == socket.record
    assert socket == parse_socket(socket.record)
    assert parse_socket("robot|t1|a1|s1") is None
    assert parse_socket("visitor|t1") is None


def test_event_budgets_come_from_the_environment_and_refuse_nonsense() -> None:
    assert Limits() == Settings.from_env({}).limits
    tuned = Settings.from_env(
        {"CHARLA_VISITOR_EVENTS_PER_S": "50", "CHARLA_VISITOR_BURST": "100"}
    ).limits
    assert (50.0, 100, 20.0, 60) == (
        tuned.visitor_events_per_s,
        tuned.visitor_burst,
        tuned.agent_events_per_s,
        tuned.agent_burst,
    )
    with pytest.raises(ConfigError, match="CHARLA_AGENT_EVENTS_PER_S must be more than 0"):
        Settings.from_env({"CHARLA_AGENT_EVENTS_PER_S": "0"})
    with pytest.raises(ConfigError, match="CHARLA_VISITOR_BURST must be at least 1"):
        Settings.from_env({"CHARLA_VISITOR_BURST": "0"})
