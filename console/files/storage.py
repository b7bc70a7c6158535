"""The one storage interface for attachments (the backend the settings choose: `backend`).

A backend keeps opaque objects under keys: `put` writes one from a finished local file
(whole or not at all), `read` streams it back in chunks, `delete` removes it (a missing one
is no error). Keys are `<tenant id>/<attachment id>` and its thumbnail's `.thumb` beside it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64})*(\.thumb)?")


class FileMissingError(LookupError):
    """No object under this key (deleted, or never written)."""


class Storage(Protocol):
    async def put(self, key: str, source: Path) -> None: ...
    def read(self, key: str) -> AsyncIterator[bytes]: ...
    async def delete(self, key: str) -> None: ...


def file_key(tenant_id: str, attachment_id: str, *, thumbnail: bool = False) -> str:
    key = f"{tenant_id}/{attachment_id}{'.thumb' if thumbnail else ''}"
    return checked_key(key)


def checked_key(key: str) -> str:
    """A key made of ids only: nothing in it can climb out of the data dir or the prefix."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key
