"""Migrations as an operator meets them: hubs starting together on one empty PostgreSQL
database take turns under an advisory lock (one migrates, the others find the schema at
head), and the standard `alembic` command works from the repository's root."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from console.store.db import head_revision, make_engine
from tests.support.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = 4


def _env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("CHARLA_")},
        "CHARLA_DATABASE_URL": database_url,
        "CHARLA_DATA_DIR": str(data_dir),
    }


@pytest.mark.postgres
async def test_four_processes_migrating_one_empty_database_together_all_succeed(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url = postgres.url(postgres.create_database(f"migrate_race_{os.getpid()}"))
    # started at once; each reaches its migration within the same few hundred milliseconds
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console",
            "migrate",
            env=_env(url, tmp_path / f"p{n}"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(PROCESSES)
    ]
    results = await asyncio.gather(*(p.communicate() for p in processes))
    outcomes = [
        (p.returncode, err.decode()[-1500:]) for p, (_, err) in zip(processes, results, strict=True)
    ]
    assert [(0, "")] * PROCESSES == [(code, "" if code == 0 else e) for code, e in outcomes]
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            tables = (
                await conn.execute(
                    text("SELECT count(*) FROM pg_tables WHERE tablename IN ('chats', 'messages')")
                )
            ).scalar()
    finally:
        await engine.dispose()
    assert [(head_revision(),)] == [tuple(row) for row in versions]
    assert 2 == tables


def _alembic(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "alembic"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_standard_alembic_commands_work_from_the_repository_root(tmp_path: Path) -> None:
    env = _env(f"sqlite+aiosqlite:///{tmp_path / 'charla.sqlite3'}", tmp_path)
    history = _alembic("history", env=env)
    assert 0 == history.returncode, history.stderr
    assert f"-> {head_revision()} (head)" in history.stdout
    assert "<base> -> 0001" in history.stdout

    upgraded = _alembic("upgrade", "head", env=env)
    assert 0 == upgraded.returncode, upgraded.stderr
    assert "Running upgrade  -> 0001" in upgraded.stderr
    current = _alembic("current", env=env)
    assert (0, f"{head_revision()} (head)") == (current.returncode, current.stdout.strip())
    again = _alembic("upgrade", "head", env=env)  # nothing left to do
    assert (0, False) == (again.returncode, "Running upgrade" in again.stderr)
