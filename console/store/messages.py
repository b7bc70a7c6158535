"""Chat messages are written by group commit: one transaction for all that arrive together.

A message is acknowledged only once it is committed, so on the message path the database's
round trips are the cost that matters. `MessageWriter` queues what callers post and writes
them in batches; whatever arrives while a transaction is in flight goes into the next one
together: a quiet hub writes each message at once (no added delay), a busy hub writes dozens
per commit. Each batch is one transaction of a few statements whatever its size: read the
chats (locked for share, so that an assignment committing meanwhile either sees these
messages in its history or is seen by this batch), insert the messages (a resend of a stored
one is skipped by the unique key and its first copy read back), mark agents' first replies.

On PostgreSQL a second batch may be written while one is in flight, once a quarter of a
batch waits (`SECOND_BATCH`). With one at a time, a busy hub idled while the database wrote
the batch that held nearly everyone waiting for an answer (10 to 15% of its time in the
benchmark); with two, it answers one batch's senders while the other is written. A smaller
second batch costs more per message than it saves, so a hub that is not that busy keeps one
in flight. The two batches never share a chat: a chat's messages are committed one batch
after another, in the order they were posted, so their ids follow that order (what `sync`
relies on). SQLite writes one batch at a time whatever happens.

Each message keeps its own outcome: a failed check refuses that message alone; a database
failure fails the batch, and every caller in it gets the error (nothing is acknowledged).

On PostgreSQL a batch's statements take arrays (`= ANY($1)`, `unnest`) and go to asyncpg as
written: each has one text whatever the batch's size, so it is prepared once per connection
instead of once per size (an `IN` list or a multi-row `VALUES` is a new statement for each
count, which overflowed the prepared-statement cache), and SQLAlchemy's compile and parameter
processing, a large part of the writer's time, is skipped; SQLAlchemy still owns the
connection, the transaction and the handling of a lost connection. SQLite keeps SQLAlchemy
Core (in-process, nothing to prepare).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol, Unpack

import asyncpg
from sqlalchemy import select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from console.domain.clock import Clock
from console.domain.types import Author, Chat, Draft, Message, format_message_id
from console.security.crypto import DataCipher
from console.store.hot import PREPARED_AT_START, raw_connection
from console.store.models import CHATS, MESSAGES
from console.store.records import read_chat

MAX_BATCH = 256
MAX_IN_FLIGHT = 2  # batches written at once on PostgreSQL, on chats apart
SECOND_BATCH = MAX_BATCH // 4  # messages waiting before a batch goes beside one in flight
INSERT_COLUMNS = (
    "chat_id",
    "author",
    "author_name",
    "agent_id",
    "sender",
    "text_enc",
    "client_msg_id",
    "created_at",
    "whisper",
    "attachment_enc",
)

Posted = tuple[Message, bool, Chat | None]
"""The message, whether this call stored it (False: a resend of a stored one), and the chat
as this transaction saw it when the message is new (whom it must reach)."""

Check = Callable[[Chat | None], None]
"""Raises (a `ProtocolError`, say) when the message must not go into this chat."""


class MissingChatError(LookupError):
    """A message for a chat that does not exist (and no check said what to answer)."""


def sender_key(author: str, agent_id: str | None) -> str:
    """Who sent a message, for idempotency: the visitor, a given agent, the bot, the hub."""
    return f"agent:{agent_id}" if author == "agent" else author


@dataclass(eq=False)
class _Pending:
    chat_id: str
    author: Author
    text: str
    text_enc: str
    sender: str
    client_msg_id: str | None
    author_name: str | None
    agent_id: str | None
    check: Check | None
    future: asyncio.Future[Posted]
    created_at: datetime
    whisper: bool = False
    attachment: dict[str, Any] | None = None
    attachment_enc: str | None = None

    @property
    def key(self) -> tuple[str, str, str] | None:
        if self.client_msg_id is None:
            return None
        return (self.chat_id, self.sender, self.client_msg_id)

    def row(self) -> dict[str, Any]:
        """The message's row, as both backends insert it."""
        return {name: getattr(self, name) for name in INSERT_COLUMNS}

    def message(self, row_id: int) -> Message:
        return Message(
            id=format_message_id(row_id),
            chat_id=self.chat_id,
            author=self.author,
            text=self.text,
            created_at=self.created_at,
            author_name=self.author_name,
            client_msg_id=self.client_msg_id,
            whisper=self.whisper,
            attachment=self.attachment,
        )

    def settle(self, outcome: Posted | BaseException) -> None:
        if self.future.done():  # the caller stopped waiting; the outcome stands anyway
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)


