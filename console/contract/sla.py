"""The SLA clock and a month's attainment, credits and incentive (PROTOCOL 1.1).

Pure: every function takes the instants it needs (the clock is a parameter). Figures that
are compared with the agreement are the ones shown: attainment, abandonment and CSAT are
cut (never rounded up) to two places, and "below 90.00%" means the figure shown is below.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from console.contract.agreement import Agreement, format_hundredths
from console.contract.hours import Schedule

Outcome = Literal["hit", "miss", "not_counted", "pending", "none"]
_MONTH = re.compile(r"(\d{4})-(\d{2})")
FREEZE_DAY = 3


@dataclass(frozen=True)
class Coverage:
    """When the SLA clock runs: a schedule's open hours, less one-off closed days."""

    schedule: Schedule
    closures: frozenset[date] = frozenset()
    _days: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def ranges(self, day: date) -> list[tuple[datetime, datetime]]:
        found = self._days.get(day)
        if found is None:
            found = [] if day in self.closures else self.schedule.open_ranges(day)
            self._days[day] = found
        return found

    def open_seconds(self, start: datetime, end: datetime) -> float:
        """The covered seconds between two instants (0 when `end` is not after `start`)."""
        if end <= start:
            return 0.0
        day, last = self.schedule.local_date(start), self.schedule.local_date(end)
        total = 0.0
        while day <= last:
            for opening, closing in self.ranges(day):
                low, high = max(opening, start), min(closing, end)
                if high > low:
                    total += (high - low).total_seconds()
            day += timedelta(days=1)
        return total

    def deadline(self, start: datetime, seconds: float, *, horizon_days: int = 400) -> datetime:
        """The instant when `seconds` of coverage have passed since `start`."""
        left = seconds
        day = self.schedule.local_date(start)
        for _ in range(horizon_days):
            for opening, closing in self.ranges(day):
                low = max(opening, start)
                if closing <= low:
                    continue
                span = (closing - low).total_seconds()
                if span >= left:
                    return low + timedelta(seconds=left)
                left -= span
            day += timedelta(days=1)
        return start + timedelta(days=horizon_days)


@dataclass(frozen=True)
class ChatTimes:
    """What the SLA reads of one chat. `entered_at`: when it entered the human queue (for
    a bot chat, the hand-off; None if it never did); `ended_at`: when it closed."""

    entered_at: datetime | None
    first_response_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class Measured:
    outcome: Outcome
    abandoned: bool
    coverage_s: float | None
    wall_s: float | None


def measure(chat: ChatTimes, coverage: Coverage, answer_s: int, now: datetime) -> Measured:
    """Hit, miss, not counted (abandoned within the target) or pending (still waiting and
    within it). A chat that closed before any agent wrote was abandoned."""
    entered = chat.entered_at
    if entered is None:
        return Measured("none", False, None, None)
    if chat.first_response_at is not None:
        end, abandoned = chat.first_response_at, False
    elif chat.ended_at is not None:
        end, abandoned = chat.ended_at, True
    else:
        waited = coverage.open_seconds(entered, now)
        return Measured("miss" if waited > answer_s else "pending", False, None, None)
    covered = coverage.open_seconds(entered, end)
    wall = max((end - entered).total_seconds(), 0.0)
    if abandoned:
        return Measured("miss" if covered > answer_s else "not_counted", True, None, None)
    return Measured("hit" if covered <= answer_s else "miss", False, covered, wall)


def cut_ratio(part: int, whole: int) -> int | None:
    """part / whole in basis points, cut to two places (never rounded up)."""
    return None if whole == 0 else part * 10000 // whole


