"""Lead fields found in one visitor message, in Spanish, English or a mix of both.

Visitors answer out of order and all at once ("Soy Ana, 787-555-0123, me interesa la
Tacoma 2022"), so every message is searched for every field, whatever was asked. The
rules are keyword and pattern based: they are cheap, explainable to a dealer and
measured on held-out utterances (bench/bot_extraction.py, docs/bots.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import phonenumbers

from bots.qualifier.data import load, table, words
from bots.qualifier.vehicles import AMBIGUOUS_MODELS, MAKES, MODELS
from bots.text import fold, has_phrase
from console.domain.contact import normalize_email, normalize_phone

PHONE_REGIONS = frozenset({"PR", "US"})

Interest = str  # "buy" | "lease" | "service" | "parts" | "finance" | "other"

# The word lists are data (phrases.yaml beside this module), folded. In each table the
# first list with a phrase in the message wins: the interests and timeframes are in
# priority order, "used" comes before "new".
_PHRASES = load("phrases.yaml")
CONDITION_PHRASES = table(_PHRASES["condition"], "condition")
TRADE_MARKERS = words(_PHRASES["trade_in"], "trade_in")
INTEREST_PHRASES = table(_PHRASES["interest"], "interest")
TIMEFRAME_PHRASES = table(_PHRASES["timeframe"], "timeframe")
NOT_NAMES = frozenset(
    {*words(_PHRASES["not_names"], "not_names"), *map(fold, MAKES), *map(fold, MODELS)}
)


@dataclass(frozen=True)
class Car:
    """A vehicle as a message names it; every field is optional."""

    year: int | None = None
    make: str | None = None
    model: str | None = None

    def is_empty(self) -> bool:
        return not self.to_data()

    def to_data(self) -> dict[str, Any]:
        """The fields that are known, JSON-ready."""
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Vehicle(Car):
    """The vehicle the visitor is interested in."""

    vin: str | None = None
    stock: str | None = None
    condition: str | None = None

    def merged(self, newer: Vehicle) -> Vehicle:
        """This vehicle updated by what a later message said; a new model drops a stale
        make and year that belonged to the previous one."""
        base = self
        if newer.model and newer.model != self.model:
            base = Vehicle(vin=self.vin, stock=self.stock, condition=self.condition)
        return replace(base, **newer.to_data())


@dataclass(frozen=True)
class TradeIn(Car):
    """The visitor's own vehicle, offered as part of the payment."""

    mileage: int | None = None

    def merged(self, newer: TradeIn) -> TradeIn:
        return replace(self, **newer.to_data())


@dataclass(frozen=True)
class Extracted:
    """What one message said. `bad_phone`/`bad_email` hold what looked like one but is not
    valid, so the bot can ask for a correction instead of ignoring it."""

    interest: Interest | None = None
    vehicle: Vehicle = field(default_factory=Vehicle)
    trade_in: TradeIn = field(default_factory=TradeIn)
    mentions_trade_in: bool = False
    declines_trade_in: bool = False
    timeframe: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    bad_phone: str | None = None
    bad_email: str | None = None

    # the lead's fields of one value each, as `flat` names them
    LEAD_VALUES = ("interest", "timeframe", "first_name", "last_name", "phone", "email")

    def flat(self) -> dict[str, object]:
        """Field name -> value for the fields found (`vehicle.make`, `phone`, ...)."""
        found: dict[str, object] = {}
        for name in self.LEAD_VALUES:
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        for key, value in self.vehicle.to_data().items():
            found[f"vehicle.{key}"] = value
        for key, value in self.trade_in.to_data().items():
            found[f"trade_in.{key}"] = value
        return found


# -- contact details -----------------------------------------------------------------------

_EMAIL = re.compile(r"[^\s@,;:<>()\[\]\"']+@[^\s@,;:<>()\[\]\"']*")
_PHONE = re.compile(r"(?<![\w+])\+?(?:\d[\s().\-]{0,2}){7,15}(?!\w)")
_ONLY_YEARS = re.compile(r"(?:(?:19|20)\d\d[\s,/\-]*){2,}")


def find_email(text: str) -> tuple[str | None, str | None, str]:
    """(valid e-mail, invalid candidate, text without the candidates)."""
    valid: str | None = None
    bad: str | None = None
    for match in _EMAIL.finditer(text):
        candidate = match.group(0).rstrip(".")
        try:
            normalized = normalize_email(candidate)
        except ValueError:
            bad = bad or candidate
            continue
        valid = valid or normalized
    return valid, None if valid else bad, _EMAIL.sub(" ", text)


