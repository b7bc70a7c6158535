"""Hot statements: those of a chat start and its assignment, on asyncpg itself where the
store is PostgreSQL.

A `Hot` statement is an SQLAlchemy Core statement with named bind parameters, built once.
On PostgreSQL it is compiled once and run on the pooled connection's own asyncpg
connection: SQLAlchemy's execution layer (a connection object, a greenlet switch, the
cursor adapter, result processing) cost a read by id 0.39 ms of CPU where asyncpg's own work
was 0.03 ms, and a start ran six such statements (docs/performance.md, issue 25). Elsewhere
(SQLite) SQLAlchemy runs the same statement. Either way a row comes back as a dict by column
name, which the records' readers (`RowReader`) take like any row. A list parameter
(`one_of`: a dispatch run's chats) is one array on PostgreSQL (`= ANY($n)`), so that the
statement compiles once whatever the list's length; elsewhere it is SQLAlchemy's expanding
`IN`.

The bind and result processors of the columns' types (an aware UTC datetime, a boolean) are
applied as SQLAlchemy would; a statement's parameters must all be given (a column's Python
default is not filled in), or the call fails with the missing name.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from sqlalchemy import (
    BindParameter,
    Boolean,
    ClauseElement,
    ColumnElement,
    Executable,
    Select,
    String,
    Text,
    any_,
    bindparam,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None
# SQL text of other modules' statements on asyncpg (the message writer's), which `warm`
# leaves in the statement cache of each connection it readies
PREPARED_AT_START: list[str] = []
PARAMETER = re.compile(r"\$(\d+)")  # asyncpg's positional parameters


def param(name: str) -> BindParameter[Any]:
    """A hot statement's parameter, given at each call."""
    return bindparam(name, required=False)


class _OneOf(ColumnElement[bool]):
    type = Boolean()
    inherit_cache = False  # compiled once by `Hot` on PostgreSQL; SQLite's are small

    def __init__(self, column: ColumnElement[Any], name: str) -> None:
        self.column = column
        self.name = name


