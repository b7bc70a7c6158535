"""Routing state in Redis: the queue, agent presence and load, and grace deadlines.

Redis holds what must be decided atomically across hub processes; SQL stays the source of
truth, and `rebuild` restores this state from it when Redis starts empty. Assignment runs as
one Lua script, so a chat is never given to two agents and no agent exceeds `max_chats`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.typing import EncodableT, FieldT

PREFIX = "charla:"
LUA = Path(__file__).parent / "lua"  # the scripts, each with its KEYS and ARGV described
PRIORITY_BOOST = 10**13  # larger than any epoch-millisecond arrival: priority sorts first
BATCH = 500  # keys read per pipelined round trip by the passes over all chats or loads


def lua(name: str) -> str:
    """A script of console/routing/lua/, run atomically in Redis."""
    return (LUA / f"{name}.lua").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Assignment:
    chat_id: str
    agent_id: str
    overflowed: bool


@dataclass(frozen=True)
class Waiting:
    chat_id: str
    language: str
    since_ms: int
    priority: bool
    visitor_id: str = ""
    last_sent: str = ""


@dataclass(frozen=True)
class AgentPresence:
    agent_id: str
    status: str
    load: int
    max_chats: int
    languages: tuple[str, ...]


@dataclass(frozen=True)
class LocalSocket:
    """A socket connected to this process, as recorded for the cluster (console.hub.cluster)."""

    kind: str  # "visitor" | "agent"
    tenant_id: str
    owner_id: str
    sid: str

    @property
    def record(self) -> str:
        return f"{self.kind}|{self.tenant_id}|{self.owner_id}|{self.sid}"


def parse_socket(member: str) -> LocalSocket | None:
    """A socket record of `charla:proc:<id>:socks` ("kind|tenant|owner|sid"), or None."""
    parts = member.split("|", 3)
    if len(parts) != 4 or parts[0] not in ("visitor", "agent"):
        return None
    return LocalSocket(kind=parts[0], tenant_id=parts[1], owner_id=parts[2], sid=parts[3])


def batched(flat: list[Any], width: int) -> Iterator[tuple[Any, ...]]:
    """A script's flat reply as rows of `width` values (itertools.batched is 3.12+)."""
    values = iter(flat)
    return zip(*[values] * width, strict=True)


def queue_score(arrival_ms: int, priority: bool) -> int:
    return arrival_ms - PRIORITY_BOOST if priority else arrival_ms


