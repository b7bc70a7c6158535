"""A visitor who asks to come in: a test drive, a service slot, an order, a visit.

Read only when the visitor asks ("quiero una prueba de manejo", "can I test drive it
saturday", "cita para el martes a las 10", "quiero separarla"): the kind, and a day and a
time if given, in Spanish or English, relative to the dealer's own calendar day ("mañana",
"el sábado", "next tuesday at 3pm", "a las 10 de la mañana"). The qualifier keeps what was
read in its memory (`Memory.appointment`) and checks the time against the opening hours
(`check`); the word lists are data (appointment.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bots.qualifier.data import load, numbers, table, words
from bots.text import has_phrase
from console.contract.hours import Schedule

_DATA = load("appointment.yaml")
KINDS = table(_DATA["kinds"], "kinds")
_WEEKDAYS = numbers(_DATA["weekdays"], "weekdays")
_RELATIVE = numbers(_DATA["relative_days"], "relative_days")
_MONTHS = numbers(_DATA["months"], "months")
_MORNING = words(_DATA["morning"], "morning")
_AFTERNOON = words(_DATA["afternoon"], "afternoon")
_NOON = words(_DATA["noon"], "noon")
AGREE = words(_DATA["agree"], "agree")
_STAFF: dict[str, dict[str, str]] = {
    language: {key: str(text) for key, text in texts.items()}
    for language, texts in _DATA["staff"].items()
}

_MONTH_WORDS = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY_OF_MONTH = re.compile(rf"\b(\d{{1,2}}) de ({_MONTH_WORDS})\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH_WORDS})\.? (\d{{1,2}})(?:st|nd|rd|th)?\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b")
_MERIDIEM = re.compile(r"(?<![\d:])(\d{1,2})(?::([0-5]\d))?\s*([ap])\.?\s?m\b\.?")
_SPANISH_TIME = re.compile(r"\ba las? (\d{1,2})(?::([0-5]\d)| y (media|cuarto))?\b")
_ENGLISH_TIME = re.compile(r"\b(?:at|around|by) (\d{1,2})(?::([0-5]\d))?\b(?!\s*(?:mil|k\b|%))")
_CLOCK = re.compile(r"(?<![\d:/-])([01]?\d|2[0-3]):([0-5]\d)(?![\d:])")
_BARE_HOUR = re.compile(r"^\W*(?:a las |at )?(\d{1,2})\W*$")
_MINUTES = {"media": 30, "cuarto": 15}
# a bare hour a dealer could mean: 1 to 7 is the afternoon, 8 to 11 the morning
_AFTERNOON_BELOW = 8
_NOON_HOUR = 12


@dataclass(frozen=True)
class Heard:
    """What one message said of a visit: its kind, day and time, each if said."""

    kind: str | None = None
    day: date | None = None
    at: time | None = None


def read(folded: str, *, today: date, interest: str | None, framed: bool = False) -> Heard:
    """The visit a message asks for. `framed`: the message answers the bot's question
    about the day and time, where a bare "10" is an hour."""
    kind = next((k for k, phrases in KINDS.items() if has_phrase(folded, phrases)), None)
    if kind == "visit" and interest == "service":
        kind = "service"
    return Heard(kind=kind, day=_day(folded, today), at=_time(folded, framed=framed))


def _day(folded: str, today: date) -> date | None:
    for phrase in _MORNING:  # "a las 10 de la mañana" is a time of day, not tomorrow
        folded = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", " ", folded)
    for phrase, offset in sorted(_RELATIVE.items(), key=lambda item: -len(item[0])):
        if has_phrase(folded, (phrase,)):
            return today + timedelta(days=offset)
    match = _WEEKDAY.search(folded)
    if match:
        # a day named on that same day means next week's: today is "hoy", "today"
        ahead = (_WEEKDAYS[match.group(1)] - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    match = _DAY_OF_MONTH.search(folded)
    if match:
        return _next_date(today, _MONTHS[match.group(2)], int(match.group(1)))
    match = _MONTH_DAY.search(folded)
    if match:
        return _next_date(today, _MONTHS[match.group(1)], int(match.group(2)))
    return None


def _next_date(today: date, month: int, day: int) -> date | None:
    """The date's next occurrence from today (December asks about January next year)."""
    for year in (today.year, today.year + 1):
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if found >= today:
            return found
    return None


