"""A hub readies pooled connections as it starts (CHARLA_DB_POOL_WARM, console/store/hot.py):
when PostgreSQL refuses some of them, the hub says so in its log and serves all the same."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
import structlog

from console.settings import Database
from tests.support.harness import HubFactory, active_chat, text_is
from tests.support.postgres import PG_USER, PostgresCluster

pytestmark = pytest.mark.postgres


async def test_a_hub_whose_warm_up_is_refused_serves_and_says_why(
    postgres: PostgresCluster, make_hub: HubFactory
) -> None:
    name = postgres.create_database(f"warm_{uuid.uuid4().hex[:8]}")
    role = f"few_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres.dsn(name))
    try:  # a role PostgreSQL lets open 3 connections, owning the database (it migrates)
        await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 3')
        await admin.execute(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
    finally:
        await admin.close()
    url = postgres.url(name).replace(f"//{PG_USER}@", f"//{role}@", 1)

    # another client holds one of the 3 while the hub starts: its pool of 3 cannot all open
    other = await asyncpg.connect(postgres.dsn(name).replace(f"//{PG_USER}@", f"//{role}@", 1))
    held = other.get_server_pid()
    try:
        with structlog.testing.capture_logs() as logs:
            hub = await make_hub(database_url=url, database=Database(pool_size=3, pool_warm=3))
    finally:
        await other.close()
    await _gone(postgres, held)  # its backend has ended: the hub may open its third
    refused = [entry for entry in logs if entry["event"] == "db_pool_warm_failed"]
    assert 1 == len(refused), logs
    assert "too many connections" in refused[0]["error"]
    assert not [entry for entry in logs if entry["event"] == "db_pool_warmed"]

    # it serves, on the connections it has: a chat starts, is assigned, and a message goes
    _tenant, _agent, agent_peer, visitor, chat = await active_chat(hub)
    sent = {"chat_id": chat["id"], "text": "¿Tienen la Tacoma?", "client_msg_id": "m-1"}
    ack = await visitor.call("message", sent)
    assert ack["ok"] is True, ack
    await agent_peer.wait_for("message", text_is("¿Tienen la Tacoma?"))


async def _gone(postgres: PostgresCluster, pid: int) -> None:
    admin = await asyncpg.connect(postgres.dsn())
    try:
        for _ in range(100):
            if not await admin.fetchval("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"backend {pid} still there after 5 s")
    finally:
        await admin.close()


async def test_a_hub_readies_its_pool_as_it_starts(
    postgres: PostgresCluster, make_hub: HubFactory
) -> None:
    url = postgres.url(postgres.create_database(f"warm_{uuid.uuid4().hex[:8]}"))
    with structlog.testing.capture_logs() as logs:
        await make_hub(database_url=url, database=Database(pool_size=6, pool_warm=4))
    assert [4] == [e["connections"] for e in logs if e["event"] == "db_pool_warmed"]
