"""One data key for one database: the key check.

The first process that opens a database with its data key stores a known value encrypted
with it (`key_checks`, migration 0008). Every process after it decrypts that value when it
opens the store (and /readyz does again): a process whose CHARLA_DATA_KEY cannot read it
would fail on every chat it reads and write what no other hub can read, so it refuses to
start instead, naming the variable. `charla rotate-key` re-encrypts the check with the
rest (its column is `*_enc`), so it stays readable through a rotation.

A database from before the check already holds encrypted data: the first encrypted value
found must decrypt before the check is written, so a fresh `data.key` is accepted by an
empty database only.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from console.security.crypto import DecryptionError
from console.settings import ConfigError
from console.store.base import StoreBase
from console.store.protection_models import KeyCheckRow
from console.store.rotation import encrypted_tables

CHECK_NAME = "data_key"
CHECK_TEXT = "charla: this database's data key"


class DataKeyMismatchError(ConfigError):
    """The configured data key cannot read what this database holds."""


def mismatch_message(data_dir: Path | None = None) -> str:
    generated = (
        f"; if this process generated {data_dir / 'data.key'} (CHARLA_DATA_KEY unset), "
        "delete that file"
        if data_dir is not None
        else ""
    )
    return (
        "CHARLA_DATA_KEY cannot read this database: its data was encrypted with another data "
        "key (the key check in the key_checks table does not decrypt). Set CHARLA_DATA_KEY to "
        "the key the other hubs of this database use (during a rotation: the new key first, "
        f"then the old one, comma-separated){generated}. Refusing to start, so that nothing "
        "is written that the other hubs cannot read."
    )


async def _stored_check(store: StoreBase) -> str | None:
    rows = await store.read_rows(
        select(KeyCheckRow.check_enc).where(KeyCheckRow.name == CHECK_NAME)
    )
    return rows[0][0] if rows else None


def _readable(store: StoreBase, token: str) -> bool:
    try:
        store.cipher.decrypt(token)
    except DecryptionError:
        return False
    return True


async def _existing_data_readable(store: StoreBase) -> bool:
    """A database from before the check: the first encrypted value found decrypts (or there
    is none)."""
    for table, columns in encrypted_tables():
        if table.name == KeyCheckRow.__tablename__:
            continue
        for name in columns:
            column = table.c[name]
            rows = await store.read_rows(select(column).where(column.is_not(None)).limit(1))
            if rows:
                return _readable(store, rows[0][0])
    return True


async def verify_data_key(store: StoreBase, data_dir: Path | None = None) -> None:
    """At start: the check decrypts with the configured keys, or `DataKeyMismatchError`; the
    first process with a key on a database writes the check."""
    token = await _stored_check(store)
    if token is None:
        if not await _existing_data_readable(store):
            raise DataKeyMismatchError(mismatch_message(data_dir))
        try:
            async with store.session() as s, s.begin():
                s.add(
                    KeyCheckRow(
                        name=CHECK_NAME,
                        check_enc=store.cipher.encrypt(CHECK_TEXT),
                        created_at=store.clock.now(),
                    )
                )
        except IntegrityError:
            pass  # another process wrote it first: read theirs
        token = await _stored_check(store)
    if token is None or not _readable(store, token):
        raise DataKeyMismatchError(mismatch_message(data_dir))


async def data_key_status(store: StoreBase) -> str:
    """For /readyz: "ok", or why this process's key cannot read the database."""
    token = await _stored_check(store)
    if token is None:
        return "no key check stored"
    if not _readable(store, token):
        return "CHARLA_DATA_KEY cannot decrypt the database's key check"
    return "ok"
