"""The message writer's batches on PostgreSQL: one statement, checked against the chats as
the writer last read them (console/store/messages.py is the writer).

A batch needs its chats twice: to check each message against its chat (in Python: is it the
sender's, is it open) and to lock them while the messages go in, so that an assignment
committing meanwhile either sees the messages in its history or is seen by the batch. As
one transaction that is four round trips (BEGIN, read and lock, insert, COMMIT), and most of
the day a hub's batches carry one or two messages: those round trips were most of a
message's CPU (about 1 ms a message at 100 messages/s, docs/performance.md).

So the chats are read without a lock and kept (`ChatVersions`), each row with its version:
PostgreSQL's `xmin`, the transaction that wrote the row's current version, which every
update of the row changes. The batch is then one statement (`WRITE`), its own transaction:
it locks the batch's chats, inserts the messages of those whose version is still the one
they were checked against, marks agents' first replies, and names the chats that changed
since (an assignment, a close, another hub's write): those are read again, their messages
checked again and written by the next statement. The last of the writer's tries reads and
locks in one transaction (`locked=True`), as every batch once did, so that a chat that
keeps changing still gets its messages written. A chat the writer has read before costs no
read: the usual batch is one round trip.

The statements take arrays (`= ANY($1)`, `unnest`): each has one text whatever the batch's
size, prepared once per connection (an `IN` list or a multi-row `VALUES` would be a new
statement for each count). They run on the pooled connection's asyncpg connection itself:
SQLAlchemy's execution layer cost the writer more than asyncpg's own work. Strings go as
`text[]`, which asyncpg decodes by itself (store/hot.py's `one_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

import asyncpg

from console.domain.types import Chat
from console.store.hot import PREPARED_AT_START

CACHED_CHATS = 20_000  # chats a writer keeps with their versions (about 1 KB each)
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
_TYPES = ("text",) * 7 + ("timestamptz", "boolean", "text")
_PARAMS = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(_TYPES, 1))
_NAMES = ", ".join(INSERT_COLUMNS)

# Chat's fields are the chats table's columns (Store.start_chat inserts `asdict(chat)`)
CHAT_COLUMNS = ", ".join(field.name for field in fields(Chat))
READ = (
    f"SELECT xmin::text, {CHAT_COLUMNS} FROM chats"  # noqa: S608 (names from Chat, not input)
    " WHERE id = ANY($1::text[])"
)
READ_LOCKED = READ + " ORDER BY id FOR SHARE"
# $1..$10 the messages' columns; $11, $12 each chat and the version its messages were
# checked against; $13 the time of an agent's first reply. Rows: ('message', text_enc, id),
# ('stale', chat id, NULL) and ('replied', chat id, NULL, the row's new version).
WRITE = f"""
WITH expected (id, version) AS (
    SELECT * FROM unnest($11::text[], $12::text[])
), locked AS (
    SELECT id, xmin::text AS version FROM chats
    WHERE id = ANY($11::text[]) ORDER BY id FOR SHARE
), fresh AS (
    SELECT id FROM expected JOIN locked USING (id, version)
), inserted AS (
    INSERT INTO messages ({_NAMES})
    SELECT {_NAMES} FROM unnest({_PARAMS}) WITH ORDINALITY AS m ({_NAMES}, n)
    WHERE chat_id IN (SELECT id FROM fresh)
    ORDER BY n
    ON CONFLICT (chat_id, sender, client_msg_id) DO NOTHING
    RETURNING id, text_enc, chat_id, author, whisper
), replied AS (
    UPDATE chats SET first_agent_reply_at = $13
    WHERE id IN (SELECT chat_id FROM inserted WHERE author = 'agent' AND NOT whisper)
        AND first_agent_reply_at IS NULL
    RETURNING id, xmin::text AS version
)
SELECT 'message' AS kind, text_enc AS key, id, NULL::text AS version FROM inserted
UNION ALL SELECT 'stale', id, NULL, NULL FROM expected WHERE id NOT IN (SELECT id FROM fresh)
UNION ALL SELECT 'replied', id, NULL, version FROM replied
"""  # noqa: S608 (column names from this module, not from input)
STORED = (
    "SELECT id, chat_id, author, author_name, sender, text_enc, client_msg_id, created_at,"
    " whisper, attachment_enc FROM messages"
    " WHERE chat_id = ANY($1::text[]) AND client_msg_id = ANY($2::text[])"
)
# readied on each connection a hub readies as it starts (HotStore.warm), the timestamps'
# and booleans' array types looked up then, not in the middle of a burst
PREPARED_AT_START.extend((READ, READ_LOCKED, WRITE, STORED))


class ChatVersions:
    """Chats as a writer last read or wrote them, each with its row's version; at most
    `size`, the longest kept forgotten first."""

    def __init__(self, size: int = CACHED_CHATS) -> None:
        self.size = size
        self._seen: dict[str, tuple[Chat, str]] = {}

    def get(self, chat_id: str) -> tuple[Chat, str] | None:
        return self._seen.get(chat_id)

    def put(self, chat: Chat, version: str) -> None:
        self._seen.pop(chat.id, None)
        self._seen[chat.id] = (chat, version)
        while len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]

    def forget(self, chat_id: str) -> None:
        self._seen.pop(chat_id, None)


class AsyncpgRound:
    """One try at a batch on one asyncpg connection: the chats from `versions` (read when
    missing, or all of them read and locked when `locked`, inside the caller's
    transaction), then `WRITE`."""

    def __init__(self, pg: asyncpg.Connection, versions: ChatVersions, *, locked: bool) -> None:
        self.pg = pg
        self.versions = versions
        self.locked = locked
        self._checked: dict[str, str] = {}  # each chat `chats` returned, and its version

    async def chats(self, chat_ids: set[str]) -> dict[str, Chat]:
        versions = self.versions
        wanted = set(chat_ids) if self.locked else {i for i in chat_ids if not versions.get(i)}
        if wanted:
            query = READ_LOCKED if self.locked else READ
            for row in await self.pg.fetch(query, list(wanted)):
                versions.put(Chat(*row[1:]), row[0])  # the columns after xmin are Chat's
                wanted.discard(row[1])
            for gone in wanted:
                versions.forget(gone)
        found = {chat_id: seen for chat_id in chat_ids if (seen := versions.get(chat_id))}
        self._checked = {chat_id: version for chat_id, (_, version) in found.items()}
        return {chat_id: chat for chat_id, (chat, _) in found.items()}

    async def write(
        self, rows: list[dict[str, Any]], at: datetime
    ) -> tuple[dict[str, int], set[str]]:
        """Insert `rows` whose chats are unchanged since `chats` returned them; the new
        rows' ids by their `text_enc`, and the chats that changed (none of their rows went
        in)."""
        chat_ids = sorted({row["chat_id"] for row in rows})
        versions = [self._checked[chat_id] for chat_id in chat_ids]
        columns = ([row[name] for row in rows] for name in INSERT_COLUMNS)
        ids: dict[str, int] = {}
        stale: set[str] = set()
        for kind, key, row_id, version in await self.pg.fetch(
            WRITE, *columns, chat_ids, versions, at
        ):
            if kind == "message":
                ids[key] = row_id
            elif kind == "stale":
                stale.add(key)
                self.versions.forget(key)
            elif seen := self.versions.get(key):  # replied: this statement updated the row
                self.versions.put(replace(seen[0], first_agent_reply_at=at), version)
        return ids, stale

    async def stored(self, chat_ids: set[str], client_ids: set[str]) -> Iterable[Mapping[Any, Any]]:
        rows: list[Mapping[Any, Any]] = await self.pg.fetch(
            STORED, list(chat_ids), list(client_ids)
        )
        return rows
