"""Where events go: the two namespaces, their rooms, and what can emit into them.

Every socket of a visitor joins `visitor:<id>`; every socket of an agent joins
`agent:<id>` and `tenant:<id>` (the whole team hears the queue and presence); supervisors and
admins also join `supervisors:<id>`, for the SLA warnings (every plan) and the live tiles
(premium). The hub addresses rooms, never sockets, so an event reaches a person on every
tab and every process.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

VISITOR_NS = "/visitor"
AGENT_NS = "/agent"
SUPERVISORS_PREFIX = "supervisors:"


def visitor_room(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


def tenant_room(tenant_id: str) -> str:
    return f"tenant:{tenant_id}"


def supervisors_room(tenant_id: str) -> str:
    return f"{SUPERVISORS_PREFIX}{tenant_id}"


def watch_room(chat_id: str) -> str:
    """The sockets of supervisors who joined a chat: they hear its messages and whispers."""
    return f"watch:{chat_id}"


class Emitter(Protocol):
    """python-socketio's AsyncServer, or a write-only AsyncRedisManager in a worker."""

    def emit(
        self,
        event: str,
        data: Any = None,
        *,
        to: str | None = None,
        skip_sid: str | None = None,
        namespace: str | None = None,
    ) -> Awaitable[None]: ...
