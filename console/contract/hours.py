"""A tenant's opening hours and holiday calendar.

Hours are wall-clock times in the tenant's own time zone, as the contract states them
("9 to 6, Puerto Rico time"), so every question is answered after converting the UTC
instant to that zone: 23:30 in San Juan is already tomorrow in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holidays import HolidayBase, country_holidays, list_supported_countries

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
HORIZON_DAYS = 400
# A day any calendar can be asked about: building it once proves the code usable
CALENDAR_PROBE = date(2025, 1, 1)

WeeklyHours = dict[str, list[tuple[str, str]]]

_TIME = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_MINUTES_PER_DAY = 24 * 60
_ALL_DAY = ((0, _MINUTES_PER_DAY),)


def validate_hours(raw: object) -> WeeklyHours | None:
    """Check weekly hours as a tenant admin typed them, and return them sorted.

    `None` means open at all times; a day that is missing or has no ranges is closed.
    A range cannot cross midnight: "22:00"-"02:00" is written as "22:00"-"24:00" on one
    day and "00:00"-"02:00" on the next, which keeps each day's hours readable alone.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(
            'hours must be an object like {"mon": [["09:00", "18:00"]]} '
            "(days mon..sun, each a list of [start, end] ranges), or null for always open"
        )
    result: WeeklyHours = {}
    for day, ranges in raw.items():
        if day not in DAYS:
            raise ValueError(f"hours: unknown day {_show(day)}; use {', '.join(DAYS)}")
        result[day] = _validate_day(day, ranges)
    return {day: result[day] for day in DAYS if day in result}


def _validate_day(day: str, ranges: object) -> list[tuple[str, str]]:
    if isinstance(ranges, str | bytes) or not isinstance(ranges, Sequence):
        raise ValueError(
            f'hours.{day} must be a list of [start, end] ranges like [["09:00", "18:00"]]; '
            "an empty list means closed all day"
        )
    parsed: list[tuple[int, int, str, str]] = []
    for index, pair in enumerate(ranges):
        where = f"hours.{day}[{index}]"
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f'{where} must be a pair [start, end] like ["09:00", "18:00"]')
        start, end = pair
        start_minute = _minute_of_day(start, where)
        end_minute = _minute_of_day(end, where)
        if start == "24:00":
            raise ValueError(f'{where}: "24:00" can only end a range; start the day at "00:00"')
        if start_minute >= end_minute:
            raise ValueError(
                f"{where}: start {start} must be before end {end}; a range cannot cross "
                f'midnight, so end this one at "24:00" and start the next day at "00:00"'
            )
        parsed.append((start_minute, end_minute, start, end))
    parsed.sort()
    for earlier, later in pairwise(parsed):
        if later[0] < earlier[1]:
            raise ValueError(
                f"hours.{day}: {later[2]}-{later[3]} overlaps {earlier[2]}-{earlier[3]}; "
                "merge them into one range"
            )
    return [(start, end) for _, _, start, end in parsed]


