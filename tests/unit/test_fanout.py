"""The Redis fan-out's batching and the cheaper binary test, against python-socketio's own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
import socketio
from redis.asyncio import Redis

from console.realtime import fastjson
from console.realtime.fanout import FANOUT_CHANNEL, CoalescingRedisManager
from console.realtime.packets import JsonPacket, holds_bytes
from tests.support.cluster import RedisServer

SAMPLES: list[Any] = [
    None,
    "hola",
    7,
    [],
    {},
    {"chat_id": "c", "message": {"id": "1", "text": "hola", "created_at": "2026"}},
    ["message", {"nested": [{"deep": [b"x"]}]}],
    {"a": bytearray(b"1")},
    [{"a": 1}, ("t", b"\x00")],
    {"queue": {"waiting": [{"chat_id": "c", "position": 1}] * 50}},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_holds_bytes_answers_as_python_socketio_does(data: Any) -> None:
    expected = socketio.packet.Packet.data_is_binary(data)
    if isinstance(data, list) and any(isinstance(item, tuple) for item in data):
        expected = True  # python-socketio does not look into tuples; json sends them as lists
    assert expected == holds_bytes(data) == JsonPacket.data_is_binary(data)


def test_json_packet_encodes_what_python_socketio_encodes() -> None:
    data = ["message", {"chat_id": "c", "message": {"text": '¿hola? <b> \u2028 "x"'}}]
    ours = JsonPacket(socketio.packet.EVENT, namespace="/agent", data=data)
    ours.json = fastjson
    theirs = socketio.packet.Packet(socketio.packet.EVENT, namespace="/agent", data=data)
    ours_text, theirs_text = ours.encode(), theirs.encode()
    prefix = "2/agent,"
    assert ours_text.startswith(prefix)
    assert theirs_text.startswith(prefix)
    assert json.loads(theirs_text[len(prefix) :]) == json.loads(ours_text[len(prefix) :])
    decoded = socketio.packet.Packet(encoded_packet=ours_text)
    assert data == decoded.data


async def next_message(pubsub: Any, host_id: str) -> Any:
    """The next published batch, with its publisher's id before it."""
    for _ in range(50):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            head, _, body = message["data"].decode().partition("|")
            assert host_id == head
            return json.loads(body)
    raise AssertionError("nothing was published")


async def test_emits_of_one_turn_reach_redis_as_one_message_and_are_read_back_one_by_one(
    tmp_path: Path,
) -> None:
    server = RedisServer(tmp_path / "redis").start()
    try:
        manager = CoalescingRedisManager(
            server.url, channel=FANOUT_CHANNEL, write_only=True, json=json
        )
        reader = CoalescingRedisManager(
            server.url, channel=FANOUT_CHANNEL, write_only=True, json=json
        )
        redis = Redis.from_url(server.url)
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(FANOUT_CHANNEL)
        read_back = reader._listen()
        first = asyncio.ensure_future(anext(read_back))
        await asyncio.sleep(0.2)  # the reader has subscribed
        for n in range(3):
            await manager._publish({"method": "emit", "event": "message", "n": n})
        await manager.flush()
        assert [0, 1, 2] == [m["n"] for m in await next_message(pubsub, manager.host_id)]
        assert [0, 1, 2] == [(await first)["n"], *[(await anext(read_back))["n"] for _ in "12"]]
        await manager._publish({"method": "emit", "event": "alone"})
        await manager.flush()
        assert {"method": "emit", "event": "alone"} == await next_message(pubsub, manager.host_id)
        assert "alone" == (await anext(read_back))["event"]
        # a plain python-socketio message is read too; a process skips its own batches
        await redis.publish(FANOUT_CHANNEL, json.dumps({"method": "emit", "event": "plain"}))
        await reader._publish({"method": "emit", "event": "own"})
        await reader.flush()
        await redis.publish(FANOUT_CHANNEL, json.dumps({"method": "emit", "event": "last"}))
        assert ["plain", "last"] == [(await anext(read_back))["event"] for _ in "12"]
        assert isinstance(read_back, AsyncGenerator)  # typed as the iterator it is read as
        await read_back.aclose()
        await pubsub.aclose()
        await redis.aclose()
    finally:
        server.kill()
