"""Phones and e-mail addresses in a visitor's message, checked as a CRM needs them.

A phone is a real Puerto Rico or US number (phonenumbers), stored in E.164; an e-mail is
valid by email-validator and not at an obvious misspelling of a mail provider ("gmial.com",
"hotmail.con"), which would never reach the visitor. What looks like one but is not comes
back as `bad` (with a suggestion when there is one), so the bot can ask again, naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from rapidfuzz.distance import DamerauLevenshtein

from console.domain.contact import normalize_email, normalize_phone

PHONE_REGIONS = frozenset({"PR", "US"})
# where most visitors' mail lives; an address one typo away from these is a typo
MAIL_PROVIDERS = (
    "gmail.com",
    "hotmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "live.com",
    "aol.com",
    "msn.com",
    "prtc.net",
    "claropr.com",
    "libertypr.net",
)
# top-level domains that are only typos of .com: no mail is ever delivered there
TYPO_TLDS = frozenset({"con", "cmo", "ocm", "comm", "cpm", "vom", "xom", "coom", "cim", "comn"})

_EMAIL = re.compile(r"[^\s@,;:<>()\[\]\"']+@[^\s@,;:<>()\[\]\"']*")
_PHONE = re.compile(r"(?<![\w+])\+?(?:\d[\s().\-]{0,2}){7,15}(?!\w)")
_ONLY_YEARS = re.compile(r"(?:(?:19|20)\d\d[\s,/\-]*){2,}")
_MODEL_AND_YEAR = re.compile(r"\d{1,4}\s+(?:19|20)\d\d")


@dataclass(frozen=True)
class Found:
    """A message's phone or e-mail: the valid value, or what was typed (`bad`) and why."""

    value: str | None = None
    bad: str | None = None
    foreign: bool = False  # a real number, but outside Puerto Rico and the US
    suggestion: str | None = None  # "ana@gmail.com" for "ana@gmial.com"


def email_suggestion(address: str) -> str | None:
    """The address meant, when its domain is a typo of a mail provider's or of .com."""
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    if domain in MAIL_PROVIDERS:
        return None
    name, _, tld = domain.rpartition(".")
    if tld in TYPO_TLDS and name:
        return f"{local}@{name}.com"
    for provider in MAIL_PROVIDERS:
        # one slip of a finger, on names long enough that it is not another real domain
        if len(provider) >= 9 and DamerauLevenshtein.distance(domain, provider) == 1:
            return f"{local}@{provider}"
    return None


def find_email(text: str) -> tuple[Found, str]:
    """The message's e-mail, and the text without the candidates."""
    valid: str | None = None
    bad: Found | None = None
    for match in _EMAIL.finditer(text):
        candidate = match.group(0).rstrip(".")
        try:
            normalized = normalize_email(candidate)
        except ValueError:
            bad = bad or Found(bad=candidate)
            continue
        suggestion = email_suggestion(normalized)
        if suggestion is not None:
            bad = bad or Found(bad=candidate, suggestion=suggestion)
            continue
        valid = valid or normalized
    found = Found(value=valid) if valid else bad or Found()
    return found, _EMAIL.sub(" ", text)


def valid_phone(raw: str) -> str | None:
    """E.164 for a real Puerto Rico or US number, else None."""
    e164, foreign = _phone(raw)
    return None if foreign else e164


def _phone(raw: str) -> tuple[str | None, bool]:
    try:
        e164 = normalize_phone(raw)
    except ValueError:
        return None, False
    number = phonenumbers.parse(e164)
    if not phonenumbers.is_valid_number(number):
        return None, False
    if phonenumbers.region_code_for_number(number) not in PHONE_REGIONS:
        return e164, True
    return e164, False


def find_phone(text: str) -> tuple[Found, str]:
    """The message's phone, and the text without the candidates."""
    valid: str | None = None
    bad: Found | None = None
    spans: list[tuple[int, int]] = []
    for match in _PHONE.finditer(text):
        candidate = match.group(0).strip(" .-(")
        digits = re.sub(r"\D", "", candidate)
        # four-digit groups with commas are mileage or prices, "2019 2020" are years, and
        # "F-150 2020", "Ram 1500 2020" a model's number and its year
        if (
            len(digits) < 7
            or "," in candidate
            or _ONLY_YEARS.fullmatch(candidate)
            or _MODEL_AND_YEAR.fullmatch(candidate)
        ):
            continue
        spans.append(match.span())
        e164, foreign = _phone(candidate)
        if e164 is None or foreign:
            bad = bad or Found(bad=candidate, foreign=foreign)
        else:
            valid = valid or e164
    for span in reversed(spans):
        text = cut(text, span)
    return (Found(value=valid) if valid else bad or Found()), text


def cut(text: str, span: tuple[int, int]) -> str:
    """The text with a space for what stood at `span`, so that it is not read again."""
    return text[: span[0]] + " " + text[span[1] :]