def valid_phone(raw: str) -> str | None:
    """E.164 for a real Puerto Rico or US number, else None."""
    try:
        e164 = normalize_phone(raw)
    except ValueError:
        return None
    number = phonenumbers.parse(e164)
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.region_code_for_number(number) not in PHONE_REGIONS:
        return None
    return e164


def find_phone(text: str) -> tuple[str | None, str | None, str]:
    """(valid phone in E.164, invalid candidate, text without the candidates)."""
    valid: str | None = None
    bad: str | None = None
    spans: list[tuple[int, int]] = []
    for match in _PHONE.finditer(text):
        candidate = match.group(0).strip(" .-(")
        digits = re.sub(r"\D", "", candidate)
        # four-digit groups with commas are mileage or prices, and "2019 2020" are years
        if len(digits) < 7 or "," in candidate or _ONLY_YEARS.fullmatch(candidate):
            continue
        spans.append(match.span())
        phone = valid_phone(candidate)
        if phone is None:
            bad = bad or candidate
        else:
            valid = valid or phone
    for span in reversed(spans):
        text = _cut(text, span)
    return valid, None if valid else bad, text


def _cut(text: str, span: tuple[int, int]) -> str:
    """The text with a space for what stood at `span`, so that it is not read again."""
    return text[: span[0]] + " " + text[span[1] :]


# -- vehicles ------------------------------------------------------------------------------

_VIN = re.compile(r"\b[A-HJ-NPR-Z0-9]{17}\b")
_STOCK = re.compile(
    r"(?i:stock|inventario|stk)\s*(?i:number|num(?:ero|ber)?|número|no|n[oº°])?\.?\s*[:#]?\s*"
    r"#?\s*([A-Za-z]{0,3}\d[A-Za-z0-9\-]{1,11})\b"
)
_YEAR = re.compile(r"(?<![\d,.])(?:'|del? )?((?:19[89]|20[0-4])\d)(?!\d|[,.]\d)")
_MILEAGE = re.compile(
    r"(\d{1,3}(?:[,.]\d{3})+|\d+(?:[.,]\d+)?\s?(?:k|mil)|\d{3,6})\s*"
    r"(?:millas|miles|mi|km|kil[oó]metros)\b",
    re.IGNORECASE,
)
# "70k" with no unit: mileage only in a message about a trade-in
_THOUSANDS = re.compile(r"(?<![\w.,])(\d{1,3})\s?k\b", re.IGNORECASE)

_DECLINED_TRADE = re.compile(
    r"\b(?:no|sin|without|don't have|dont have|no tengo|not)\s+"
    r"(?:(?:a|un|una|any|ningun|carro|car|vehiculo)\s+)?(?:para\s+)?trade"
)
_OWNED = re.compile(
    r"(?:\bmi|\bmy|\btengo|\bi have|\bi've got|\bi own)"
    # up to four words between ("mi carro actual es un"), none that starts another clause
    r"(?:\s+(?!(?:por|for|y|and|o|or|pero|but|que|that)\b)\w+){0,4}\s*$"
)
# "trade-in: 2017 Kia Soul": the vehicle right after the marker
_RIGHT_AFTER_TRADE = re.compile(r"trade[ -]?in\s*[:=-]?\s*(?:\d{4}\s+)?$")


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    make: str | None
    model: str | None
    year: int | None = None


def _spans(folded: str, variants: Iterable[str]) -> list[tuple[int, int]]:
    found = []
    for variant in variants:
        for match in re.finditer(rf"(?<![\w-]){re.escape(variant)}(?![\w-])", folded):
            found.append(match.span())
    return found