def _minute_of_day(value: object, where: str) -> int:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise ValueError(
            f'{where}: {_show(value)} is not a time; write HH:MM on a 24-hour clock, like "09:00" '
            'or "17:30" ("24:00" may end a range)'
        )
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def validate_timezone(name: str) -> str:
    """Return the IANA zone name unchanged if Python's zoneinfo knows it."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        # OSError: a directory of zones such as "America" is found but is not a zone
        raise ValueError(
            f'unknown timezone {_show(name)}: use an IANA name such as "America/Puerto_Rico"'
        ) from None
    return name


def validate_holiday_calendar(code: str | None) -> str | None:
    """Return the calendar code in its canonical spelling ("es-md" -> "ES-MD").

    The code names a calendar of the `holidays` package: a country ("PR", "US") or a
    country and one of its subdivisions ("US-PR", "ES-MD").
    """
    if code is None:
        return None
    example = 'use a country code such as "PR" or "US", or country-subdivision such as "ES-MD"'
    if not isinstance(code, str) or not code.strip():
        raise ValueError(f"holidays must be a calendar code: {example}")
    country, _, subdivision = code.strip().partition("-")
    country = country.upper()
    supported = list_supported_countries()
    if country not in supported:
        raise ValueError(f"unknown holiday calendar {_show(code)}: {example}")
    canonical = country
    if subdivision:
        known = supported[country]
        matches = [s for s in known if s.upper() == subdivision.upper()]
        if not matches:
            listing = ", ".join(known) if known else "none"
            raise ValueError(
                f"holiday calendar {country} has no subdivision {_show(subdivision)}; "
                f"known subdivisions: {listing}"
            )
        canonical = f"{country}-{matches[0]}"
    try:
        _build_calendar(canonical).get(CALENDAR_PROBE)
    except (NotImplementedError, ValueError, KeyError) as error:
        raise ValueError(f"holiday calendar {_show(code)} cannot be used: {error}") from None
    return canonical


def _build_calendar(code: str) -> HolidayBase:
    """A calendar that loads each year the first time a date in it is asked about.

    The holidays package computes holidays per year, and a calendar built for one year
    answers "not a holiday" for every other; `expand=True` makes every lookup ask for
    the year it needs, so a long-lived Schedule stays right across New Year.
    """
    country, _, subdivision = code.partition("-")
    return country_holidays(country, subdiv=subdivision or None, expand=True)


def _show(value: object) -> str:
    """Quote a user's value in an error message without echoing a megabyte of it."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Schedule:
    """When a tenant is open. Built once per tenant (validation and calendar included).

    `hours` is stored as validated by `validate_hours`; an invalid schedule cannot be
    built, so a ValueError here means a tenant row that bypassed the API's validation.
    """

    timezone: str
    hours: Mapping[str, Sequence[Sequence[str]]] | None = None
    holidays: str | None = None
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _week: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)
    _calendar: HolidayBase | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hours = validate_hours(self.hours)
        code = validate_holiday_calendar(self.holidays)
        week: tuple[tuple[tuple[int, int], ...], ...]
        if hours is None:
            week = (_ALL_DAY,) * len(DAYS)
        else:
            week = tuple(
                tuple(
                    (_minute_of_day(start, day), _minute_of_day(end, day))
                    for start, end in hours.get(day, [])
                )
                for day in DAYS
            )
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "holidays", code)
        object.__setattr__(self, "_zone", ZoneInfo(validate_timezone(self.timezone)))
        object.__setattr__(self, "_week", week)
        object.__setattr__(self, "_calendar", None if code is None else _build_calendar(code))

    def is_open(self, at: datetime) -> bool:
        return self.closed_reason(at) is None

    def closed_reason(self, at: datetime) -> str | None:
        """Why the tenant is closed: "holiday" or "after_hours"; None while open.

        A holiday is reported as such even when the hours would close that day anyway:
        the visitor is told the more useful reason.
        """
        local = self._local(at)
        if self._is_holiday(local.date()):
            return "holiday"
        minute = local.hour * 60 + local.minute
        ranges = self._week[local.weekday()]
        if any(start <= minute < end for start, end in ranges):
            return None
        return "after_hours"

    def next_opening(self, at: datetime) -> datetime | None:
        """When the tenant next opens (UTC): `at` if open now, None if not within 400 days."""
        if self.is_open(at):
            return at.astimezone(UTC)
        today = self._local(at).date()
        for offset in range(HORIZON_DAYS + 1):
            day = today + timedelta(days=offset)
            if self._is_holiday(day):
                continue
            for start, _end in self._week[day.weekday()]:
                opening = datetime.combine(day, time(start // 60, start % 60), self._zone)
                if opening > at:
                    return opening.astimezone(UTC)
        return None

    def open_ranges(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC instants the tenant is open on one local day (none on a holiday)."""
        if self._is_holiday(day):
            return []
        ranges = []
        for start, end in self._week[day.weekday()]:
            opening = datetime.combine(day, time(start // 60, start % 60), self._zone)
            if end == _MINUTES_PER_DAY:
                closing = datetime.combine(day + timedelta(days=1), time(0), self._zone)
            else:
                closing = datetime.combine(day, time(end // 60, end % 60), self._zone)
            ranges.append((opening.astimezone(UTC), closing.astimezone(UTC)))
        return ranges

    def local_date(self, at: datetime) -> date:
        """The tenant's calendar day at an instant."""
        return self._local(at).date()

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def _local(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("Schedule needs a timezone-aware datetime (UTC), got a naive one")
        return at.astimezone(self._zone)

    def _is_holiday(self, day: date) -> bool:
        return self._calendar is not None and day in self._calendar


def appointment_problem(schedule: Schedule, local: datetime, now: datetime) -> str | None:
    """Why a visit at the wall-clock time `local` (naive, the tenant's zone) cannot be
    booked, or None when it can: it must be in the future (after `now`, UTC) and inside
    the opening hours, holidays included. The message names the next opening, so that
    whoever asked can pick a time that works."""
    if local.tzinfo is not None:
        raise ValueError("appointment_problem takes the local wall-clock time, naive")
    at = local.replace(tzinfo=schedule.zone)
    shown = local.strftime("%Y-%m-%dT%H:%M")
    if at <= now:
        local_now = f"{now.astimezone(schedule.zone):%Y-%m-%dT%H:%M}"
        problem = f"{shown} is in the past (it is {local_now} at the dealer)"
        if schedule.is_open(now):
            return f"{problem}; pick a later time"
        opening = schedule.next_opening(now)
    else:
        reason = schedule.closed_reason(at)
        if reason is None:
            return None
        opening = schedule.next_opening(at)
        if reason == "holiday":
            problem = f"{shown} falls on a holiday, when the dealer is closed"
        else:
            ranges = (schedule.hours or {}).get(DAYS[local.weekday()], [])
            hours = ", ".join(f"{start}-{end}" for start, end in ranges)
            problem = (
                f"{shown} is outside the dealer's hours ({local:%A}: {hours})"
                if hours
                else f"{shown} is on a {local:%A}, when the dealer is closed"
            )
    if opening is None:
        return f"{problem}; the dealer has no opening in the next {HORIZON_DAYS} days"
    return f"{problem}; the next opening is {opening.astimezone(schedule.zone):%Y-%m-%dT%H:%M}"
