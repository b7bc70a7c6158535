"""The supervisor's live tiles, as pure arithmetic over a snapshot of the floor.

"Today" is the tenant's own calendar day (midnight in its time zone), since that is the day
a dealership's manager means. The I/O that gathers the snapshot is in
`console/supervision/live.py`; this module takes data and returns data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from console.domain.types import Agent, Chat, ChatDay, iso
from console.routing.state import AgentPresence, Waiting

MISSED_REASONS = frozenset({"abandoned"})


def start_of_day(now: datetime, timezone: str) -> datetime:
    """Midnight of `now`'s day in the tenant's zone, as a UTC instant."""
    local = now.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def average(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def tiles(
    *,
    now: datetime,
    since: datetime,
    agents: Sequence[Agent],
    presence: Sequence[AgentPresence],
    waiting: Sequence[Waiting],
    chats: Sequence[ChatDay],
    active: Sequence[Chat],
) -> dict[str, Any]:
    """The tiles as the console shows them (and `GET /api/supervisor/stats` returns)."""
    by_id = {p.agent_id: p for p in presence}
    team = []
    for agent in agents:
        if not agent.active:
            continue
        p = by_id.get(agent.id)
        team.append(
            {
                "agent_id": agent.id,
                "name": agent.name,
                "role": agent.role,
                "languages": list(agent.languages),
                "status": p.status if p else "offline",
                "load": p.load if p else 0,
                "max_chats": agent.max_chats,
            }
        )
    online = [a for a in team if a["status"] == "online"]
    now_ms = int(now.timestamp() * 1000)
    oldest = min((w.since_ms for w in waiting), default=None)
    today = [c for c in chats if c.created_at >= since]
    first_responses = [
        (c.first_agent_reply_at - c.assigned_at).total_seconds()
        for c in chats
        if c.first_agent_reply_at is not None
        and c.assigned_at is not None
        and c.first_agent_reply_at >= since
    ]
    scores = [
        float(c.csat_score)
        for c in chats
        if c.csat_score is not None and c.rated_at is not None and c.rated_at >= since
    ]
    return {
        "generated_at": iso(now),
        "day_started_at": iso(since),
        "agents": team,
        "agents_online": len(online),
        "load": {
            "active_chats": sum(a["load"] for a in team),
            "capacity": sum(a["max_chats"] for a in online),
        },
        "queue": {
            "length": len(waiting),
            "longest_wait_s": max(0, (now_ms - oldest) // 1000) if oldest is not None else 0,
            "oldest_since": iso(datetime.fromtimestamp(oldest / 1000, UTC)) if oldest else None,
            "by_language": _count_by_language(waiting),
        },
        "chats_today": len(today),
        "missed_today": sum(
            1 for c in today if c.status == "offline" or (c.close_reason or "") in MISSED_REASONS
        ),
        "avg_first_response_s": average(first_responses),
        "csat_today": {"average": average(scores), "count": len(scores)},
        "active_chats": [
            {
                "chat_id": c.id,
                "agent_id": c.agent_id,
                "language": c.language,
                "assigned_at": iso(c.assigned_at),
            }
            for c in active
        ],
    }


def _count_by_language(waiting: Sequence[Waiting]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in waiting:
        counts[w.language] = counts.get(w.language, 0) + 1
    return counts


def changed(before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
    """Whether a push is worth sending: the clock fields tick on their own in the console."""
    return before is None or _steady(before) != _steady(after)


def _steady(stats: dict[str, Any]) -> dict[str, Any]:
    steady = {k: v for k, v in stats.items() if k != "generated_at"}
    steady["queue"] = {**stats["queue"], "longest_wait_s": None}
    return steady
