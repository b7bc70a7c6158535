"""Fixtures for connector tests: the fake Salesforce over TLS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.salesforce import FakeSalesforce, running_fake_salesforce


@pytest.fixture
async def salesforce(tmp_path: Path) -> AsyncIterator[FakeSalesforce]:
    async with running_fake_salesforce(tmp_path / "tls") as fake:
        yield fake