class _Batch(Protocol):
    """The statements of one batch's transaction, on one backend."""

    async def chats(self, chat_ids: set[str]) -> dict[str, Chat]: ...
    async def insert(self, rows: list[dict[str, Any]]) -> dict[str, int]: ...
    async def stored(
        self, chat_ids: set[str], client_ids: set[str]
    ) -> Iterable[Mapping[Any, Any]]: ...
    async def mark_replied(self, chat_ids: set[str], at: datetime) -> None: ...


class _CoreBatch:
    """SQLAlchemy Core, for SQLite."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def chats(self, chat_ids: set[str]) -> dict[str, Chat]:
        query = (
            select(CHATS)
            .where(CHATS.c.id.in_(sorted(chat_ids)))
            .order_by(CHATS.c.id)
            .with_for_update(read=True)
        )
        return {row.id: read_chat(row) for row in await self.conn.execute(query)}

    async def insert(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        query = (
            sqlite.insert(MESSAGES)
            .on_conflict_do_nothing(index_elements=["chat_id", "sender", "client_msg_id"])
            .returning(MESSAGES.c.id, MESSAGES.c.text_enc)
        )
        return {row.text_enc: row.id for row in await self.conn.execute(query, rows)}

    async def stored(self, chat_ids: set[str], client_ids: set[str]) -> Iterable[Mapping[Any, Any]]:
        rows = await self.conn.execute(
            select(MESSAGES).where(
                MESSAGES.c.chat_id.in_(chat_ids), MESSAGES.c.client_msg_id.in_(client_ids)
            )
        )
        return [row._mapping for row in rows]

    async def mark_replied(self, chat_ids: set[str], at: datetime) -> None:
        await self.conn.execute(
            update(CHATS)
            .where(CHATS.c.id.in_(chat_ids), CHATS.c.first_agent_reply_at.is_(None))
            .values(first_agent_reply_at=at)
        )


# Chat's fields are the chats table's columns (Store.start_chat inserts `asdict(chat)`)
CHAT_COLUMNS = ", ".join(field.name for field in fields(Chat))
PG_CHATS = (
    f"SELECT {CHAT_COLUMNS} FROM chats"  # noqa: S608 (names from Chat, not from input)
    " WHERE id = ANY($1::text[]) ORDER BY id FOR SHARE"
)
PG_INSERT = (
    "INSERT INTO messages (chat_id, author, author_name, agent_id, sender, text_enc,"
    " client_msg_id, created_at, whisper, attachment_enc) SELECT * FROM unnest($1::text[],"
    " $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
    " $8::timestamptz[], $9::boolean[], $10::text[])"
    " ON CONFLICT (chat_id, sender, client_msg_id) DO NOTHING"
    " RETURNING id, text_enc"
)
PG_STORED = (
    "SELECT id, chat_id, author, author_name, sender, text_enc, client_msg_id, created_at,"
    " whisper, attachment_enc FROM messages"
    " WHERE chat_id = ANY($1::text[]) AND client_msg_id = ANY($2::text[])"
)
PG_REPLIED = (
    "UPDATE chats SET first_agent_reply_at = $2"
    " WHERE id = ANY($1::text[]) AND first_agent_reply_at IS NULL"
)
# Strings go as text[], which asyncpg decodes by itself (store/hot.py's `one_of`); the
# timestamps' and booleans' arrays it looks up once per connection, at its warm-up
PREPARED_AT_START.extend((PG_CHATS, PG_INSERT, PG_STORED, PG_REPLIED))


class _AsyncpgBatch:
    """Statements with array parameters, for PostgreSQL, on the pooled connection's asyncpg
    connection itself: SQLAlchemy's execution layer (a greenlet switch, a cursor adapter and
    result processing per statement) cost the writer more than asyncpg's own work."""

    def __init__(self, pg: asyncpg.Connection) -> None:
        self.pg = pg

    async def chats(self, chat_ids: set[str]) -> dict[str, Chat]:
        # the query's columns are Chat's fields, in order
        return {row[0]: Chat(*row) for row in await self.pg.fetch(PG_CHATS, list(chat_ids))}

    async def insert(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        columns = ([row[name] for row in rows] for name in INSERT_COLUMNS)
        return {row["text_enc"]: row["id"] for row in await self.pg.fetch(PG_INSERT, *columns)}

    async def stored(self, chat_ids: set[str], client_ids: set[str]) -> Iterable[Mapping[Any, Any]]:
        rows: list[Mapping[Any, Any]] = await self.pg.fetch(
            PG_STORED, list(chat_ids), list(client_ids)
        )
        return rows

    async def mark_replied(self, chat_ids: set[str], at: datetime) -> None:
        await self.pg.execute(PG_REPLIED, list(chat_ids), at)


class MessageWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        cipher: DataCipher,
        *,
        clock: Clock,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.clock = clock
        self.max_batch = max_batch
        self.max_in_flight = MAX_IN_FLIGHT if engine.dialect.name == "postgresql" else 1
        self._queue: deque[_Pending] = deque()
        self._writing: set[str] = set()  # chats with a message in a batch in flight
        self._in_flight: set[asyncio.Task[None]] = set()
        self.batches = 0  # transactions written, for tests and metrics

    async def post(
        self, chat_id: str, *, check: Check | None = None, **draft: Unpack[Draft]
    ) -> Posted:
        """Store a message once (a resend with the same client_msg_id returns the first);
        returns when it is committed, with the chat as that transaction saw it for a new
        message (whoever holds it then is whom the message must reach). `check` sees the
        chat (or None) in the same transaction and raises to refuse the message. Cancelling
        the caller only stops its wait."""
        loop = asyncio.get_running_loop()
        author, text, agent_id = draft["author"], draft["text"], draft.get("agent_id")
        shape = draft.get("attachment")
        pending = _Pending(
            chat_id=chat_id,
            author=author,
            text=text,
            text_enc=self.cipher.encrypt(text),
            sender=sender_key(author, agent_id),
            client_msg_id=draft.get("client_msg_id"),
            author_name=draft.get("author_name"),
            agent_id=agent_id,
            check=check,
            future=loop.create_future(),
            created_at=self.clock.now(),
            whisper=bool(draft.get("whisper", False)),
            attachment=shape,
            attachment_enc=None if shape is None else self.cipher.encrypt(json.dumps(shape)),
        )
        self._queue.append(pending)
        self._start_batches()
        return await pending.future

    def _start_batches(self) -> None:
        while self._queue and len(self._in_flight) < self.max_in_flight:
            if self._in_flight and len(self._queue) < min(SECOND_BATCH, self.max_batch):
                return  # not worth a transaction of its own: it waits for the one in flight
            batch = self._take_batch()
            if not batch:
                return  # every waiting message's chat is in a batch in flight
            # Never cancelled: a task cancelled inside a store call can leave SQLite locked.
            task = asyncio.get_running_loop().create_task(self._commit(batch))
            self._in_flight.add(task)
            task.add_done_callback(self._batch_done)

    def _take_batch(self) -> list[_Pending]:
        """The oldest waiting messages whose chats have none in flight, in order: a chat's
        messages are committed one batch after another, so their ids follow their order."""
        batch: list[_Pending] = []
        kept: list[_Pending] = []  # of chats in flight: they stay first in the queue
        while self._queue and len(batch) < self.max_batch:
            pending = self._queue.popleft()
            (kept if pending.chat_id in self._writing else batch).append(pending)
        self._queue.extendleft(reversed(kept))
        self._writing.update(pending.chat_id for pending in batch)
        return batch

    def _batch_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._start_batches()

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            outcomes = await self._write_batch_retrying(batch)
        except Exception as exc:  # the database failed: nobody in the batch is stored
            outcomes = [exc] * len(batch)
        finally:
            self._writing.difference_update(pending.chat_id for pending in batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.settle(outcome)

    async def _write_batch_retrying(self, batch: list[_Pending]) -> list[Posted | BaseException]:
        """A pooled connection that died with a database restart fails once (the pool then
        drops every connection as old as it): that batch is written again on a new one."""
        try:
            return await self._write_batch(batch)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            return await self._write_batch(batch)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Batch]:
        if self.engine.dialect.name != "postgresql":
            async with self.engine.begin() as conn:
                yield _CoreBatch(conn)
            return
        async with raw_connection(self.engine) as (_conn, pg), pg.transaction():
            yield _AsyncpgBatch(pg)

    async def _write_batch(self, batch: list[_Pending]) -> list[Posted | BaseException]:
        outcomes: list[Posted | BaseException | None] = [None] * len(batch)
        async with self._transaction() as db:
            chats = await db.chats({p.chat_id for p in batch})
            accepted: list[int] = []
            for n, pending in enumerate(batch):
                chat = chats.get(pending.chat_id)
                try:
                    if pending.check is not None:
                        pending.check(chat)
                    if chat is None:
                        raise MissingChatError(f"no chat {pending.chat_id}")
                except Exception as exc:
                    outcomes[n] = exc
                else:
                    accepted.append(n)
            # a resend within the batch waits for its first copy's outcome
            candidates: list[int] = []
            first_of: dict[tuple[str, str, str], int] = {}
            repeats: list[tuple[int, int]] = []
            for n in accepted:
                key = batch[n].key
                if key is not None and key in first_of:
                    repeats.append((n, first_of[key]))
                    continue
                if key is not None:
                    first_of[key] = n
                candidates.append(n)
            new: list[int] = []
            if candidates:
                ids = await db.insert([batch[n].row() for n in candidates])
                resent = [batch[n] for n in candidates if batch[n].text_enc not in ids]
                copies = await self._stored_copies(db, resent) if resent else {}
                for n in candidates:
                    pending = batch[n]
                    row_id = ids.get(pending.text_enc)
                    if row_id is not None:
                        outcomes[n] = (pending.message(row_id), True, chats[pending.chat_id])
                        new.append(n)
                    elif pending.key in copies:
                        outcomes[n] = (copies[pending.key], False, None)
                    else:  # refused by the unique key, yet no copy: nothing to answer with
                        outcomes[n] = RuntimeError(f"message {pending.key} neither new nor found")
                replied = {
                    batch[n].chat_id
                    for n in new
                    if batch[n].author == "agent" and not batch[n].whisper
                }
                if replied:
                    await db.mark_replied(replied, self.clock.now())
        for n, first in repeats:
            message = outcomes[first]
            assert message is not None
            outcomes[n] = (
                message if isinstance(message, BaseException) else (message[0], False, None)
            )
        self.batches += 1
        done = [outcome for outcome in outcomes if outcome is not None]
        assert len(done) == len(batch), "every message of a batch has an outcome"
        return done

    async def _stored_copies(
        self, db: _Batch, batch: list[_Pending]
    ) -> dict[tuple[str, str, str], Message]:
        keyed = [pending for pending in batch if pending.client_msg_id is not None]
        if not keyed:
            return {}
        wanted = {pending.key for pending in keyed}
        found: dict[tuple[str, str, str], Message] = {}
        rows = await db.stored(
            {pending.chat_id for pending in keyed},
            {pending.client_msg_id for pending in keyed if pending.client_msg_id is not None},
        )
        for row in rows:
            key = (row["chat_id"], row["sender"], row["client_msg_id"])
            if key in wanted:
                found[key] = Message(
                    id=format_message_id(row["id"]),
                    chat_id=row["chat_id"],
                    author=row["author"],
                    text=self.cipher.decrypt(row["text_enc"]),
                    created_at=row["created_at"],
                    author_name=row["author_name"],
                    client_msg_id=row["client_msg_id"],
                    whisper=bool(row["whisper"]),
                    attachment=json.loads(
                        self.cipher.decrypt_optional(row["attachment_enc"]) or "null"
                    ),
                )
        return found