def _vehicle_mentions(folded: str) -> list[_Mention]:
    years = [(m.start(1), m.end(1), int(m.group(1))) for m in _YEAR.finditer(folded)]
    makes = [
        (start, end, make)
        for make, variants in MAKES.items()
        for start, end in _spans(folded, variants)
    ]
    models: list[tuple[int, int, str, str]] = []
    for model, (make, variants) in MODELS.items():
        for start, end in _spans(folded, variants):
            models.append((start, end, model, make))
    # the longest model wins an overlap ("grand cherokee" over "cherokee")
    models.sort(key=lambda m: (m[0], -(m[1] - m[0])))
    kept: list[tuple[int, int, str, str]] = []
    for candidate in models:
        if kept and candidate[0] < kept[-1][1]:
            continue
        kept.append(candidate)

    def near(start: int, end: int, other: tuple[int, int], reach: int = 6) -> bool:
        gap = folded[end : other[0]] if other[0] >= end else folded[other[1] : start]
        return len(gap) <= reach and not re.search(r"[,.;!?]", gap)

    mentions: list[_Mention] = []
    used_makes: set[tuple[int, int]] = set()
    for start, end, model, make in kept:
        make_spans = [(s, e) for s, e, name in makes if name == make and near(start, end, (s, e))]
        if (
            model in AMBIGUOUS_MODELS
            and not make_spans
            and not any(near(start, end, (s, e)) for s, e, _ in years)
        ):
            continue
        span_start = min([start, *[s for s, _ in make_spans]])
        used_makes.update(make_spans)
        mentions.append(_Mention(span_start, end, make, model))
    for start, end, make in makes:
        if (start, end) in used_makes or any(m.start <= start < m.end for m in mentions):
            continue
        mentions.append(_Mention(start, end, make, None))
    mentions.sort(key=lambda m: m.start)
    with_years = []
    for mention in mentions:
        year = next(
            (y for s, e, y in years if near(mention.start, mention.end, (s, e))),
            None,
        )
        if year is None:  # trim words after the model: "tacoma trd off road 2023"
            year = next(
                (
                    y
                    for s, e, y in years
                    if s >= mention.end and near(mention.start, mention.end, (s, e), reach=20)
                ),
                None,
            )
        with_years.append(replace(mention, year=year))
    return with_years


def _is_trade_in(folded: str, mention: _Mention, trade_marked: bool) -> bool:
    if not trade_marked:
        return False
    before = folded[max(0, mention.start - 40) : mention.start]
    return bool(_OWNED.search(before) or _RIGHT_AFTER_TRADE.search(before))


def _condition(folded: str) -> str | None:
    # "algo mas nuevo", "something newer" say nothing of the condition
    cleaned = re.sub(r"\b(?:mas|more|algo) nuev[oa]s?\b", " ", folded)
    return _first_listed(cleaned, CONDITION_PHRASES)


def _mileage(text: str) -> int | None:
    match = _MILEAGE.search(text)
    if not match:
        return None
    raw = match.group(1).lower().replace(" ", "")
    for suffix in ("k", "mil"):
        if raw.endswith(suffix):
            return int(float(raw[: -len(suffix)].replace(",", ".")) * 1000)
    return int(re.sub(r"[,.]", "", raw))


# -- intent and timeframe ------------------------------------------------------------------

_MONTHS_RANGE = re.compile(
    r"\b(?:\d|dos|tres|two|three)\s*(?:(?:o|or|a|to|-)\s*(?:\d|dos|tres|two|three)\s*)?"
    r"(?:meses|months)\b"
)


def _first_listed(folded: str, phrases: dict[str, tuple[str, ...]]) -> str | None:
    """The name of the first list in `phrases` with a phrase in the text."""
    return next((name for name, listed in phrases.items() if has_phrase(folded, listed)), None)


def find_interest(folded: str) -> Interest | None:
    return _first_listed(folded, INTEREST_PHRASES)


def find_timeframe(folded: str) -> str | None:
    timeframe = _first_listed(folded, TIMEFRAME_PHRASES)
    if timeframe is None and _MONTHS_RANGE.search(folded):
        return "within_3_months"
    return timeframe


# -- names ---------------------------------------------------------------------------------

_WORD = r"[A-ZÁÉÍÓÚÑÜ][a-záéíóúñü']+(?:-[A-ZÁÉÍÓÚÑÜa-záéíóúñü][a-záéíóúñü']+)*"
_NAME_CUE_ANY_CASE = re.compile(
    r"(?i:\bme llamo|\bmi nombre es|\bmy name is|\bmy name's|\bname is|\bnombre:|\bname:)\s+"
    r"([A-Za-zÁÉÍÓÚÑÜáéíóúñü'\-]+)(?:\s+([A-Za-zÁÉÍÓÚÑÜáéíóúñü'\-]+))?"
)
_NAME_CUE_CAPITALISED = re.compile(
    rf"(?i:\bsoy|\bi'm|\bim|\bi am|\bthis is|\bit's|\bit is|\ble habla|\bhabla)\s+({_WORD})"
    rf"(?:\s+({_WORD}))?"
)
# "soy maria," / "hi im kevin,": a lowercase name only when a comma or the end follows
_NAME_CUE_LOWER = re.compile(
    r"(?i:\bsoy|\bi'm|\bim|\bme llamo)\s+([a-záéíóúñü']{2,})(?=\s*(?:[,.!]|$))"
)


