"""Which hub processes hold members of which rooms, in Redis: what lets the fan-out publish
an emit to the processes that deliver it and to no other (console/realtime/fanout.py).

- `charla:fanout:room:<namespace>#<room>`: the set of ids of the processes holding at least
  one socket in that room. A process adds itself when its first socket enters the room and
  removes itself when its last one leaves.
- `charla:fanout:held:<process>`: the room keys a process added itself to, so that what a
  process that died had registered can be removed by whoever reaps it (console/hub/cluster.py).
- `charla:socketio:<process>`: the channel a process reads; `charla:socketio` (all read it)
  stays for what has no room (a namespace-wide emit, python-socketio's own messages).

Writes go out in order, pipelined, from one task; `flushed()` waits for them, so that a
socket's join is in Redis before its connect handler goes on (an emit after the join,
from any process, then finds this process). A socket's own room (its sid) is never
registered: only the process holding a socket addresses it by sid.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

import structlog

log = structlog.get_logger("charla.cluster")

HOLDERS_PREFIX = "charla:fanout:room:"
HELD_PREFIX = "charla:fanout:held:"
PROCESS_CHANNEL_PREFIX = "charla:socketio:"

# One round trip per batch of emits: each emit's room's holders are looked up and every
# process other than the publisher gets, on its own channel, one message with the emits it
# holds members for (KEYS: a holders key per emit; ARGV: publisher, channel prefix, then
# each emit as JSON). Returns how many processes were published to.
ROUTE_SCRIPT = """
local me, prefix = ARGV[1], ARGV[2]
local out, order = {}, {}
for i, key in ipairs(KEYS) do
  for _, host in ipairs(redis.call('SMEMBERS', key)) do
    if host ~= me then
      local list = out[host]
      if not list then
        list = {}
        out[host] = list
        order[#order + 1] = host
      end
      list[#list + 1] = ARGV[i + 2]
    end
  end
end
for _, host in ipairs(order) do
  redis.call('PUBLISH', prefix .. host, me .. '|[' .. table.concat(out[host], ',') .. ']')
end
return #order
"""


def holders_key(namespace: str, room: str) -> str:
    return f"{HOLDERS_PREFIX}{namespace}#{room}"


def held_key(process: str) -> str:
    return f"{HELD_PREFIX}{process}"


def process_channel(process: str) -> str:
    return f"{PROCESS_CHANNEL_PREFIX}{process}"


class RoomHolders:
    """This process's entries in the holders sets, written in order by one task."""

    def __init__(self, process: str, redis: Callable[[], Any]) -> None:
        self.process = process
        self._redis = redis  # the manager's client (it is replaced when it reconnects)
        self._pending: list[tuple[bool, str]] = []  # (entered, holders key), in order
        self._writer: asyncio.Task[None] | None = None

    def entered(self, key: str) -> None:
        self._queue(True, key)

    def left(self, key: str) -> None:
        self._queue(False, key)

    def _queue(self, entered: bool, key: str) -> None:
        self._pending.append((entered, key))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def flushed(self) -> None:
        """Wait until what was queued so far is in Redis (or given up)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write(self) -> None:
        await asyncio.sleep(0)  # the rest of this turn's joins and leaves join the batch
        while self._pending:
            batch, self._pending = self._pending, []
            held = held_key(self.process)
            try:
                async with self._redis().pipeline(transaction=False) as pipe:
                    for entered, key in batch:
                        if entered:
                            pipe.sadd(key, self.process)
                            pipe.sadd(held, key)
                        else:
                            pipe.srem(key, self.process)
                            pipe.srem(held, key)
                    await pipe.execute()
            except Exception as exc:  # Redis away: the listener re-registers when it is back
                log.warning("fanout_register_failed", error=str(exc))

    async def register_all(self, keys: Iterable[str]) -> None:
        """Every room this process holds members of, again (a Redis that restarted empty,
        a failover, or this process reaped while it was paused)."""
        for key in keys:
            self.entered(key)
        await self.flushed()


async def forget_process(redis: Any, process: str) -> None:
    """Remove a process from every holders set it added itself to (it died, or left)."""
    held = held_key(process)
    keys = [k.decode() if isinstance(k, bytes) else str(k) for k in await redis.smembers(held)]
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.srem(key, process)
        pipe.delete(held)
        await pipe.execute()
