"""A `charla worker` process SIGKILLed while Salesforce holds its Lead create open: after a
restart the delivery is finished, and the fake Salesforce holds exactly one Lead and one
Task (the Lead is found by e-mail and updated, not created twice)."""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import IO

from console.settings import Outbox
from console.web.keys import EMBEDDED_REDIS
from tests.support.fakes.salesforce import running_fake_salesforce
from tests.support.harness import HubFactory, active_chat
from tests.support.leads import LEAD, connect_salesforce, save, settled
from tests.support.processes import charla_process


def worker(
    data_dir: Path, redis_url: str, log: IO[bytes]
) -> AbstractAsyncContextManager[asyncio.subprocess.Process]:
    env = {
        **os.environ,
        "CHARLA_REDIS_URL": redis_url,
        "CHARLA_DATA_DIR": str(data_dir),
        "CHARLA_OUTBOX_LEASE_S": "10",  # Salesforce calls may take 1.25 s each
        # a poll this slow proves the wake-up: the hub's Redis message starts the delivery
        "CHARLA_OUTBOX_POLL_S": "60",
        "CHARLA_OUTBOX_BACKOFF_S": "0.1",
        "CHARLA_OUTBOX_ALLOW_PRIVATE": "true",
    }
    return charla_process("worker", env, output=log)


def tail(path: Path) -> str:
    return path.read_text()[-4000:]


async def logged(path: Path, event: str, timeout_s: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while event not in tail(path):
        if loop.time() > deadline:
            raise AssertionError(f"no {event} in the worker's log: {tail(path)}")
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_delivery_finishes_it_after_restart_exactly_once(
    make_hub: HubFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "var"
    hub = await make_hub(data_dir=data_dir, outbox=Outbox(in_process=False, allow_private=True))
    async with running_fake_salesforce(tmp_path / "tls") as salesforce:
        tenant, agent, agent_peer, _visitor, chat = await active_chat(hub)
        await connect_salesforce(hub, tenant, salesforce)
        hold = salesforce.hold_next_create("Lead")
        with (tmp_path / "worker.log").open("wb") as log:
            redis_url = hub.app[EMBEDDED_REDIS].url  # the hub's Redis, as in a deployment
            async with worker(data_dir, redis_url, log) as first:
                await logged(tmp_path / "worker.log", "outbox_wakeups_subscribed")
                lead = await save(agent_peer, chat, LEAD)
                await asyncio.wait_for(hold.arrived.wait(), 30)
                # The Lead exists in Salesforce; the worker has not heard so. Kill it.
                os.kill(first.pid, signal.SIGKILL)
                assert -signal.SIGKILL == await first.wait()
            hold.release.set()
            assert (1, 0) == (len(salesforce.leads), len(salesforce.tasks))

            async with worker(data_dir, redis_url, log) as second:
                await salesforce.wait_for("Task", 1, timeout_s=30)
                [delivery] = await settled(hub, agent, lead["id"])
                second.send_signal(signal.SIGTERM)
                assert 0 == await asyncio.wait_for(second.wait(), 15)

        assert (1, 1) == (len(salesforce.leads), len(salesforce.tasks))
        assert 1 == sum(1 for _, what in salesforce.requests if what == "create:Lead")
        assert ("delivered", 2, salesforce.leads[0]["Id"]) == (
            delivery["status"],
            delivery["attempts"],
            delivery["external_id"],
        )
        assert salesforce.leads[0]["Id"] == salesforce.tasks[0]["WhoId"]
