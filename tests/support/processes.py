"""`charla` commands (python -m console ...) as processes of their own, the way an operator
starts them: for tests of what only a real process shows (signals, exit codes, restarts)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import IO


@asynccontextmanager
async def charla_process(
    command: str, env: Mapping[str, str], output: int | IO[bytes] = asyncio.subprocess.PIPE
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`charla <command>` with exactly `env`, stdout and stderr to `output`; killed if it still
    runs when the block ends, so that a failing test leaves no server behind."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", command, env=env, stdout=output, stderr=output
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