def one_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column IN (the list given as parameter `name`)`, whatever its length: on PostgreSQL
    `= ANY($n)` with the list as one array, so that the statement compiles once."""
    return _OneOf(column, name)


@compiles(_OneOf)
def _in_list(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    listed = element.column.in_(bindparam(element.name, expanding=True))
    return str(compiler.process(listed, **kw))


@compiles(_OneOf, "postgresql")
def _any_of(element: _OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    # A list of strings is a text[], not the column's varchar(n)[]: asyncpg knows text[] and
    # decodes it at once, but introspects varchar[] with a catalog query on each connection's
    # first use (8-12 ms, paid 30 times over as a burst grows the pool). A varchar column
    # compares with text through its own index (varchar has no operators of its own).
    kind = Text() if isinstance(element.column.type, String) else element.column.type
    array = bindparam(element.name, type_=ARRAY(kind), required=False)
    return str(compiler.process(element.column == any_(array), **kw))


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the positional parameters' names, $1 first
    constants: Mapping[str, Any]  # values the statement carries itself (an IN list)
    binds: tuple[Processor, ...]
    keys: tuple[str, ...]  # the columns returned, by name
    results: tuple[Processor, ...]

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        values = []
        for name, process in zip(self.names, self.binds, strict=True):
            if name in params:
                value = params[name]
            elif self.constants.get(name) is not None:
                value = self.constants[name]
            else:
                raise KeyError(f"no value for the statement's parameter {name!r}")
            values.append(process(value) if process is not None else value)
        return values

    def row(self, record: asyncpg.Record) -> dict[str, Any]:
        return {
            key: process(value) if process is not None else value
            for key, process, value in zip(self.keys, self.results, record.values(), strict=True)
        }


class Hot:
    """A statement run often enough that SQLAlchemy's execution layer shows (above)."""

    made: list[Hot] = []  # every one, for `warm`

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: _Compiled | None = None
        Hot.made.append(self)

    @property
    def reads(self) -> bool:
        """A SELECT (a write returns rows only with RETURNING)."""
        return isinstance(self.statement, Select)

    def compiled(self, dialect: Dialect) -> _Compiled:
        if self._compiled is None:
            compiler = cast(ClauseElement, self.statement).compile(
                dialect=dialect, compile_kwargs={"render_postcompile": True}
            )
            assert isinstance(compiler, SQLCompiler)
            names = tuple(compiler.positiontup or ())
            binds = {name: b.type.bind_processor(dialect) for name, b in compiler.binds.items()}
            # a SELECT's columns, or what an INSERT or UPDATE returns (none without RETURNING)
            columns: Sequence[Any] = list(getattr(self.statement, "exported_columns", ()))
            self._compiled = _Compiled(
                sql=compiler.string,
                names=names,
                constants=compiler.construct_params(),
                binds=tuple(binds.get(name) for name in names),
                keys=tuple(column.key for column in columns),
                results=tuple(column.type.result_processor(dialect, None) for column in columns),
            )
        return self._compiled


class HotConnection:
    """Hot statements on one connection (in a transaction when `HotStore.transaction`)."""

    def __init__(self, dialect: Dialect, pg: Any = None, conn: AsyncConnection | None = None):
        self.dialect = dialect
        self.pg = pg  # asyncpg's connection, on PostgreSQL
        self.conn = conn  # SQLAlchemy's, elsewhere

    async def rows(self, hot: Hot, **params: Any) -> list[Any]:
        if self.pg is not None:
            compiled = hot.compiled(self.dialect)
            records = await self.pg.fetch(compiled.sql, *compiled.args(params))
            return [compiled.row(record) for record in records]
        assert self.conn is not None
        result = await self.conn.execute(hot.statement, params)
        return [dict(row._mapping) for row in result] if result.returns_rows else []

    async def row(self, hot: Hot, **params: Any) -> Any | None:
        rows = await self.rows(hot, **params)
        return rows[0] if rows else None


class HotStore:
    """The store's way to its hot statements: reads outside a transaction (as the store's
    other reads on PostgreSQL), or one transaction."""

    def __init__(self, engine: AsyncEngine, read_engine: AsyncEngine) -> None:
        self.engine = engine
        self.read_engine = read_engine
        self.dialect = engine.dialect
        self.native = engine.dialect.name == "postgresql"

    async def warm(self, connections: int) -> int:
        """Open up to `connections` of the pool's connections at once and ready every hot
        statement on each: a connection's first use of a statement costs asyncpg a Parse
        round trip and the new PostgreSQL backend its catalog lookups, and a burst of chat
        starts right after the hub starts would otherwise pay both on every connection it
        grows the pool to (docs/performance.md, issue 25). A read runs once with no value
        for its parameters (it matches nothing), which leaves it in asyncpg's statement
        cache; a write the same way, in a transaction rolled back (`_cache_unrun`).
        Returns how many connections were readied."""
        if not self.native or connections <= 0:
            return 0
        statements = [(hot.compiled(self.dialect), hot.reads) for hot in Hot.made]
        count: int = min(connections, getattr(self.engine.pool, "size", lambda: 1)())

        async def ready(pg: Any) -> None:
            for compiled, read in statements:
                if read:
                    await pg.fetch(compiled.sql, *[None] * len(compiled.names))
                else:
                    await _cache_unrun(pg, compiled.sql)
            for sql in PREPARED_AT_START:
                await _cache_unrun(pg, sql)

        try:
            async with AsyncExitStack() as stack:
                async with asyncio.TaskGroup() as group:  # all checked out at once: it grows
                    opened = [
                        group.create_task(stack.enter_async_context(raw_connection(self.engine)))
                        for _ in range(count)
                    ]
                async with asyncio.TaskGroup() as group:
                    for task in opened:
                        group.create_task(ready(task.result()[1]))
        except ExceptionGroup as failed:  # the first failure says why (the rest were cancelled)
            raise failed.exceptions[0] from None
        return count

    async def rows(self, hot: Hot, **params: Any) -> list[Any]:
        async with self._connection(self.read_engine, transaction=False) as db:
            return await db.rows(hot, **params)

    async def row(self, hot: Hot, **params: Any) -> Any | None:
        async with self._connection(self.read_engine, transaction=False) as db:
            return await db.row(hot, **params)

    def transaction(self) -> AbstractAsyncContextManager[HotConnection]:
        """`async with hot.transaction() as db:` the statements commit together."""
        return self._connection(self.engine, transaction=True)

    @asynccontextmanager
    async def _connection(
        self, engine: AsyncEngine, *, transaction: bool
    ) -> AsyncIterator[HotConnection]:
        if not self.native:
            async with engine.begin() if transaction else engine.connect() as conn:
                yield HotConnection(self.dialect, conn=conn)
            return
        async with raw_connection(engine) as (conn, pg):
            if not transaction:
                yield HotConnection(self.dialect, pg=pg)
                return
            async with pg.transaction():
                yield HotConnection(self.dialect, pg=pg)


async def _cache_unrun(pg: Any, sql: str) -> None:
    """Leave a write in asyncpg's statement cache without its effects: asyncpg's own
    `prepare` keeps what it prepares out of the cache that `fetch` and `execute` use (the
    first real use would parse it again), so the statement runs with every parameter NULL
    in a transaction that is rolled back, whatever it did or refused."""
    count = max((int(n) for n in PARAMETER.findall(sql)), default=0)
    transaction = pg.transaction()
    await transaction.start()
    try:
        with contextlib.suppress(asyncpg.PostgresError):  # a NULL refused: parsed all the same
            await pg.execute(sql, *[None] * count)
    finally:
        await transaction.rollback()


@asynccontextmanager
async def raw_connection(engine: AsyncEngine) -> AsyncIterator[tuple[AsyncConnection, Any]]:
    """A pooled PostgreSQL connection and its asyncpg connection. A lost connection is made
    SQLAlchemy's own error (OperationalError, the pool emptied of connections as old), the
    one callers know and retry."""
    async with engine.connect() as conn:
        pg = (await conn.get_raw_connection()).driver_connection
        assert pg is not None, "a checked-out connection has its driver's"
        try:
            yield conn, pg
        except asyncio.CancelledError:
            # A statement stopped mid-flight (a task cancelled at shutdown): asyncpg asks the
            # server to cancel it over a connection of its own. This connection goes, not
            # back to the pool (terminating it also ends that request's task, which would
            # otherwise outlive the event loop).
            await conn.invalidate()
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            if pg.is_closed() or isinstance(exc, OSError):
                # Let SQLAlchemy see the lost connection as if it had run the statement: it
                # drops every pooled connection as old as this one (a database restart
                # closed them all) and raises the error callers already know.
                await conn.exec_driver_sql("SELECT 1")
            raise