def _name_word(word: str | None) -> str | None:
    if not word or fold(word) in NOT_NAMES or len(word) < 2:
        return None
    return word[0].upper() + word[1:].lower() if word.islower() or word.isupper() else word


def find_name(text: str) -> tuple[str | None, str | None]:
    for pattern in (_NAME_CUE_ANY_CASE, _NAME_CUE_CAPITALISED, _NAME_CUE_LOWER):
        match = pattern.search(text)
        if match:
            first = _name_word(match.group(1))
            if first is None:
                continue
            last = _name_word(match.group(2)) if pattern.groups > 1 else None
            return first, last
    return None, None


_BARE_NAME = re.compile(r"^[A-Za-zÁÉÍÓÚÑÜáéíóúñü'\-]+(?:\s+[A-Za-zÁÉÍÓÚÑÜáéíóúñü'\-]+){0,3}$")


def bare_name(text: str) -> tuple[str | None, str | None]:
    """A message that is only a name ("Ana Rivera"), as an answer to "what is your name?"."""
    cleaned = text.strip(" .,!¡¿?")
    if not _BARE_NAME.match(cleaned):
        return None, None
    words = cleaned.split()
    if any(fold(w) in NOT_NAMES for w in words):
        return None, None
    first = _name_word(words[0])
    last = " ".join(w for w in (_name_word(x) for x in words[1:]) if w) or None
    return first, last


# -- the whole message ---------------------------------------------------------------------


def extract(text: str) -> Extracted:
    """Every lead field that one message gives."""
    email, bad_email, rest = find_email(text)
    vin_match = _VIN.search(rest.upper())
    vin = None
    if (
        vin_match
        and re.search(r"\d", vin_match.group(0))
        and re.search(r"[A-Z]", vin_match.group(0))
    ):
        vin = vin_match.group(0)
        rest = _cut(rest, vin_match.span())
    stock_match = _STOCK.search(rest)
    stock = None
    if stock_match:
        stock = stock_match.group(1).upper()
        rest = _cut(rest, stock_match.span())
    phone, bad_phone, rest = find_phone(rest)
    mileage = _mileage(rest)
    if mileage is not None:
        rest = _MILEAGE.sub(" ", rest)
    elif has_phrase(fold(rest), TRADE_MARKERS) and (bare := _THOUSANDS.search(rest)):
        mileage = int(bare.group(1)) * 1000
        rest = _cut(rest, bare.span())
    first_name, last_name = find_name(rest)

    folded = fold(rest)
    trade_marked = has_phrase(folded, TRADE_MARKERS)
    declines = trade_marked and bool(_DECLINED_TRADE.search(folded))
    vehicle = Vehicle(vin=vin, stock=stock, condition=_condition(folded))
    trade_in = TradeIn(mileage=mileage if trade_marked else None)
    for mention in _vehicle_mentions(folded):
        if _is_trade_in(folded, mention, trade_marked):
            if trade_in.model is None and trade_in.make is None:
                trade_in = replace(
                    trade_in, year=mention.year, make=mention.make, model=mention.model
                )
        elif vehicle.model is None and vehicle.make is None:
            vehicle = replace(vehicle, year=mention.year, make=mention.make, model=mention.model)

    return Extracted(
        interest=find_interest(folded),
        vehicle=vehicle,
        trade_in=trade_in,
        mentions_trade_in=trade_marked,
        declines_trade_in=declines,
        timeframe=find_timeframe(folded),
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        bad_phone=bad_phone,
        bad_email=bad_email,
    )


def lone_year(text: str) -> int | None:
    """A message that gives only a model year ("2022", "del 2019")."""
    match = re.fullmatch(r"\s*(?:del?|year|ano|año)?\s*'?((?:19[89]|20[0-4])\d)\s*[.!]?\s*", text)
    return int(match.group(1)) if match else None
