"""When the dealer will call back, said in the visitor's language and local format."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

# Per language: the date pattern, how it joins the time, and what to say with no opening.
_PHRASES = {
    "es": ("EEEE d 'de' MMMM", "el {date} a las {time}", "en cuanto abramos"),
    "en": ("EEEE, MMMM d", "on {date} at {time}", "as soon as we open"),
}
_OTHER = ("full", "{date}, {time}", "as soon as we open")


def say_opening(at: datetime | None, *, timezone: str, language: str, locale: str) -> str:
    """ "el martes 1 de diciembre a las 9:00 a. m." / "on Tuesday, December 1 at 9:00 AM"."""
    pattern, phrase, unknown = _PHRASES.get(language, _OTHER)
    if at is None:
        return unknown
    local = at.astimezone(ZoneInfo(timezone))
    date_text = format_date(local, format=pattern, locale=locale)
    time_text = format_time(local, format="short", locale=locale)
    # CLDR puts narrow no-break spaces in times ("9:00\u202fAM"); chat text uses plain ones
    said = phrase.format(date=date_text, time=time_text)
    return said.replace("\u202f", " ").replace("\xa0", " ")
