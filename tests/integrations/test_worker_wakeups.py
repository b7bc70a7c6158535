"""`charla worker` finds its wake-ups: CHARLA_REDIS_URL, else the embedded Redis of a
`charla serve` on the same data dir, else none (it polls)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.outbox.worker import _wakeup_redis
from console.runtime.embedded_redis import EmbeddedRedis
from console.settings import Settings


@pytest.fixture
def short_dir() -> Iterator[Path]:
    # a Unix socket path must stay short; pytest's tmp_path may not be
    with tempfile.TemporaryDirectory(prefix="cw-", dir="/tmp") as name:
        yield Path(name)


async def test_the_worker_uses_the_embedded_redis_of_its_data_dir(short_dir: Path) -> None:
    assert None is await _wakeup_redis(Settings(data_dir=short_dir))

    embedded = EmbeddedRedis(short_dir)
    await embedded.start()
    try:
        found = await _wakeup_redis(Settings(data_dir=short_dir))
        assert found is not None
        try:
            assert await found.ping()
            assert str(embedded.socket) == found.connection_pool.connection_kwargs["path"]
        finally:
            await found.aclose()
    finally:
        await embedded.stop()
    assert None is await _wakeup_redis(Settings(data_dir=short_dir))
