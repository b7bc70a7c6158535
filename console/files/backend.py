"""The storage backend CHARLA_STORAGE_URL names: the data dir (unset) or an S3 bucket."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from console.files.local import LocalStorage
from console.files.s3 import S3Storage
from console.files.storage import Storage
from console.security.crypto import DataCipher
from console.settings import Files


async def open_storage(
    files: Files, data_dir: Path, cipher: DataCipher, stack: AsyncExitStack
) -> Storage:
    """The backend the settings choose; `stack` closes what it opened (an S3 client)."""
    if files.storage_url is None:
        return LocalStorage(data_dir / "files", cipher)
    return await S3Storage.open(files, stack)