def _time(folded: str, *, framed: bool) -> time | None:
    if has_phrase(folded, _NOON):
        return time(12, 0)
    match = _MERIDIEM.search(folded)
    if match and 1 <= int(match.group(1)) <= 12:
        hour = int(match.group(1)) % 12 + (12 if match.group(3) == "p" else 0)
        return time(hour, int(match.group(2) or 0))
    minute = 0
    match = _SPANISH_TIME.search(folded) or _ENGLISH_TIME.search(folded)
    if match:
        hour = int(match.group(1))
        extra = match.group(3) if match.re is _SPANISH_TIME else None
        minute = _MINUTES[extra] if extra else int(match.group(2) or 0)
    else:
        match = _CLOCK.search(folded) or (_BARE_HOUR.match(folded) if framed else None)
        if not match:
            return None
        hour = int(match.group(1))
        minute = int(match.group(2) or 0) if match.re is _CLOCK else 0
    if hour > 23:
        return None
    afternoon = has_phrase(folded, _AFTERNOON) and hour < _NOON_HOUR
    if afternoon or (not has_phrase(folded, _MORNING) and 1 <= hour < _AFTERNOON_BELOW):
        hour += 12
    return time(hour, minute)


# -- what the qualifier remembers ------------------------------------------------------------


def merge(appointment: dict[str, Any], heard: Heard, *, asked: bool) -> bool:
    """Take what a message said into the remembered appointment (JSON-ready: "kind",
    "day", "time", and "at" once checked); True when it told anything new. A day or time
    counts only once a visit was asked for, or in answer to the bot's question."""
    told = False
    if heard.kind and (
        appointment.get("kind") in (None, "visit") or appointment.get("kind") == heard.kind
    ):
        told = appointment.get("kind") != heard.kind
        appointment["kind"] = heard.kind
    if not appointment.get("kind") and not asked:
        return False
    for key, value in (
        ("day", heard.day.isoformat() if heard.day else None),
        ("time", heard.at.strftime("%H:%M") if heard.at else None),
    ):
        if value and appointment.get(key) != value:
            appointment[key] = value
            appointment.pop("at", None)
            told = True
    return told


def pending(appointment: dict[str, Any]) -> bool:
    """A visit asked for whose day and time are not settled."""
    return bool(appointment.get("kind")) and "at" not in appointment


def complete(appointment: dict[str, Any]) -> datetime | None:
    """The local wall-clock time asked for, once both a day and a time were said."""
    if "at" in appointment or not (appointment.get("day") and appointment.get("time")):
        return None
    return datetime.fromisoformat(f"{appointment['day']}T{appointment['time']}")


def check(schedule: Schedule, local: datetime, now: datetime) -> tuple[bool, datetime | None]:
    """Whether the dealer can see the visitor at the wall-clock time `local` (open then,
    and still to come), and if not the time to propose instead (UTC, None if none in
    the calendar's horizon): the next opening after it or, for a time already past, the
    next open half hour from now."""
    at = local.replace(tzinfo=schedule.zone)
    if at > now and schedule.is_open(at):
        return True, None
    start = at if at > now else now + timedelta(minutes=30 - now.minute % 30)
    return False, schedule.next_opening(start.replace(second=0, microsecond=0))


def staff_note(appointment: dict[str, Any], language: str) -> str | None:
    """The lead's note on the visit, for the staff: booked for a time (said when it was
    booked, `staff_when`), or still open."""
    kind = appointment.get("kind")
    if not kind:
        return None
    texts = _STAFF.get(language) or _STAFF["es"]
    when = appointment.get("staff_when") if "at" in appointment else None
    if when:  # "… a las 10:00 a. m." ends the sentence: no "m.."
        return re.sub(
            r"(?<=\w)\.\.(?!\.)", ".", texts["booked"].format(kind=texts[kind], when=when)
        )
    return texts["open"].format(kind=texts[kind])


def kind_words(kind: str, language: str) -> str:
    """The kind said to the visitor: "una prueba de manejo", "a test drive"."""
    texts = _STAFF.get(language) or _STAFF["en"]
    return texts[str(kind)]
