"""The reports every plan gets: chats, CSAT, the invitation-rule funnel and staffing.

Each takes a tenant and a range of its local days and returns rows of plain values, which
`csv_text` writes as CSV; times are shown in the tenant's zone (ISO 8601 with the offset).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from console.contract.agreement import agreement_for, format_hundredths
from console.contract.hours import Schedule
from console.contract.sla import ChatTimes, Coverage, cut_ratio, local_midnight, measure
from console.domain.errors import ProtocolError
from console.domain.types import Tenant
from console.reports.sla import coverage_for
from console.store.reports import ChatFacts, PresenceEvent
from console.store.repository import Store

MAX_DAYS = 366
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CHAT_COLUMNS = (
    "id",
    "language",
    "agent",
    "status",
    "queued_at",
    "assigned_at",
    "first_response_at",
    "closed_at",
    "wait_s",
    "first_response_s",
    "first_response_wall_s",
    "handle_s",
    "sla",
    "csat",
    "invitation_rule",
    "lead_id",
    "close_reason",
)


@dataclass(frozen=True)
class Period:
    """A range of the tenant's local days, both ends included, as UTC instants."""

    first: date
    last: date
    start: datetime
    end: datetime
    zone: ZoneInfo


def parse_day(value: str | None, name: str) -> date:
    if value is None:
        raise ProtocolError("invalid_payload", f"{name}: required, a date written YYYY-MM-DD")
    if not _DATE.fullmatch(value):
        raise ProtocolError(
            "invalid_payload", f'{name}: write the date as YYYY-MM-DD, like "2026-11-01"'
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ProtocolError("invalid_payload", f"{name}: {value} is not a day") from None


def parse_period(tenant: Tenant, raw_from: str | None, raw_to: str | None) -> Period:
    first, last = parse_day(raw_from, "from"), parse_day(raw_to, "to")
    if first > last:
        raise ProtocolError("invalid_payload", f"from: {first} is after to ({last})")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise ProtocolError(
            "invalid_payload", f"to: the range spans {days} days; ask for at most {MAX_DAYS}"
        )
    zone = ZoneInfo(tenant.timezone)
    return Period(
        first, last, local_midnight(first, zone), local_midnight(last + timedelta(1), zone), zone
    )


def local_iso(at: datetime | None, zone: ZoneInfo) -> str | None:
    return None if at is None else at.astimezone(zone).isoformat(timespec="seconds")


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round(max((end - start).total_seconds(), 0.0), 1)


async def coverage_at(store: Store, tenant: Tenant, day: date) -> tuple[Coverage, int | None]:
    """The SLA clock for the period ending `day`, and its answer target (None: no agreement:
    the tenant's own hours run the clock, and no chat is a hit or a miss)."""
    versions = [(v.version, v.agreement) for v in await store.agreements.versions(tenant.id)]
    closures = [d for d, _ in await store.agreements.closures(tenant.id)]
    try:
        _, agreement = agreement_for(versions, day)
    except LookupError:
        schedule = Schedule(tenant.timezone, tenant.hours, tenant.holidays)
        return Coverage(schedule, frozenset(closures)), None
    return coverage_for(tenant, agreement, closures), agreement.answer_s


async def chat_rows(
    store: Store, tenant: Tenant, period: Period, now: datetime
) -> list[dict[str, Any]]:
    """One row per chat started in the period, oldest first."""
    coverage, answer_s = await coverage_at(store, tenant, period.last)
    names = {a.id: a.name for a in await store.list_agents(tenant.id)}
    rules = await store.reports.rule_names(tenant.id)
    zone = period.zone
    rows = []
    for c in await store.reports.chats(tenant.id, period.start, period.end):
        entered = c.entered_at
        covered = None
        if entered is not None and c.first_agent_reply_at is not None:
            covered = round(coverage.open_seconds(entered, c.first_agent_reply_at), 1)
        outcome = None
        if answer_s is not None:
            times = ChatTimes(entered, c.first_agent_reply_at, c.closed_at)
            found = measure(times, coverage, answer_s, now).outcome
            outcome = None if found == "none" else found
        rows.append(
            {
                "id": c.id,
                "language": c.language,
                "agent": names.get(c.agent_id) if c.agent_id else None,
                "status": c.status,
                "queued_at": local_iso(entered, zone),
                "assigned_at": local_iso(c.assigned_at, zone),
                "first_response_at": local_iso(c.first_agent_reply_at, zone),
                "closed_at": local_iso(c.closed_at, zone),
                "wait_s": seconds(entered, c.assigned_at),
                "first_response_s": covered,
                "first_response_wall_s": seconds(entered, c.first_agent_reply_at),
                "handle_s": seconds(c.assigned_at, c.closed_at),
                "sla": outcome,
                "csat": c.csat_score,
                "invitation_rule": rules.get(c.rule_id) if c.rule_id else None,
                "lead_id": c.lead_id,
                "close_reason": c.close_reason,
            }
        )
    return rows


def csat_groups(
    chats: Iterable[ChatFacts], group_by: str, names: dict[str, str], zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Ratings per agent, language or local day: the 1 to 5 distribution, the average (cut
    to two places) and the response rate (rated of the closed chats a person took part in:
    only those can be rated)."""
    groups: dict[str, list[ChatFacts]] = defaultdict(list)
    for chat in chats:
        if chat.assigned_at is None:
            continue
        if group_by == "agent":
            key = chat.agent_id or "none"
        elif group_by == "language":
            key = chat.language
        else:
            key = chat.created_at.astimezone(zone).date().isoformat()
        groups[key].append(chat)
    rows = []
    for key in sorted(groups):
        members = groups[key]
        closed = [c for c in members if c.status == "closed"]
        scores = [c.csat_score for c in members if c.csat_score is not None]
        rows.append(
            {
                "key": key,
                "label": names.get(key, key) if group_by == "agent" else key,
                "chats": len(closed),
                "rated": len(scores),
                "response_rate_pct": _pct(cut_ratio(len(scores), len(closed))),
                "avg": None if not scores else format_hundredths(sum(scores) * 100 // len(scores)),
                "distribution": {str(n): scores.count(n) for n in range(1, 6)},
            }
        )
    return rows


def _pct(bp: int | None) -> str | None:
    return None if bp is None else format_hundredths(bp)


FUNNEL = ("shown", "accepted", "chats", "leads", "delivered")
AGENTS = "agents"  # the funnel's key for agents' personal invitations


async def funnel_rows(store: Store, tenant: Tenant, period: Period) -> list[dict[str, Any]]:
    """Per invitation rule, and per local day within it: shown, accepted, chats, leads,
    delivered (a lead that reached at least one destination)."""
    names = await store.reports.rule_names(tenant.id)
    totals: dict[str, dict[str, int]] = {}
    days: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    for inv in await store.reports.invitations(tenant.id, period.start, period.end):
        key = inv.rule_id or AGENTS  # agents' own invitations count apart from rules'
        day = inv.shown_at.astimezone(period.zone).date().isoformat()
        steps = (
            True,
            inv.status == "accepted",
            inv.chat_id is not None,
            inv.lead_id is not None,
            inv.delivered,
        )
        for counts in (
            totals.setdefault(key, dict.fromkeys(FUNNEL, 0)),
            days[key].setdefault(day, dict.fromkeys(FUNNEL, 0)),
        ):
            for name, reached in zip(FUNNEL, steps, strict=True):
                counts[name] += reached
    rows = [
        {
            "rule_id": rule_id,
            "name": names.get(rule_id, rule_id),
            "by": "rule",
            **totals.get(rule_id, dict.fromkeys(FUNNEL, 0)),
            "by_day": [{"date": d, **days[rule_id][d]} for d in sorted(days[rule_id])],
        }
        for rule_id in sorted(names, key=lambda r: names[r])
    ]
    if AGENTS in totals:  # one row for every personal invitation (PROTOCOL 1.2)
        by_day = [{"date": d, **days[AGENTS][d]} for d in sorted(days[AGENTS])]
        rows.append(
            {"rule_id": None, "name": "", "by": "agent", **totals[AGENTS], "by_day": by_day}
        )
    return rows


def online_spans(
    events: Sequence[PresenceEvent], start: datetime, end: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Each agent's online intervals within [start, end), from their status changes."""
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    since: dict[str, datetime] = {}
    for event in events:
        if event.status == "online":
            since.setdefault(event.agent_id, max(event.at, start))
        elif event.agent_id in since:
            began = since.pop(event.agent_id)
            if event.at > began:
                spans[event.agent_id].append((began, min(event.at, end)))
    for agent_id, began in since.items():
        if end > began:
            spans[agent_id].append((began, end))
    return spans


def staffing_rows(
    events: Sequence[PresenceEvent],
    chats: Iterable[ChatFacts],
    period: Period,
    now: datetime,
) -> list[dict[str, Any]]:
    """Per local hour with anyone online or any chat: agents online in it (at any moment),
    agent-minutes online, and chats started."""
    end = min(period.end, now)
    hours: dict[datetime, dict[str, Any]] = defaultdict(lambda: {"agents": set(), "seconds": 0.0})
    for agent_id, spans in online_spans(events, period.start, end).items():
        for began, ended in spans:
            hour = began.replace(minute=0, second=0, microsecond=0)
            while hour < ended:
                following = hour + timedelta(hours=1)
                overlap = (min(following, ended) - max(hour, began)).total_seconds()
                if overlap > 0:
                    hours[hour]["agents"].add(agent_id)
                    hours[hour]["seconds"] += overlap
                hour = following
    started: dict[datetime, int] = defaultdict(int)
    for chat in chats:
        started[chat.created_at.replace(minute=0, second=0, microsecond=0)] += 1
    return [
        {
            "hour": hour.astimezone(period.zone).isoformat(timespec="minutes"),
            "agents_online": len(hours[hour]["agents"]) if hour in hours else 0,
            "agent_minutes": round(hours[hour]["seconds"] / 60, 1) if hour in hours else 0.0,
            "chats": started.get(hour, 0),
        }
        for hour in sorted(set(hours) | set(started))
    ]


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_text(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """CSV with a header row; a text cell that a spreadsheet would run as a formula is
    prefixed with an apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            if value is None:
                cells.append("")
            elif isinstance(value, str) and value.startswith(_FORMULA):
                cells.append("'" + value)
            else:
                cells.append(str(value))
        writer.writerow(cells)
    return out.getvalue()
