"""Chat messages are written by group commit: one batch for all that arrive together.

A message is acknowledged only once it is committed, so on the message path the database's
round trips are the cost that matters. `MessageWriter` queues what callers post and writes
them in batches; whatever arrives while a batch is in flight goes into the next one
together: a quiet hub writes each message at once (no added delay), a busy hub writes dozens
per batch. A batch reads its chats, checks each message against its chat (a refused one
fails alone), inserts the messages (a resend of a stored one is skipped by the unique key and
its first copy read back) and marks agents' first replies, with its chats locked for share
while the messages go in, so that an assignment committing meanwhile either sees these
messages in its history or is seen by this batch. On SQLite that is one transaction; on
PostgreSQL usually one statement, against the chats as the writer last read them
(console/store/messages_pg.py), with another try for the messages of a chat that changed.

On PostgreSQL a second batch may be written while one is in flight, once a quarter of a
batch waits (`SECOND_BATCH`). With one at a time, a busy hub idled while the database wrote
the batch that held nearly everyone waiting for an answer (10 to 15% of its time in the
benchmark); with two, it answers one batch's senders while the other is written. A smaller
second batch costs more per message than it saves, so a hub that is not that busy keeps one
in flight. The two batches never share a chat: a chat's messages are committed one batch
after another, in the order they were posted, so their ids follow that order (what `sync`
relies on). SQLite writes one batch at a time whatever happens.

Each message keeps its own outcome: a failed check refuses that message alone; a database
failure fails every message of the batch not yet stored, and their callers get the error
(none of them is acknowledged).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Unpack

from sqlalchemy import select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from console.domain.clock import Clock
from console.domain.types import Author, Chat, Draft, Message, format_message_id
from console.security.crypto import DataCipher
from console.store.hot import raw_connection
from console.store.messages_pg import INSERT_COLUMNS, AsyncpgRound, ChatVersions
from console.store.models import CHATS, MESSAGES
from console.store.records import read_chat

MAX_BATCH = 256
MAX_IN_FLIGHT = 2  # batches written at once on PostgreSQL, on chats apart
SECOND_BATCH = MAX_BATCH // 4  # messages waiting before a batch goes beside one in flight
TRIES = 3  # on PostgreSQL, at a batch whose chats changed under it; the last one locks

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
    """One try at a batch, on one backend: its chats, then the write."""

    async def chats(self, chat_ids: set[str]) -> dict[str, Chat]: ...
    async def write(
        self, rows: list[dict[str, Any]], at: datetime
    ) -> tuple[dict[str, int], set[str]]: ...
    async def stored(
        self, chat_ids: set[str], client_ids: set[str]
    ) -> Iterable[Mapping[Any, Any]]: ...


_Try = AbstractAsyncContextManager[_Batch]  # one try at a batch, on what it runs on


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

    async def write(
        self, rows: list[dict[str, Any]], at: datetime
    ) -> tuple[dict[str, int], set[str]]:
        """Insert `rows` (a resend of a stored message is skipped by the unique key) and mark
        agents' first replies; the new rows' ids by `text_enc`. The chats were read in this
        transaction, so none is stale."""
        query = (
            sqlite.insert(MESSAGES)
            .on_conflict_do_nothing(index_elements=["chat_id", "sender", "client_msg_id"])
            .returning(MESSAGES.c.id, MESSAGES.c.text_enc)
        )
        ids = {row.text_enc: row.id for row in await self.conn.execute(query, rows)}
        replied = {
            row["chat_id"]
            for row in rows
            if row["text_enc"] in ids and row["author"] == "agent" and not row["whisper"]
        }
        if replied:
            await self.conn.execute(
                update(CHATS)
                .where(CHATS.c.id.in_(replied), CHATS.c.first_agent_reply_at.is_(None))
                .values(first_agent_reply_at=at)
            )
        return ids, set()

    async def stored(self, chat_ids: set[str], client_ids: set[str]) -> Iterable[Mapping[Any, Any]]:
        rows = await self.conn.execute(
            select(MESSAGES).where(
                MESSAGES.c.chat_id.in_(chat_ids), MESSAGES.c.client_msg_id.in_(client_ids)
            )
        )
        return [row._mapping for row in rows]


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
        self.postgres = engine.dialect.name == "postgresql"
        self.max_in_flight = MAX_IN_FLIGHT if self.postgres else 1
        self._queue: deque[_Pending] = deque()
        self._writing: set[str] = set()  # chats with a message in a batch in flight
        self._in_flight: set[asyncio.Task[None]] = set()
        self.batches = 0  # batches written, for tests and metrics
        self.versions = ChatVersions()  # the chats as last read, for PostgreSQL's tries
        self.tries = TRIES if self.postgres else 1
        self.stale_chats = 0  # chats found changed since they were read (each cost a try)

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
        outcomes: list[Posted | BaseException | None] = [None] * len(batch)
        try:
            await self._write_batch(batch, outcomes)
        except Exception as exc:  # the database failed: whoever was not stored gets the error
            outcomes = [exc if outcome is None else outcome for outcome in outcomes]
        finally:
            self._writing.difference_update(pending.chat_id for pending in batch)
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.settle(outcome or RuntimeError("the batch gave this message no outcome"))

    async def _write_batch(
        self, batch: list[_Pending], outcomes: list[Posted | BaseException | None]
    ) -> None:
        """Each message's outcome into `outcomes`, in tries (on PostgreSQL) until no message
        is left whose chat changed under it. A pooled connection that died with a database
        restart fails once (the pool then drops every connection as old as it): what was not
        written yet goes again on a new one."""
        todo = list(range(len(batch)))
        repeats: list[tuple[int, int]] = []  # a resend within the batch, and its first copy
        for attempt in (1, 2):
            try:
                async with self._connection() as trying:
                    for n in range(self.tries):
                        if not todo:
                            break
                        async with trying(n == self.tries - 1) as db:
                            todo = await self._try(db, batch, todo, outcomes, repeats)
                break
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        for n in todo:  # not after a locked try; kept from leaving its caller waiting all the same
            outcomes[n] = RuntimeError(f"chat {batch[n].chat_id} changed under every try")
        for n, first in repeats:
            message = outcomes[first]
            assert message is not None
            outcomes[n] = (
                message if isinstance(message, BaseException) else (message[0], False, None)
            )
        self.batches += 1

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Callable[[bool], _Try]]:
        """What each try of a batch runs on, given whether it is the last: on SQLite a
        transaction of its own (one try always does: the chats are read in it); on
        PostgreSQL one pooled connection for every try, a transaction only for the last,
        which reads the chats locked (`AsyncpgRound`)."""
        if not self.postgres:

            @asynccontextmanager
            async def in_sqlite(_last: bool) -> AsyncIterator[_Batch]:
                async with self.engine.begin() as conn:
                    yield _CoreBatch(conn)

            yield in_sqlite
            return
        async with raw_connection(self.engine) as (_conn, pg):

            @asynccontextmanager
            async def in_postgres(last: bool) -> AsyncIterator[_Batch]:
                if not last:
                    yield AsyncpgRound(pg, self.versions, locked=False)
                    return
                async with pg.transaction():
                    yield AsyncpgRound(pg, self.versions, locked=True)

            yield in_postgres

    async def _try(
        self,
        db: _Batch,
        batch: list[_Pending],
        todo: list[int],
        outcomes: list[Posted | BaseException | None],
        repeats: list[tuple[int, int]],
    ) -> list[int]:
        """One try at the messages `todo` of `batch`: their outcomes into `outcomes`, but
        for those whose chat changed since it was read, which are returned (for the next
        try)."""
        chats = await db.chats({batch[n].chat_id for n in todo})
        candidates: list[int] = []
        first_of: dict[tuple[str, str, str], int] = {}
        for n in todo:
            pending = batch[n]
            chat = chats.get(pending.chat_id)
            try:
                if pending.check is not None:
                    pending.check(chat)
                if chat is None:
                    raise MissingChatError(f"no chat {pending.chat_id}")
            except Exception as exc:
                outcomes[n] = exc
                continue
            key = pending.key
            if key is not None and key in first_of:  # waits for its first copy's outcome
                repeats.append((n, first_of[key]))
                continue
            if key is not None:
                first_of[key] = n
            candidates.append(n)
        if not candidates:
            return []
        ids, stale = await db.write([batch[n].row() for n in candidates], self.clock.now())
        self.stale_chats += len(stale)
        written = [n for n in candidates if batch[n].chat_id not in stale]
        resent = [batch[n] for n in written if batch[n].text_enc not in ids]
        copies = await self._stored_copies(db, resent) if resent else {}
        for n in written:
            pending = batch[n]
            row_id = ids.get(pending.text_enc)
            if row_id is not None:
                outcomes[n] = (pending.message(row_id), True, chats[pending.chat_id])
            elif pending.key in copies:
                outcomes[n] = (copies[pending.key], False, None)
            else:  # refused by the unique key, yet no copy: nothing to answer with
                outcomes[n] = RuntimeError(f"message {pending.key} neither new nor found")
        return [n for n in candidates if batch[n].chat_id in stale]

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
