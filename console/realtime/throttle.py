"""Typing notices: at most one per interval per connection, and the latest always arrives.

Dropping notices inside the interval would risk leaving an agent looking at "typing…"
forever; so the newest state is held and sent when the interval ends, if it changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

Forward = Callable[[bool], Awaitable[None]]
Key = tuple[str, str]  # (connection, chat)
MAX_CHATS_PER_CONNECTION = 64  # typing state kept per connection; chat ids are client input


class TypingThrottle:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last_at: dict[Key, float] = {}
        self._sent: dict[Key, bool] = {}
        self._forwards: dict[Key, Forward] = {}
        self._pending: dict[Key, tuple[bool, Forward]] = {}
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._by_sid: dict[str, set[Key]] = {}

    async def offer(self, sid: str, chat_id: str, typing: bool, forward: Forward) -> None:
        key = (sid, chat_id)
        keys = self._by_sid.setdefault(sid, set())
        if key not in keys and len(keys) >= MAX_CHATS_PER_CONNECTION:
            self._prune(keys)
            if len(keys) >= MAX_CHATS_PER_CONNECTION:
                return  # chat ids made up by the client: no state, no lookup, for them
        keys.add(key)
        now = time.monotonic()
        last = self._last_at.get(key)
        if last is None or now - last >= self.interval_s:
            self._pending.pop(key, None)
            await self._send(key, typing, forward, now)
            return
        self._pending[key] = (typing, forward)
        if key not in self._timers:
            delay = self.interval_s - (now - last)
            self._timers[key] = asyncio.get_running_loop().call_later(delay, self._flush, key)

    async def _send(self, key: Key, typing: bool, forward: Forward, now: float) -> None:
        self._last_at[key] = now
        self._sent[key] = typing
        self._forwards[key] = forward
        await forward(typing)

    def _prune(self, keys: set[Key]) -> None:
        """Forget a connection's chats with nothing left to send (not typing, no timer)."""
        for key in [k for k in keys if k not in self._timers and not self._sent.get(k)]:
            keys.discard(key)
            self._last_at.pop(key, None)
            self._sent.pop(key, None)
            self._forwards.pop(key, None)
            self._pending.pop(key, None)

    def _flush(self, key: Key) -> None:
        self._timers.pop(key, None)
        pending = self._pending.pop(key, None)
        if pending is None or self._sent.get(key) == pending[0]:
            return
        task = asyncio.create_task(self._send(key, pending[0], pending[1], time.monotonic()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def forget(self, sid: str) -> None:
        """A connection closed: whoever was told it is typing is told it stopped."""
        for key in self._by_sid.pop(sid, ()):
            timer = self._timers.pop(key, None)
            if timer is not None:
                timer.cancel()
            self._last_at.pop(key, None)
            self._pending.pop(key, None)
            forward = self._forwards.pop(key, None)
            if self._sent.pop(key, False) and forward is not None:
                await forward(False)
