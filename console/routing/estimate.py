"""Queue positions and wait estimates: pure arithmetic over a snapshot of the queue."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from console.routing.state import AgentPresence, Waiting


@dataclass(frozen=True)
class Position:
    chat_id: str
    language: str
    position: int
    estimated_wait_s: int
    waiting_s: int


def capacity_for(language: str, agents: Sequence[AgentPresence]) -> int:
    """Chat slots of online agents who speak the language."""
    return sum(a.max_chats for a in agents if a.status == "online" and language in a.languages)


def estimate_wait_s(position: int, capacity: int, avg_handle_s: float) -> int:
    """Every slot is busy (or the chat would be assigned): one frees every avg/capacity s."""
    per_slot = avg_handle_s / max(capacity, 1)
    return max(0, math.ceil(position * per_slot))


def positions(
    waiting: Sequence[Waiting],
    agents: Sequence[AgentPresence],
    *,
    avg_handle_s: float,
    now_ms: int,
) -> list[Position]:
    """Each chat's place among the chats of its own language, in queue order."""
    ahead: dict[str, int] = {}
    out = []
    for item in waiting:
        ahead[item.language] = ahead.get(item.language, 0) + 1
        place = ahead[item.language]
        out.append(
            Position(
                chat_id=item.chat_id,
                language=item.language,
                position=place,
                estimated_wait_s=estimate_wait_s(
                    place, capacity_for(item.language, agents), avg_handle_s
                ),
                waiting_s=max(0, (now_ms - item.since_ms) // 1000),
            )
        )
    return out
