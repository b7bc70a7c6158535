"""Per-key work that many callers ask for at once is done once for all who are waiting.

`dispatch(tenant)` and `publish_queue(tenant)` run after every start, close, transfer and
status change. At 100 chats starting per second on one tenant, each start ran both from
scratch (an assignment script, a queue read, a Redis lock, an emit to every agent), and the
runs queued behind one another on the per-tenant lock. Whoever asks while a run is in
progress now joins the next run, which starts as soon as that one ends and serves all of
them: each caller still returns only after a run that began after its request, so it sees
everything it did before asking (its chat enqueued, its agent online).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Next(Generic[T]):
    """The run that callers arriving now will share, with what they asked to be told."""

    future: asyncio.Future[T]
    tell: set[str] = field(default_factory=set)


class Coalesced(Generic[T]):
    def __init__(self, work: Callable[[str, frozenset[str]], Awaitable[T]]) -> None:
        self._work = work
        self._next: dict[str, _Next[T]] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}

    async def __call__(self, key: str, tell: frozenset[str] = frozenset()) -> T:
        upcoming = self._next.get(key)
        if upcoming is None:
            upcoming = self._next[key] = _Next(asyncio.get_running_loop().create_future())
        upcoming.tell.update(tell)
        runner = self._runners.get(key)
        if runner is None or runner.done():
            # a task of its own: a caller that is cancelled does not stop the others' run
            self._runners[key] = asyncio.get_running_loop().create_task(self._run(key))
        return await asyncio.shield(upcoming.future)

    async def _run(self, key: str) -> None:
        try:
            while (upcoming := self._next.pop(key, None)) is not None:
                try:
                    result = await self._work(key, frozenset(upcoming.tell))
                except Exception as exc:
                    upcoming.future.set_exception(exc)
                    upcoming.future.exception()  # its callers re-raise it; none may be left
                else:
                    upcoming.future.set_result(result)
        finally:
            self._runners.pop(key, None)
