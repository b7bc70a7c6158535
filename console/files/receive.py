"""An upload received in chunks into a temporary file: its kind decided from its first
bytes, its size counted as it arrives and refused the moment it passes the limit, so that
neither a large nor a lying file is ever held, or kept, whole."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from console.domain.errors import ProtocolError
from console.files.kinds import SNIFF_BYTES, check_kind


@dataclass(frozen=True)
class Received:
    path: Path
    kind: str
    size: int


def too_large(limit: int) -> ProtocolError:
    return ProtocolError(
        "too_large",
        f"the file is larger than {limit} bytes ({limit / 2**20:.1f} MiB); send a smaller one",
    )


async def receive(
    chunks: AsyncIterator[bytes], target: Path, *, limit: int, allowed: Collection[str]
) -> Received:
    """Write the chunks to `target` (created, 0600); on any refusal or failure it is gone."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            head, size, kind = b"", 0, None
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                if kind is not None:
                    await _write(out, chunk)
                    continue
                head += chunk
                if len(head) >= SNIFF_BYTES:
                    kind = check_kind(head, allowed)
                    await _write(out, head)
            if kind is None:
                if not head:
                    raise ProtocolError("invalid_payload", "file: the file is empty")
                kind = check_kind(head, allowed)
                await _write(out, head)
        return Received(target, kind, size)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
        raise


async def _write(out: BinaryIO, chunk: bytes) -> None:
    if len(chunk) > 256 * 1024:  # a large write off the event loop
        await asyncio.to_thread(out.write, chunk)
    else:
        out.write(chunk)
