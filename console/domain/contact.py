"""Contact details as Charla stores them: e-mails normalised, phones in E.164.

One place for visitors' contact details, agents' logins and (later) leads.
"""

from __future__ import annotations

from collections.abc import Callable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from console.domain.errors import ProtocolError

DEFAULT_REGION = "US"  # Puerto Rico's numbers are +1, written as in the US


def normalize_email(raw: str) -> str:
    """The address as email-validator normalises it; ValueError says what is wrong."""
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (`787-555-0123` -> `+17875550123`); ValueError for what is not a phone."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValueError("not a phone number; write it like 787-555-0123 or +1...")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def checked(field: str, normalize: Callable[[str], str], raw: str | None) -> str | None:
    """`raw` normalised (None when empty), or `invalid_payload` naming the field."""
    if not raw:
        return None
    try:
        return normalize(raw)
    except ValueError as exc:
        raise ProtocolError("invalid_payload", f"{field}: {exc}") from None
