"""The service agreement's terms (clauses 2 and 3), read from what the provider sends.

Percentages and scores are decimal strings with two places ("90.00", "4.30") on the wire
and integers inside: basis points for percentages (9000 = 90.00%), hundredths for CSAT
scores (430 = 4.30). A float is refused: 89.99 as a float is not 89.99.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from console.contract.hours import validate_holiday_calendar, validate_hours

_TWO_PLACES = re.compile(r"(\d{1,3})\.(\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_ANSWER_S = 24 * 3600
MAX_LADDER = 10


class AgreementError(ValueError):
    """A term that cannot be; the message names the field and says what to write."""


def parse_hundredths(value: object, where: str) -> int:
    """ "90.00" -> 9000. Only a decimal string with two places: never a float."""
    if isinstance(value, int | float):  # bool is an int
        raise AgreementError(
            f'{where}: write a decimal string with two places like "90.00", not the number '
            f"{value!r}"
        )
    if not isinstance(value, str):
        raise AgreementError(f'{where}: must be a decimal string with two places like "90.00"')
    match = _TWO_PLACES.fullmatch(value)
    if match is None:
        raise AgreementError(
            f'{where}: {value[:20]!r} is not a decimal with two places; write it like "90.00"'
        )
    return int(match[1]) * 100 + int(match[2])


def parse_pct(value: object, where: str, *, allow_zero: bool = False) -> int:
    """A percentage in (0, 100] (or [0, 100] with `allow_zero`), in basis points."""
    bp = parse_hundredths(value, where)
    low = "[0" if allow_zero else "(0"
    if bp > 10000 or (bp == 0 and not allow_zero):
        raise AgreementError(f"{where}: {value} is outside {low}, 100]")
    return bp


def parse_score(value: object, where: str) -> int:
    """A CSAT score between 1.00 and 5.00, in hundredths."""
    hundredths = parse_hundredths(value, where)
    if not 100 <= hundredths <= 500:
        raise AgreementError(f"{where}: {value} is outside the 1.00 to 5.00 rating scale")
    return hundredths


def format_hundredths(value: int) -> str:
    """9000 -> "90.00" (basis points and score hundredths alike)."""
    return f"{value // 100}.{value % 100:02d}"


@dataclass(frozen=True)
class CreditStep:
    below_bp: int
    credit_bp: int


@dataclass(frozen=True)
class Incentive:
    min_bp: int
    csat_min: int | None
    bonus_bp: int


@dataclass(frozen=True)
class Agreement:
    """One version of a tenant's service levels. `coverage_hours` None with
    `has_coverage` False: the tenant's own hours and holidays run the SLA clock."""

    effective_from: date
    answer_s: int
    target_bp: int
    credits: tuple[CreditStep, ...]
    cap_bp: int
    max_abandon_bp: int | None = None
    csat_min: int | None = None
    csat_min_sample: int = 20
    csat_credit_bp: int | None = None
    incentive: Incentive | None = None
    has_coverage: bool = False
    coverage_hours: dict[str, list[list[str]]] | None = None
    coverage_holidays: str | None = None

    def to_wire(self) -> dict[str, Any]:
        pct = format_hundredths
        wire: dict[str, Any] = {
            "effective_from": self.effective_from.isoformat(),
            "answer_s": self.answer_s,
            "target_pct": pct(self.target_bp),
            "max_abandon_pct": None if self.max_abandon_bp is None else pct(self.max_abandon_bp),
            "csat_min": None if self.csat_min is None else pct(self.csat_min),
            "csat_min_sample": self.csat_min_sample,
            "coverage": (
                {"hours": self.coverage_hours, "holidays": self.coverage_holidays}
                if self.has_coverage
                else None
            ),
            "credits": [
                {"below_pct": pct(s.below_bp), "credit_pct": pct(s.credit_bp)} for s in self.credits
            ],
            "csat_credit_pct": None if self.csat_credit_bp is None else pct(self.csat_credit_bp),
            "cap_pct": pct(self.cap_bp),
            "incentive": None,
        }
        if self.incentive is not None:
            wire["incentive"] = {
                "min_pct": pct(self.incentive.min_bp),
                "csat_min": None
                if self.incentive.csat_min is None
                else pct(self.incentive.csat_min),
                "bonus_pct": pct(self.incentive.bonus_bp),
            }
        return wire


