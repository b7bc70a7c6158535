"""The reconcile pass (console/hub/upkeep.py) reads Redis in a bounded number of round
trips however many chats are open: a round trip per open chat, every 30 s in every
process, held the event loop up for a burst of chat starts (issue 25). Round trips are
counted on the hub's own Redis client, for the calls the pass makes (not the hub's
background tasks)."""

from __future__ import annotations

import contextvars
from typing import Any

import pytest
from redis.asyncio.client import Pipeline, Redis

from console.hub import Hub
from console.routing.state import BATCH
from console.web.keys import HUB
from tests.support.harness import LiveHub

QUEUED = BATCH + 100  # more than one pipelined batch of queue reads
ACTIVE = 40
counting: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "counting", default=None
)


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The Redis round trips made by the task that sets `counting` (and tasks it starts):
    each plain command, and each pipeline (however many commands it carries), once."""
    command, execute = Redis.execute_command, Pipeline.execute

    async def counted_command(self: Redis, *args: Any, **options: Any) -> Any:
        seen = counting.get()
        if seen is not None:
            seen.append(str(args[0]))
        return await command(self, *args, **options)  # type: ignore[no-untyped-call]

    async def counted_execute(self: Pipeline, raise_on_error: bool = True) -> Any:
        seen = counting.get()
        if seen is not None:
            seen.append(f"pipeline of {len(self.command_stack)}")
        return await execute(self, raise_on_error)

    monkeypatch.setattr(Redis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_execute)
    return []


async def test_a_reconcile_pass_makes_a_few_round_trips_for_hundreds_of_open_chats(
    hub: LiveHub, round_trips: list[str]
) -> None:
    core: Hub = hub.app[HUB]
    tenant = await hub.tenant()
    agents = [await hub.agent(tenant, languages=["es"], max_chats=ACTIVE) for _ in range(2)]
    chats = []
    for n in range(QUEUED + ACTIVE):
        visitor = await core.store.visitor_arrives(tenant["id"], None)
        chat, _, _ = await core.store.start_chat(
            tenant_id=tenant["id"],
            visitor_id=visitor.id,
            language="es",
            status="queued",
            text=f"Hola {n}",
            client_msg_id=None,
        )
        chats.append(chat)
    queued, active = chats[:QUEUED], chats[QUEUED:]
    for chat in queued:
        await core.dispatcher.enqueue(chat)
    for n, chat in enumerate(active):  # as an assignment leaves them: SQL and the load
        agent_id = agents[n % 2]["id"]
        assert await core.store.assign_chat(chat.id, agent_id, overflowed=False) is not None
        await core.state.hold(tenant["id"], agent_id, chat.id)
    # drift a crash can leave: two queued chats out of the queue, one load lost
    assert await core.state.dequeue(tenant["id"], queued[0].id)
    assert await core.state.dequeue(tenant["id"], queued[-1].id)
    await core.state.release(tenant["id"], agents[0]["id"], active[0].id, now_ms=0)
    keys = await core.state.redis.dbsize()

    round_trips.clear()
    counting.set(round_trips)
    assert 0 == await core.upkeep.reconcile()  # seen once: could be an assignment in flight
    first_pass = list(round_trips)
    counting.set(None)

    # A round trip per open chat would be 680 here; pipelined, it is the queue reads in
    # batches of BATCH, plus the scan of the keyspace for the loads in pages of BATCH keys
    # (each page's loads read in one pipeline).
    queue_reads = -(-QUEUED // BATCH)
    scan_pages = 2 * (keys // BATCH + 2)  # a page's SCAN and its loads' pipeline
    assert len(first_pass) <= queue_reads + scan_pages, first_pass
    assert queue_reads == sum(1 for r in first_pass if r == f"pipeline of {BATCH}") + sum(
        1 for r in first_pass if r == f"pipeline of {QUEUED - BATCH}"
    ), first_pass

    # and the pass still finds the drift, and repairs it on the second sight
    assert 3 == await core.upkeep.reconcile()
    assert await core.state.is_waiting(tenant["id"], queued[0].id)
    assert await core.state.is_waiting(tenant["id"], queued[-1].id)
    assert active[0].id in await core.state.agent_chats(tenant["id"], agents[0]["id"])
