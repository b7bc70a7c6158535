"""Attachments in the data dir, encrypted with the data key.

Each file has a key of its own (32 random bytes), kept in the file's header wrapped with
the data key (Fernet, as every other value at rest: `CHARLA_DATA_KEY`'s keys all unwrap it).
`charla rotate-key` re-wraps those keys with the first data key (`rewrap`). The content
is AES-256-GCM in frames of 64 KiB, each with its own nonce (a random prefix
and the frame's number) and a mark on the last one, so a frame cannot be moved, dropped
or the file cut short without the read failing. Written to a temporary name and renamed:
a file is there whole or not at all.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import secrets
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from console.files.storage import CHUNK, FileMissingError, checked_key
from console.security.crypto import DataCipher, DecryptionError

MAGIC = b"CHF1"
_PREFIX = 7  # random bytes of each nonce; then 4 for the frame's number, 1 for "last"
_LEN = struct.Struct(">I")


class LocalStorage:
    def __init__(self, root: Path, cipher: DataCipher) -> None:
        self.root = root
        self.cipher = cipher

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        return self.root / checked_key(key)

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._seal, source, self.path(key))

    async def read(self, key: str) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(self.path(key).open, "rb")
        except FileNotFoundError:
            raise FileMissingError(key) from None
        try:
            aead, prefix = await asyncio.to_thread(self._header, handle)
            number, last = 0, False
            while not last:
                chunk, last = await asyncio.to_thread(self._frame, handle, aead, prefix, number)
                number += 1
                if chunk:
                    yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def rewrap(self) -> int:
        """Wrap every file's key with the first key of CHARLA_DATA_KEY (`charla
        rotate-key`), so that the old key can go; the content stays as it is. How many."""
        return await asyncio.to_thread(self._rewrap_all)

    def _rewrap_all(self) -> int:
        done = 0
        for path in sorted(self.root.rglob("*")) if self.root.is_dir() else []:
            if not path.is_file() or path.name.startswith("."):
                continue
            with path.open("r+b") as handle:
                head = handle.read(len(MAGIC) + 2)
                if not head.startswith(MAGIC):
                    continue
                wrapped = handle.read(struct.unpack(">H", head[len(MAGIC) :])[0])
                again = self.cipher.rotate(wrapped.decode("ascii")).encode("ascii")
                if len(again) != len(wrapped):  # a Fernet token's length is its content's
                    raise DecryptionError(f"{path}: the re-wrapped key changed length")
                handle.seek(len(head))
                handle.write(again)
                handle.flush()
                os.fsync(handle.fileno())
            done += 1
        return done

    # -- the format ----------------------------------------------------------------------

    def _seal(self, source: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        key = AESGCM.generate_key(bit_length=256)
        aead, prefix = AESGCM(key), secrets.token_bytes(_PREFIX)
        wrapped = self.cipher.encrypt(base64.urlsafe_b64encode(key).decode("ascii")).encode()
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                out.write(MAGIC + struct.pack(">H", len(wrapped)) + wrapped + prefix)
                chunk, number = src.read(CHUNK), 0
                while True:
                    following = src.read(CHUNK) if chunk else b""
                    last = not following
                    sealed = aead.encrypt(_nonce(prefix, number, last), chunk, MAGIC)
                    out.write(_LEN.pack(len(sealed)) + sealed)
                    if last:
                        break
                    chunk, number = following, number + 1
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    def _header(self, handle: BinaryIO) -> tuple[AESGCM, bytes]:
        head = handle.read(len(MAGIC) + 2)
        if len(head) != len(MAGIC) + 2 or not head.startswith(MAGIC):
            raise DecryptionError("a stored file is damaged: it has no Charla header")
        (size,) = struct.unpack(">H", head[len(MAGIC) :])
        wrapped = handle.read(size)
        key = base64.urlsafe_b64decode(self.cipher.decrypt(wrapped.decode("ascii")))
        return AESGCM(key), handle.read(_PREFIX)

    @staticmethod
    def _frame(handle: BinaryIO, aead: AESGCM, prefix: bytes, number: int) -> tuple[bytes, bool]:
        raw = handle.read(_LEN.size)
        if len(raw) != _LEN.size:
            raise DecryptionError("a stored file is cut short")
        sealed = handle.read(_LEN.unpack(raw)[0])
        for last in (False, True):
            with contextlib.suppress(InvalidTag):
                return aead.decrypt(_nonce(prefix, number, last), sealed, MAGIC), last
        raise DecryptionError("a stored file is damaged: a frame does not authenticate")


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + struct.pack(">IB", number, 1 if last else 0)