def parse_agreement(raw: Mapping[str, Any]) -> Agreement:
    """The terms as the provider sent them (PROTOCOL 1.1), or AgreementError naming the
    field. Fields left out take their defaults; `None` is the same as leaving one out."""
    effective_from = _parse_date(raw.get("effective_from"), "effective_from")
    answer_s = raw.get("answer_s")
    if isinstance(answer_s, bool) or not isinstance(answer_s, int):
        raise AgreementError("answer_s: the answer target in whole seconds, like 30")
    if not 1 <= answer_s <= MAX_ANSWER_S:
        raise AgreementError(f"answer_s: {answer_s} is outside 1 to {MAX_ANSWER_S} seconds")
    target_bp = parse_pct(raw.get("target_pct"), "target_pct")
    sample = raw.get("csat_min_sample", 20)
    sample = 20 if sample is None else sample
    if isinstance(sample, bool) or not isinstance(sample, int) or not 1 <= sample <= 100000:
        raise AgreementError("csat_min_sample: a whole number of ratings from 1, like 20")
    agreement = Agreement(
        effective_from=effective_from,
        answer_s=answer_s,
        target_bp=target_bp,
        credits=_parse_ladder(raw.get("credits"), target_bp),
        cap_bp=parse_pct(raw.get("cap_pct"), "cap_pct", allow_zero=True),
        max_abandon_bp=_optional(raw, "max_abandon_pct", parse_pct, allow_zero=True),
        csat_min=_optional(raw, "csat_min", parse_score),
        csat_min_sample=sample,
        csat_credit_bp=_optional(raw, "csat_credit_pct", parse_pct),
        incentive=_parse_incentive(raw.get("incentive")),
        **_parse_coverage(raw.get("coverage")),
    )
    if agreement.csat_credit_bp is not None and agreement.csat_min is None:
        raise AgreementError("csat_credit_pct: needs csat_min, the score below which it applies")
    return agreement


def _optional(raw: Mapping[str, Any], name: str, parse: Any, **options: Any) -> int | None:
    value = raw.get(name)
    return None if value is None else int(parse(value, name, **options))


def _parse_date(value: object, where: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise AgreementError(f'{where}: a date written YYYY-MM-DD, like "2026-12-01"')
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AgreementError(f"{where}: {value} is not a day of the calendar") from None


def _parse_ladder(raw: object, target_bp: int) -> tuple[CreditStep, ...]:
    example = '[{"below_pct": "90.00", "credit_pct": "5.00"}, ...]'
    if not isinstance(raw, list):
        raise AgreementError(f"credits: a list of steps like {example} (may be empty)")
    if len(raw) > MAX_LADDER:
        raise AgreementError(f"credits: at most {MAX_LADDER} steps")
    steps: list[CreditStep] = []
    for index, step in enumerate(raw):
        where = f"credits[{index}]"
        if not isinstance(step, Mapping) or set(step) != {"below_pct", "credit_pct"}:
            raise AgreementError(f'{where}: an object with "below_pct" and "credit_pct" only')
        below = parse_pct(step["below_pct"], f"{where}.below_pct")
        if below > target_bp:
            raise AgreementError(
                f"{where}.below_pct: {step['below_pct']} is above the target; a credit is "
                "owed only below the target"
            )
        steps.append(CreditStep(below, parse_pct(step["credit_pct"], f"{where}.credit_pct")))
    steps.sort(key=lambda s: -s.below_bp)
    for higher, lower in pairwise(steps):
        if lower.below_bp == higher.below_bp or lower.credit_bp <= higher.credit_bp:
            raise AgreementError(
                "credits: the ladder is not monotone: each lower attainment step must owe a "
                f"larger credit (below {format_hundredths(lower.below_bp)}% owes "
                f"{format_hundredths(lower.credit_bp)}%, below "
                f"{format_hundredths(higher.below_bp)}% owes "
                f"{format_hundredths(higher.credit_bp)}%)"
            )
    return tuple(steps)


def _parse_incentive(raw: object) -> Incentive | None:
    if raw is None:
        return None
    if (
        not isinstance(raw, Mapping)
        or not {"min_pct", "bonus_pct"} <= set(raw)
        or not set(raw) <= {"min_pct", "csat_min", "bonus_pct"}
    ):
        raise AgreementError(
            'incentive: an object like {"min_pct": "97.00", "csat_min": "4.70", '
            '"bonus_pct": "3.00"} (csat_min optional)'
        )
    csat = raw.get("csat_min")
    return Incentive(
        min_bp=parse_pct(raw["min_pct"], "incentive.min_pct"),
        csat_min=None if csat is None else parse_score(csat, "incentive.csat_min"),
        bonus_bp=parse_pct(raw["bonus_pct"], "incentive.bonus_pct"),
    )


def _parse_coverage(raw: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not set(raw) <= {"hours", "holidays"}:
        raise AgreementError('coverage: an object like {"hours": {...}, "holidays": "PR"}')
    try:
        hours = validate_hours(raw.get("hours"))
        holidays = validate_holiday_calendar(raw.get("holidays"))
    except ValueError as exc:
        raise AgreementError(f"coverage.{exc}") from None
    return {
        "has_coverage": True,
        "coverage_hours": None
        if hours is None
        else {day: [list(r) for r in ranges] for day, ranges in hours.items()},
        "coverage_holidays": holidays,
    }


def agreement_for(versions: list[tuple[int, Agreement]], last_day: date) -> tuple[int, Agreement]:
    """The version that measures a month: the latest in force by its last day (a new
    version applies from its date, so one signed mid-month measures that month)."""
    usable = [(v, a) for v, a in versions if a.effective_from <= last_day]
    if not usable:
        raise LookupError("no agreement in force in that month")
    return max(usable, key=lambda pair: (pair[1].effective_from, pair[0]))
