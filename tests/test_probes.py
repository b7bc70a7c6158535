"""/livez and /readyz as an orchestrator reads them: alive is "the event loop answers", ready
is "the database and Redis answer, the schema is at head, and the process is not leaving";
on SIGTERM a `charla serve` turns unready first, keeps serving for CHARLA_DRAIN_DELAY_S,
then drains and exits."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
from sqlalchemy import text

from console.store.db import head_revision
from console.web.keys import EMBEDDED_REDIS, READINESS, STORE
from tests.support.harness import LiveHub, eventually, free_port
from tests.support.processes import charla_process


async def test_a_hub_that_started_is_alive_and_ready(hub: LiveHub) -> None:
    assert (200, {"status": "ok"}) == await hub.request("GET", "/livez")
    assert (
        200,
        {
            "status": "ok",
            "checks": {"database": "ok", "migrations": "ok", "data_key": "ok", "redis": "ok"},
        },
    ) == await hub.request("GET", "/readyz")


async def test_without_redis_a_hub_is_unready_but_still_alive(hub: LiveHub) -> None:
    await hub.app[EMBEDDED_REDIS].kill()
    status, body = await hub.request("GET", "/readyz")
    assert (503, "unavailable", "ok") == (status, body["status"], body["checks"]["database"])
    assert body["checks"]["redis"].startswith("failed")
    # not restarted for it: Redis coming back is what heals it
    assert (200, {"status": "ok"}) == await hub.request("GET", "/livez")


async def test_a_database_behind_the_code_s_migrations_is_unready(hub: LiveHub) -> None:
    async with hub.app[STORE].engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    status, body = await hub.request("GET", "/readyz")
    assert 503 == status
    assert f"at 0001, expected {head_revision()}" == body["checks"]["migrations"]


async def test_a_database_a_newer_release_migrated_keeps_an_older_hub_ready(
    hub: LiveHub,
) -> None:
    """During a rolling upgrade the migration hook runs first: the old hubs must keep
    serving until they are replaced, or the whole rollout goes dark for a moment."""
    async with hub.app[STORE].engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_a_newer'"))
    status, body = await hub.request("GET", "/readyz")
    assert (200, "ok") == (status, body["checks"]["migrations"])


async def test_a_draining_hub_is_unready_whatever_else_holds(hub: LiveHub) -> None:
    hub.app[READINESS].draining = True
    assert (503, {"status": "draining", "checks": {}}) == await hub.request("GET", "/readyz")
    assert 200 == (await hub.request("GET", "/healthz"))[0]


async def _status(http: aiohttp.ClientSession, url: str) -> int | None:
    """The answer's status; None for no answer (refused, or none within 2 s: a process still
    starting on a loaded machine, which `eventually` asks again)."""
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


async def test_sigterm_turns_a_hub_unready_then_it_keeps_serving_then_exits(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CHARLA_")},
        "CHARLA_PORT": str(port),
        "CHARLA_DATA_DIR": str(tmp_path / "var"),
        "CHARLA_DRAIN_DELAY_S": "3",
    }
    async with charla_process("serve", env) as process, aiohttp.ClientSession() as http:
        await eventually(lambda: _is(http, base + "/readyz", 200), 30, "charla serve ready")
        loop = asyncio.get_running_loop()
        process.send_signal(signal.SIGTERM)
        signalled = loop.time()
        await eventually(lambda: _is(http, base + "/readyz", 503), 2, "unready after SIGTERM")
        # still serving while the balancer takes it out: alive, and answering requests
        assert 200 == await _status(http, base + "/livez")
        assert 200 == await _status(http, base + "/healthz")
        code = await asyncio.wait_for(process.wait(), 30)
        exited_after = loop.time() - signalled
        _, err = await process.communicate()
    assert 0 == code, err.decode()[-2000:]
    assert exited_after >= 3, "it drained only once the delay was over"
    assert '"event": "unready"' in err.decode()


async def _is(http: aiohttp.ClientSession, url: str, expected: int) -> bool:
    return expected == await _status(http, url)
