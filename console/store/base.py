"""What every part of the store works with: the engine and its sessions, the cipher of what
is stored encrypted (`*_enc`), the clock, and the few ways they read and write rows.

Every method of the store is one short transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Executable, Row, Select, delete, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from console.domain.clock import Clock, SystemClock
from console.security.crypto import DataCipher
from console.store.hot import HotStore
from console.store.models import Base


class _TenantRow(Protocol):
    @property
    def tenant_id(self) -> str: ...


Owned = TypeVar("Owned", bound=_TenantRow)


class StoreBase:
    """The store's engine, sessions, cipher and clock (`Store` is this and its parts)."""

    def __init__(
        self, engine: AsyncEngine, cipher: DataCipher, *, clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.clock: Clock = clock or SystemClock()
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # Reads on PostgreSQL run outside a transaction: one round trip per query instead of
        # BEGIN, the query and ROLLBACK (each statement still sees committed data, as in the
        # READ COMMITTED transaction it replaces). SQLite reads are in-process: unchanged.
        reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._reads = async_sessionmaker(reads, expire_on_commit=False)
        self._read_engine = reads
        self.hot = HotStore(engine, reads)  # a chat start's statements (store/hot.py)

    def session(self) -> AsyncSession:
        return self._sessions()

    def reading(self) -> AsyncSession:
        """A session for reads only (no writes: on PostgreSQL it has no transaction)."""
        return self._reads()

    # The hot reads (a chat start, an assignment, a transcript) go through SQLAlchemy Core:
    # an ORM session's identity map and entity loading cost more CPU than the query itself.
    async def read_rows(self, query: Executable) -> Sequence[Row[Any]]:
        async with self._read_engine.connect() as conn:
            return (await conn.execute(query)).all()

    async def read_row(self, query: Executable) -> Row[Any] | None:
        rows = await self.read_rows(query)
        return rows[0] if rows else None

    async def add(self, row: Base) -> None:
        """A new row, inserted in a transaction of its own."""
        async with self.session() as s, s.begin():
            s.add(row)

    async def write(self, statement: Executable) -> int:
        """One UPDATE or DELETE in a transaction of its own: how many rows it changed."""
        async with self.session() as s, s.begin():
            return await changed(s, statement)


class StorePart:
    """A part of the store (`store.leads`, `store.outbox`...), on the store's engine, cipher
    and clock; with the reads and writes of one tenant's rows by id (another tenant's ids are
    simply not found)."""

    def __init__(self, store: StoreBase) -> None:
        self.store = store

    async def get_owned(self, model: type[Owned], tenant_id: str, row_id: Any) -> Owned | None:
        """The tenant's row of this id (its primary key), or None."""
        async with self.store.session() as s:
            return await owned(s, model, tenant_id, row_id)

    async def edit_owned(
        self, model: type[Owned], tenant_id: str, row_id: Any, edit: Callable[[Owned], object]
    ) -> Owned | None:
        """The tenant's row, changed by `edit` in one transaction; None when not found."""
        async with self.store.session() as s, s.begin():
            row = await owned(s, model, tenant_id, row_id)
            if row is not None:
                edit(row)
        return row

    async def delete_owned(self, model: type[Owned], tenant_id: str, *where: Any) -> bool:
        """Delete the tenant's rows of `model` that match `where`: whether there was one."""
        deleted = await self.store.write(delete(model).where(of_tenant(model, tenant_id), *where))
        return bool(deleted)


def of_tenant(model: type[Owned], tenant_id: str) -> ColumnElement[bool]:
    """The condition that a row of `model` is the tenant's."""
    column: ColumnElement[str] = inspect(model).columns["tenant_id"]
    return column == tenant_id


def tenant_rows(model: type[Owned], tenant_id: str, *order: Any) -> Select[Owned]:
    """The tenant's rows of `model`, in this order."""
    return select(model).where(of_tenant(model, tenant_id)).order_by(*order)


async def owned(s: AsyncSession, model: type[Owned], tenant_id: str, row_id: Any) -> Owned | None:
    """The row of this id when it is the tenant's."""
    row = await s.get(model, row_id)
    return row if row is not None and row.tenant_id == tenant_id else None


async def changed(s: AsyncSession, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed (0: a conditional one lost the race)."""
    result = await s.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]  # DML gives a CursorResult


def assign(row: object, changes: dict[str, Any]) -> None:
    """Set the row's columns to the changes (a tuple is stored as the JSON list it is)."""
    for key, value in changes.items():
        setattr(row, key, list(value) if isinstance(value, tuple) else value)


def contact_values(cipher: DataCipher, **contact: str | None) -> dict[str, str]:
    """A visitor's contact columns (`name_enc`...) for the details given, encrypted; an empty
    detail changes nothing."""
    return {f"{key}_enc": cipher.encrypt(value) for key, value in contact.items() if value}
