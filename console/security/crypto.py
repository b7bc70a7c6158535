"""Keys kept in the data dir, and encryption of conversation text at rest.

A lost data key makes every stored transcript unreadable, so nothing here ever replaces
a key that already exists: a key file is created once, atomically, and a damaged one is
an error for a human to resolve rather than something to regenerate.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_KEY_FORMAT = (
    "CHARLA_DATA_KEY must be one or more Fernet keys separated by commas: each is 44 "
    "characters of URL-safe base64 (32 random bytes), as printed by "
    "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
    "; the first key encrypts, every key decrypts"
)


class DecryptionError(Exception):
    """Stored data cannot be read with the configured keys."""


def load_or_create_secret(
    data_dir: Path, configured: str | None, filename: str, make: Callable[[], str]
) -> str:
    """Return the configured secret, else the one kept in the data dir, else a new one.

    An empty configured value counts as unset: an empty signing key would be worse than
    a generated one. Creation goes through a hard link so that two processes starting
    on the same data dir agree on one secret: the loser of the race reads the winner's.
    """
    if configured is not None and configured.strip():
        return configured
    path = data_dir / filename
    existing = _read_secret(path)
    if existing is not None:
        return existing
    value = make().strip()
    if not value:
        raise ValueError(f"the generator for {filename} produced an empty secret")
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{filename}.{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask must not widen or narrow it
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(value + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            winner = _read_secret(path)
            if winner is None:  # pragma: no cover - the other process wrote it whole
                raise
            return winner
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return value


def _read_secret(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not text:
        raise ValueError(
            f"{path} is empty: restore the secret it held from a backup, or delete the file "
            "to generate a new one (data encrypted with the old key becomes unreadable)"
        )
    return text


class DataCipher:
    """Encrypts text at rest; several keys so that a key can be rotated without downtime.

    Rotation: prepend a new key to CHARLA_DATA_KEY, restart, re-encrypt rows with
    `rotate`, then drop the old key.
    """

    def __init__(self, keys: str) -> None:
        parts = [part.strip() for part in keys.split(",")]
        if any(not part for part in parts):
            raise ValueError(_KEY_FORMAT)
        fernets: list[Fernet] = []
        for position, part in enumerate(parts, start=1):
            try:
                fernets.append(Fernet(part))
            except (ValueError, TypeError):
                # `from None`: the underlying error may quote the key material
                raise ValueError(f"{_KEY_FORMAT} (key #{position} is not one)") from None
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)
        self._first = parts[0]

    def __repr__(self) -> str:
        return f"DataCipher(<{self.key_count} key(s)>)"

    def derive(self, purpose: bytes) -> bytes:
        """A 32-byte key for `purpose`, derived (HKDF-SHA256) from the key that encrypts:
        a key rotation changes it too, and whatever it keyed is rebuilt then."""
        material = base64.urlsafe_b64decode(self._first)
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(material)

    @staticmethod
    def new_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, text: str) -> str:
        # surrogatepass: JSON may carry lone surrogates ("\ud83d"), which strict UTF-8
        # refuses; a visitor's odd message must still be stored and read back unchanged
        return self._fernet.encrypt(text.encode("utf-8", "surrogatepass")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            data = self._fernet.decrypt(token)
        except (InvalidToken, TypeError):
            raise DecryptionError(
                "cannot decrypt stored data: it was encrypted with a key that is not in "
                "CHARLA_DATA_KEY, or it is damaged"
            ) from None
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            raise DecryptionError("decrypted data is not UTF-8 text") from None

    def encrypt_optional(self, text: str | None) -> str | None:
        return None if text is None else self.encrypt(text)

    def decrypt_optional(self, token: str | None) -> str | None:
        return None if token is None else self.decrypt(token)

    def rotate(self, token: str) -> str:
        """Re-encrypt with the first key, for the sweep that retires an old key."""
        try:
            return self._fernet.rotate(token).decode("ascii")
        except (InvalidToken, TypeError):
            raise DecryptionError(
                "cannot rotate stored data: it was encrypted with a key that is not in "
                "CHARLA_DATA_KEY, or it is damaged"
            ) from None
