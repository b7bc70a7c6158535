"""Data key rotation: re-encrypt every `*_enc` column of every table with the first key
of CHARLA_DATA_KEY, so that the old key can then be dropped.

Found by column name, so a table added later is rotated too. In batches by primary key,
each batch one transaction; safe to run while the hub serves (a row written meanwhile is
encrypted with the first key already) and to run again after an interruption.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select, tuple_, update

from console.store.base import StoreBase
from console.store.models import Base

BATCH = 500


def encrypted_tables() -> list[tuple[Table, list[str]]]:
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c.name for c in table.columns if c.name.endswith("_enc")]
        if columns:
            found.append((table, columns))
    return found


async def rotate_all(store: StoreBase) -> dict[str, int]:
    """Re-encrypt everything; returns how many values each table had re-encrypted."""
    counts: dict[str, int] = {}
    for table, columns in encrypted_tables():
        counts[table.name] = await _rotate_table(store, table, columns)
    return counts


async def _rotate_table(store: StoreBase, table: Table, columns: list[str]) -> int:
    keys = list(table.primary_key.columns)
    rotated = 0
    after: tuple[Any, ...] | None = None
    while True:
        query = select(*keys, *(table.c[name] for name in columns)).order_by(*keys).limit(BATCH)
        if after is not None:
            query = query.where(tuple_(*keys) > tuple_(*after))
        async with store.session() as s, s.begin():
            rows = (await s.execute(query)).all()
            for row in rows:
                ids = tuple(row[: len(keys)])
                values = {
                    name: store.cipher.rotate(value)
                    for name, value in zip(columns, row[len(keys) :], strict=True)
                    if value is not None
                }
                if values:
                    where = [key == ident for key, ident in zip(keys, ids, strict=True)]
                    await s.execute(update(table).where(*where).values(values))
                    rotated += len(values)
        if len(rows) < BATCH:
            return rotated
        after = tuple(rows[-1][: len(keys)])
