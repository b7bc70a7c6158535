"""Fixtures: a real hub (embedded Redis, SQLite or a throwaway PostgreSQL) on loopback."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog

from console.app import create_app
from console.domain.clock import Clock
from console.security.crypto import DataCipher
from console.security.passwords import PasswordHasher
from console.settings import Limits, Settings
from console.store.db import make_engine, migrate
from console.store.repository import Store
from tests.support.browser import launch_chromium
from tests.support.fakes.salesforce import FakeSalesforce, running_fake_salesforce
from tests.support.harness import ADMIN_TOKEN, HubFactory, LiveHub
from tests.support.postgres import PostgresCluster, require_postgres

CHEAP_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=1024)


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """structlog as `charla` configures it, but readable: exceptions as plain tracebacks.
    structlog's defaults render them with rich (installed with import-linter), locals and
    all: a second or more of a blocked event loop per traceback, which a hub whose Redis
    died logs once a sweep."""
    structlog.contextvars.clear_contextvars()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S.%f"),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(colors=False),
        ]
    )
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    require_postgres()
    with PostgresCluster() as cluster:
        yield cluster


_databases = iter(range(1, 10**6))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once on SQLite and once on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'charla.sqlite3'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.url(cluster.create_database(f"charla_{next(_databases)}_{os.getpid()}"))


def make_settings(data_dir: Path, **changes: Any) -> Settings:
    base = Settings(
        data_dir=data_dir,
        admin_token=ADMIN_TOKEN,
        log_json=True,
        sweep_interval_s=0.05,
        agent_grace_s=30,
        visitor_grace_s=30,
        # the product requires a second factor of admins and supervisors; tests of other
        # things log them in with a password alone (tests/test_mfa.py keeps the default)
        mfa_roles=(),
        # every test's visitors come from 127.0.0.1: the limit on chat starts per address is
        # lifted, except where tests/test_limits.py measures it
        limits=Limits(address_chat_starts_per_minute=10**6),
    )
    return base.with_(**changes) if changes else base


@pytest.fixture
async def make_hub(aiohttp_server: Any, tmp_path: Path) -> AsyncIterator[HubFactory]:
    """Start hubs on random loopback ports; each stops when the test ends."""
    hubs: list[LiveHub] = []

    async def factory(
        data_dir: Path | None = None, *, clock: Clock | None = None, **changes: Any
    ) -> LiveHub:
        """A hub with these settings changed; `clock`: the time it reads (a fixed day)."""
        settings = make_settings(data_dir or tmp_path / "var", **changes)
        app = create_app(settings, passwords=CHEAP_PASSWORDS, clock=clock)
        server = await aiohttp_server(app)
        hub = LiveHub(server=server, app=app, http=aiohttp.ClientSession())
        hubs.append(hub)
        return hub

    yield factory
    for hub in hubs:
        await hub.close()
        await hub.http.close()


@pytest.fixture
async def hub(make_hub: HubFactory) -> LiveHub:
    return await make_hub()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated store on SQLite and on a throwaway PostgreSQL database."""
    engine = make_engine(database_url)
    await migrate(engine)
    store = Store(engine, DataCipher(DataCipher.new_key()))
    yield store
    await store.close()


@pytest.fixture
async def salesforce(tmp_path: Path) -> AsyncIterator[FakeSalesforce]:
    """The fake Salesforce over TLS, with a certificate authority made for the test."""
    async with running_fake_salesforce(tmp_path / "tls") as fake:
        yield fake


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Debian chromium (Playwright); skips locally without it, fails under CI."""
    async with launch_chromium() as launched:
        yield launched
