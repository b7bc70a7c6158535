"""One data key for one database: a hub whose CHARLA_DATA_KEY cannot read the database's key
check refuses to start, naming the variable; /readyz reports it; a key rotation keeps the
check readable; a database from before the check accepts no other key either."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from pathlib import Path

import pytest
from sqlalchemy import update

from console.security.crypto import DataCipher
from console.store.db import make_engine, migrate
from console.store.keycheck import DataKeyMismatchError, verify_data_key
from console.store.protection_models import KeyCheckRow
from console.store.repository import Store
from console.store.rotation import rotate_all
from console.web.keys import STORE
from tests.support.cluster import HubProcess, RedisServer
from tests.support.harness import LiveHub
from tests.support.postgres import PostgresCluster


@pytest.mark.postgres
async def test_a_second_hub_with_another_data_key_refuses_to_start(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.url(postgres.create_database(f"keycheck_{uuid.uuid4().hex}"))
    with RedisServer(tmp_path / "redis") as redis:
        first = HubProcess(tmp_path / "a", url, redis.url)
        # the operator forgot CHARLA_DATA_KEY on the second: it generates a data.key of its own
        second = HubProcess(tmp_path / "b", url, redis.url, env={"CHARLA_DATA_KEY": ""})
        try:
            await asyncio.to_thread(first.start)
            second.spawn()
            assert second.process is not None
            code = await asyncio.to_thread(second.process.wait, 30)
            log = second.log.read_text(errors="replace")
            assert 2 == code, log
            assert "CHARLA_DATA_KEY cannot read this database" in log
            assert str(tmp_path / "b" / "data.key") in log  # what to delete
            # the first is still fine, and ready
            first_ready = await asyncio.to_thread(_status, first.url + "/readyz")
            assert 200 == first_ready
        finally:
            first.kill()
            second.kill()


def _status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return int(response.status)


async def test_readyz_reports_a_key_check_this_hub_cannot_read(hub: LiveHub) -> None:
    store = hub.app[STORE]
    other = DataCipher(DataCipher.new_key()).encrypt("charla: another database's data key")
    async with store.session() as s, s.begin():
        await s.execute(update(KeyCheckRow).values(check_enc=other))
    status, body = await hub.request("GET", "/readyz")
    assert 503 == status
    assert "CHARLA_DATA_KEY cannot decrypt" in body["checks"]["data_key"]


async def test_a_rotation_keeps_the_check_readable_with_the_new_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'charla.sqlite3'}"
    old, new = DataCipher.new_key(), DataCipher.new_key()
    stores: list[Store] = []

    async def opened(keys: str) -> Store:
        engine = make_engine(url)
        await migrate(engine)
        stores.append(Store(engine, DataCipher(keys)))
        return stores[-1]

    try:
        await verify_data_key(await opened(old))  # the first: writes the check
        with pytest.raises(DataKeyMismatchError, match="CHARLA_DATA_KEY"):
            await verify_data_key(await opened(new))
        both = await opened(f"{new},{old}")
        await verify_data_key(both)
        assert 1 == (await rotate_all(both))["key_checks"]
        await verify_data_key(await opened(new))
        with pytest.raises(DataKeyMismatchError):
            await verify_data_key(await opened(old))
    finally:
        for store in stores:
            await store.close()


async def test_a_database_from_before_the_check_refuses_another_key(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'charla.sqlite3'}"
    key = DataCipher.new_key()
    engine = make_engine(url)
    await migrate(engine)
    first = Store(engine, DataCipher(key))
    other = Store(make_engine(url), DataCipher(DataCipher.new_key()))
    try:
        tenant = await first.create_tenant(
            name="Antes",
            plan="basic",
            languages=["es"],
            timezone="America/Puerto_Rico",
            allowed_origins=[],
        )
        visitor = await first.visitor_arrives(tenant.id, None)
        await first.update_visitor_contact(visitor.id, name="Ana", email=None, phone=None)
        with pytest.raises(DataKeyMismatchError):
            await verify_data_key(other)
        await verify_data_key(first)  # its own key reads it, and writes the check
    finally:
        await first.close()
        await other.close()