class RoutingState:
    def __init__(self, redis: Redis, instance: str = "") -> None:
        self.redis = redis
        # This process's id in the cluster, the sockets it holds and the statuses its
        # agents set: what it registers again when Redis loses its state (console.hub.cluster).
        self.instance = instance
        self.local_sockets: dict[str, LocalSocket] = {}
        self.local_status: dict[str, str] = {}
        self._assign = redis.register_script(lua("assign"))
        self._transfer = redis.register_script(lua("transfer"))
        self._hand = redis.register_script(lua("hand"))
        self._presence = redis.register_script(lua("presence"))
        self._waiting = redis.register_script(lua("waiting"))
        self._can_serve = redis.register_script(lua("can_serve"))

    @staticmethod
    def prefix(tenant_id: str) -> str:
        return f"{PREFIX}t:{{{tenant_id}}}:"

    # -- the queue -----------------------------------------------------------------------

    async def enqueue(
        self,
        tenant_id: str,
        chat_id: str,
        *,
        language: str,
        arrival_ms: int,
        priority: bool,
        now_ms: int,
        visitor_id: str,
        exclude_agent: str | None = None,
        release_from: str | None = None,
    ) -> None:
        p = self.prefix(tenant_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            if release_from:
                pipe.srem(f"{p}load:{release_from}", chat_id)
                pipe.hset(f"{p}agent:{release_from}", "since", now_ms)
            # nx: enqueueing a chat that waits already keeps its place
            pipe.zadd(f"{p}queue", {chat_id: queue_score(arrival_ms, priority)}, nx=True)
            pipe.sadd(f"{PREFIX}queued_tenants", tenant_id)
            meta: dict[FieldT, EncodableT] = {
                "lang": language,
                "since": arrival_ms,
                "prio": int(priority),
                "visitor": visitor_id,
            }
            if exclude_agent:
                meta["exclude"] = exclude_agent
            pipe.hset(f"{p}qmeta:{chat_id}", mapping=meta)
            await pipe.execute()

    async def dequeue(self, tenant_id: str, chat_id: str) -> bool:
        """Take a chat out of the queue; True only for the one caller that removed it."""
        p = self.prefix(tenant_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(f"{p}queue", chat_id)
            pipe.delete(f"{p}qmeta:{chat_id}")
            removed, _ = await pipe.execute()
        return bool(removed)

    async def is_waiting(self, tenant_id: str, chat_id: str) -> bool:
        return await self.redis.zscore(f"{self.prefix(tenant_id)}queue", chat_id) is not None

    async def holders(self, tenant_id: str, chat_id: str) -> list[str]:
        """Agents whose load counts this chat (normally none or one)."""
        return [agent_id for agent_id, chats in await self.loads(tenant_id) if chat_id in chats]

    async def waiting_among(self, chats: Sequence[tuple[str, str]]) -> set[str]:
        """Which of `chats` ((tenant, chat) pairs) are in their queue: pipelined, one round
        trip per BATCH of them (the reconcile pass reads every queued chat's place)."""
        found: set[str] = set()
        for start in range(0, len(chats), BATCH):
            part = chats[start : start + BATCH]
            async with self.redis.pipeline(transaction=False) as pipe:
                for tenant_id, chat_id in part:
                    pipe.zscore(f"{self.prefix(tenant_id)}queue", chat_id)
                scores = await pipe.execute()
            found.update(c for (_, c), s in zip(part, scores, strict=True) if s is not None)
        return found

    async def loads(self, tenant_id: str | None = None) -> list[tuple[str, set[str]]]:
        """Every agent load in Redis, as (tenant|agent, chats) — of one tenant: (agent, chats).
        Each page of the scan's keys is read in one pipelined round trip."""
        pattern = f"{self.prefix(tenant_id)}load:*" if tenant_id else f"{PREFIX}t:*:load:*"
        out: list[tuple[str, set[str]]] = []
        cursor: Any = 0
        while True:
            cursor, keys = await self.redis.scan(cursor, match=pattern, count=BATCH)
            names = [as_text(key) for key in keys]
            if names:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for name in names:
                        pipe.smembers(name)
                    members = await pipe.execute()
                for name, chats in zip(names, members, strict=True):
                    agent_id = name.rsplit(":", 1)[1]
                    tenant = name[name.index("{") + 1 : name.index("}")]
                    owner = agent_id if tenant_id else f"{tenant}|{agent_id}"
                    out.append((owner, {as_text(c) for c in chats}))
            if not int(cursor):
                return out

    def queue_lock(self, tenant_id: str) -> Lock:
        """Serialises publishing a tenant's queue across processes (Hub.publish_queue)."""
        return self.redis.lock(f"{PREFIX}lock:queue:{tenant_id}", timeout=5, blocking_timeout=5)

    def visitor_lock(self, visitor_id: str) -> Lock:
        return self.redis.lock(
            f"{PREFIX}lock:visitor:{visitor_id}", timeout=15, blocking_timeout=10
        )

    async def tenants_waiting(self) -> list[str]:
        """Tenants with chats in their queue now (of those that ever queued one)."""
        tenants = [as_text(t) for t in await self.redis.smembers(f"{PREFIX}queued_tenants")]
        async with self.redis.pipeline(transaction=False) as pipe:
            for tenant_id in tenants:
                pipe.zcard(f"{self.prefix(tenant_id)}queue")
            counts = await pipe.execute()
        return [t for t, n in zip(tenants, counts, strict=True) if n]

    async def waiting(self, tenant_id: str) -> list[Waiting]:
        raw: list[Any] = await self._waiting(args=[self.prefix(tenant_id)])
        return [
            Waiting(
                chat_id=as_text(chat),
                language=as_text(lang or b""),
                since_ms=int(since or 0),
                priority=bool(int(prio or 0)),
                visitor_id=as_text(visitor or b""),
                last_sent=as_text(sent or b""),
            )
            for chat, lang, since, prio, visitor, sent in batched(raw, 6)
        ]

    async def mark_sent(self, tenant_id: str, sent: dict[str, str]) -> None:
        """Remember what each waiting visitor was last told, to tell them only changes."""
        p = self.prefix(tenant_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            for chat_id, value in sent.items():
                pipe.hset(f"{p}qmeta:{chat_id}", "sent", value)
            await pipe.execute()

    async def assign(
        self, tenant_id: str, *, now_ms: int, overflow_after_ms: int, limit: int = 1000
    ) -> list[Assignment]:
        raw: list[Any] = await self._assign(
            args=[self.prefix(tenant_id), now_ms, overflow_after_ms, limit]
        )
        return [
            Assignment(
                chat_id=as_text(raw[i]), agent_id=as_text(raw[i + 1]), overflowed=bool(raw[i + 2])
            )
            for i in range(0, len(raw), 3)
        ]

    # -- agents --------------------------------------------------------------------------

    async def set_agent_status(
        self,
        tenant_id: str,
        agent_id: str,
        *,
        status: str,
        max_chats: int,
        languages: Sequence[str],
        now_ms: int,
    ) -> None:
        p = self.prefix(tenant_id)
        self.local_status[agent_id] = status
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                f"{p}agent:{agent_id}",
                mapping={
                    "max": max_chats,
                    "langs": "," + ",".join(languages) + ",",
                },
            )
            pipe.hsetnx(f"{p}agent:{agent_id}", "since", now_ms)
            pipe.hset(f"{p}status", agent_id, status)
            if status == "online":
                pipe.sadd(f"{p}online", agent_id)
            else:
                pipe.srem(f"{p}online", agent_id)
            await pipe.execute()

    async def agent_status(self, tenant_id: str, agent_id: str) -> str:
        value = await self.redis.hget(f"{self.prefix(tenant_id)}status", agent_id)
        return as_text(value) if value else "offline"

    async def mark_offline(self, tenant_id: str, agent_id: str) -> None:
        p = self.prefix(tenant_id)
        self.local_status[agent_id] = "offline"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(f"{p}online", agent_id)
            pipe.hset(f"{p}status", agent_id, "offline")
            await pipe.execute()

    async def resume_agent(self, tenant_id: str, agent_id: str) -> None:
        await self.redis.sadd(f"{self.prefix(tenant_id)}online", agent_id)

    async def suspend_agent(self, tenant_id: str, agent_id: str) -> None:
        """No new chats while disconnected; the remembered status comes back on reconnect."""
        await self.redis.srem(f"{self.prefix(tenant_id)}online", agent_id)

    async def release(self, tenant_id: str, agent_id: str, chat_id: str, *, now_ms: int) -> None:
        p = self.prefix(tenant_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.srem(f"{p}load:{agent_id}", chat_id)
            pipe.hset(f"{p}agent:{agent_id}", "since", now_ms)
            await pipe.execute()

    async def hold(self, tenant_id: str, agent_id: str, chat_id: str) -> None:
        """Count a chat in an agent's load (rebuilding from SQL)."""
        await self.redis.sadd(f"{self.prefix(tenant_id)}load:{agent_id}", chat_id)

    async def transfer(
        self, tenant_id: str, chat_id: str, *, from_agent: str, to_agent: str, now_ms: int
    ) -> int:
        return int(
            await self._transfer(
                args=[self.prefix(tenant_id), chat_id, from_agent, to_agent, now_ms]
            )
        )

    async def hand(
        self, tenant_id: str, chat_id: str, *, from_agent: str | None, to_agent: str, now_ms: int
    ) -> int:
        """A supervisor's assignment, from the queue (`from_agent` None) or from an agent,
        to an agent `online` or `away`: 1 done, 0 target full, -1 target offline, -2 the chat
        is no longer waiting."""
        return int(
            await self._hand(
                args=[self.prefix(tenant_id), chat_id, from_agent or "", to_agent, now_ms]
            )
        )

    async def agent_chats(self, tenant_id: str, agent_id: str) -> set[str]:
        return {
            as_text(c)
            for c in await self.redis.smembers(f"{self.prefix(tenant_id)}load:{agent_id}")
        }

    async def presence(
        self, tenant_id: str, agent_ids: Iterable[str] | None = None
    ) -> list[AgentPresence]:
        """These agents' presence, in order; by default every agent of the tenant who has
        connected since Redis started."""
        ids = None if agent_ids is None else list(agent_ids)
        if ids == []:
            return []
        raw: list[Any] = await self._presence(args=[self.prefix(tenant_id), *(ids or ())])
        out = []
        for agent_id, status, online, load, max_chats, langs in batched(raw, 6):
            remembered = as_text(status) if status else "offline"
            out.append(
                AgentPresence(
                    agent_id=as_text(agent_id),
                    status="online"
                    if online
                    else ("away" if remembered == "online" else remembered),
                    load=int(load),
                    max_chats=int(max_chats or 0),
                    languages=tuple(x for x in as_text(langs or b"").split(",") if x),
                )
            )
        return out

    async def can_serve(self, tenant_id: str, language: str | None) -> bool:
        """Is any agent online who speaks `language` (any language when None)?"""
        return bool(await self._can_serve(args=[self.prefix(tenant_id), language or ""]))

    # -- sockets and grace deadlines -----------------------------------------------------

    async def add_socket(self, kind: str, owner_id: str, sid: str, *, tenant_id: str) -> int:
        """Count a connection of a visitor or an agent; returns how many they have now."""
        local = LocalSocket(kind, tenant_id, owner_id, sid)
        self.local_sockets[sid] = local
        return await self._count_socket(local, added=True)

    async def remove_socket(self, kind: str, owner_id: str, sid: str, *, tenant_id: str) -> int:
        """Uncount a connection; returns how many the visitor or agent still has."""
        local = self.local_sockets.pop(sid, None) or LocalSocket(kind, tenant_id, owner_id, sid)
        return await self._count_socket(local, added=False)

    async def _count_socket(self, local: LocalSocket, *, added: bool) -> int:
        """The owner's sockets and this process's record of the socket, changed together."""
        key = f"{PREFIX}socks:{local.kind}:{local.owner_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            change = pipe.sadd if added else pipe.srem
            change(key, local.sid)
            pipe.scard(key)
            if self.instance:
                change(socks_key(self.instance), local.record)
            count = (await pipe.execute())[1]
        return int(count)

    async def socket_count(self, kind: str, owner_id: str) -> int:
        return int(await self.redis.scard(f"{PREFIX}socks:{kind}:{owner_id}"))

    async def sockets_of(self, kind: str, owner_id: str) -> set[str]:
        """The sids of a visitor's or an agent's sockets, on every process."""
        found = await self.redis.smembers(f"{PREFIX}socks:{kind}:{owner_id}")
        return {as_text(sid) for sid in found}

    async def set_deadline(self, member: str, at_ms: int) -> None:
        await self.redis.zadd(f"{PREFIX}deadlines", {member: at_ms})

    async def cancel_deadline(self, member: str) -> None:
        await self.redis.zrem(f"{PREFIX}deadlines", member)

    async def claim_due(self, now_ms: int, limit: int = 100) -> list[str]:
        """Deadlines that have passed; each is handed to exactly one claimant."""
        due: list[bytes] = await self.redis.zrangebyscore(  # type: ignore[assignment]
            f"{PREFIX}deadlines", "-inf", now_ms, 0, limit
        )
        claimed = []
        for member in due:
            if await self.redis.zrem(f"{PREFIX}deadlines", member):
                claimed.append(as_text(member))
        return claimed

    # -- recovery ------------------------------------------------------------------------

    async def reset(self) -> None:
        """Forget all routing state (before a rebuild from SQL)."""
        cursor = 0
        while True:
            cursor, keys = await self.redis.scan(cursor, match=f"{PREFIX}*", count=500)
            if keys:
                await self.redis.delete(*keys)
            if cursor == 0:
                break


def proc_key(instance: str) -> str:
    """A hub process's heartbeat key (it expires when the process stops beating)."""
    return f"{PREFIX}proc:{instance}"


def socks_key(instance: str) -> str:
    """The socket records of a hub process, which survivors reap when it dies."""
    return f"{PREFIX}proc:{instance}:socks"


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