def percentile(values: list[float], pct: int) -> float:
    """Nearest rank: the smallest value with at least `pct`% of them at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class MonthFigures:
    eligible: int
    hits: int
    misses: int
    abandoned: int
    not_counted: int
    pending: int
    attainment_bp: int | None
    abandon_bp: int | None
    first_response: tuple[float, float, float] | None
    csat_count: int
    csat_avg: int | None  # hundredths, cut
    credit_bp: int
    incentive_bp: int

    def to_wire(self) -> dict[str, Any]:
        def pct(value: int | None) -> str | None:
            return None if value is None else format_hundredths(value)

        first = self.first_response
        return {
            "eligible": self.eligible,
            "hits": self.hits,
            "misses": self.misses,
            "abandoned": self.abandoned,
            "not_counted": self.not_counted,
            "pending": self.pending,
            "attainment_pct": pct(self.attainment_bp),
            "abandon_pct": pct(self.abandon_bp),
            "first_response_s": {
                "avg": None if first is None else round(first[0], 1),
                "p50": None if first is None else round(first[1], 1),
                "p90": None if first is None else round(first[2], 1),
            },
            "csat": {"count": self.csat_count, "avg": pct(self.csat_avg)},
            "credit_pct": format_hundredths(self.credit_bp),
            "incentive_pct": format_hundredths(self.incentive_bp),
        }


def month_figures(
    measured: Iterable[Measured], csat_scores: Iterable[int], agreement: Agreement
) -> MonthFigures:
    counts = {"hit": 0, "miss": 0, "not_counted": 0, "pending": 0, "none": 0}
    abandoned = 0
    responses: list[float] = []
    for m in measured:
        counts[m.outcome] += 1
        abandoned += m.abandoned
        if m.coverage_s is not None:
            responses.append(m.coverage_s)
    scores = list(csat_scores)
    eligible = counts["hit"] + counts["miss"]
    attainment = cut_ratio(counts["hit"], eligible)
    abandon = cut_ratio(abandoned, eligible + counts["not_counted"])
    csat_avg = None if not scores else sum(scores) * 100 // len(scores)
    credit = credit_bp(agreement, attainment, len(scores), csat_avg)
    first = (
        (sum(responses) / len(responses), percentile(responses, 50), percentile(responses, 90))
        if responses
        else None
    )
    return MonthFigures(
        eligible=eligible,
        hits=counts["hit"],
        misses=counts["miss"],
        abandoned=abandoned,
        not_counted=counts["not_counted"],
        pending=counts["pending"],
        attainment_bp=attainment,
        abandon_bp=abandon,
        first_response=first,
        csat_count=len(scores),
        csat_avg=csat_avg,
        credit_bp=credit,
        incentive_bp=incentive_bp(agreement, attainment, abandon, len(scores), csat_avg, credit),
    )


def credit_bp(
    agreement: Agreement, attainment: int | None, csat_count: int, csat_avg: int | None
) -> int:
    """The service credit owed, in basis points of the month's fee: the deepest step of the
    ladder the attainment is below, plus the CSAT credit when the average is below the
    floor on at least the minimum sample; never more than the cap."""
    ladder = 0
    if attainment is not None:
        ladder = max((s.credit_bp for s in agreement.credits if attainment < s.below_bp), default=0)
    csat = 0
    if (
        agreement.csat_credit_bp is not None
        and agreement.csat_min is not None
        and csat_avg is not None
        and csat_count >= agreement.csat_min_sample
        and csat_avg < agreement.csat_min
    ):
        csat = agreement.csat_credit_bp
    return min(ladder + csat, agreement.cap_bp)


def incentive_bp(  # noqa: PLR0917 (the month's figures, in the order they are computed)
    agreement: Agreement,
    attainment: int | None,
    abandon: int | None,
    csat_count: int,
    csat_avg: int | None,
    credit: int,
) -> int:
    """The bonus earned: attainment at or above its minimum, no credit owed, abandonment
    within the ceiling and, when the incentive names a CSAT score, that score reached on at
    least the minimum sample (a month too small to prove it earns no bonus)."""
    incentive = agreement.incentive
    if incentive is None or attainment is None or credit > 0 or attainment < incentive.min_bp:
        return 0
    ceiling = agreement.max_abandon_bp
    if ceiling is not None and abandon is not None and abandon > ceiling:
        return 0
    if incentive.csat_min is not None and (
        csat_avg is None or csat_count < agreement.csat_min_sample or csat_avg < incentive.csat_min
    ):
        return 0
    return incentive.bonus_bp


# -- months ----------------------------------------------------------------------------------


def parse_month(value: object, where: str = "month") -> tuple[int, int]:
    if not isinstance(value, str) or not (match := _MONTH.fullmatch(value)):
        raise ValueError(f'{where}: write the month as YYYY-MM, like "2026-11"')
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 2000:
        raise ValueError(f"{where}: {value} is not a month; months run 01 to 12")
    return year, month


def month_days(year: int, month: int) -> tuple[date, date]:
    """The month's first and last day."""
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's first instant (UTC), in the zone."""
    first, last = month_days(year, month)
    return local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)


def freeze_at(year: int, month: int, zone: ZoneInfo) -> datetime:
    """When a month's figures are frozen: the start of the third day of the next month
    (two days for late ratings and chats that closed after midnight)."""
    _, last = month_days(year, month)
    return local_midnight(last + timedelta(days=FREEZE_DAY), zone)


def figures_sha256(figures: dict[str, Any]) -> str:
    """The figures' fingerprint: SHA-256 of their canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()
