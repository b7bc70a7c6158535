"""Lead fields found in one visitor message, in Spanish, English or a mix of both.

Visitors answer out of order and all at once ("Soy Ana, 787-555-0123, me interesa la
Tacoma 2022"), so every message is searched for every field. The question just asked
frames the answer, the way a person hears it: a car named in answer to the trade-in
question is the trade-in, a bare "80k" there is its mileage. The rules are keyword and
pattern based: cheap, explainable to a dealer, and measured on whole dialogues
(bench/dialogues.py, docs/bots.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from bots.qualifier import cars
from bots.qualifier.contact import cut, find_email, find_phone, valid_phone
from bots.qualifier.data import load, table, words
from bots.qualifier.names import find_name, find_surname
from bots.text import fold, has_phrase

__all__ = ["Extracted", "TradeIn", "Vehicle", "extract", "lone_year", "valid_phone"]

Interest = str  # "buy" | "lease" | "service" | "parts" | "finance" | "other"
TRADE_INTERESTS = frozenset({"buy", "lease", "finance"})

# The word lists are data (phrases.yaml beside this module), folded. In each table the
# first list with a phrase in the message wins: the interests and timeframes are in
# priority order, "used" comes before "new".
_PHRASES = load("phrases.yaml")
CONDITION_PHRASES = table(_PHRASES["condition"], "condition")
TRADE_MARKERS = words(_PHRASES["trade_in"], "trade_in")
INTEREST_PHRASES = table(_PHRASES["interest"], "interest")
TIMEFRAME_PHRASES = table(_PHRASES["timeframe"], "timeframe")


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
        """This vehicle updated by what a later message said; a new model or make drops
        the stale make and year that belonged to the previous one."""
        base = self
        if (newer.model and newer.model != self.model) or (
            newer.make and self.make and newer.make != self.make
        ):
            base = Vehicle(vin=self.vin, stock=self.stock, condition=self.condition)
        return replace(base, **newer.to_data())


@dataclass(frozen=True)
class TradeIn(Car):
    """The visitor's own vehicle, offered as part of the payment."""

    mileage: int | None = None

    def merged(self, newer: TradeIn) -> TradeIn:
        base = self
        if newer.model and newer.model != self.model:
            base = TradeIn(mileage=self.mileage)
        return replace(base, **newer.to_data())


@dataclass(frozen=True)
class Extracted:
    """What one message said. `bad_phone`/`bad_email` hold what looked like one but is not
    valid, so the bot can ask for a correction instead of ignoring it."""

    interest: Interest | None = None
    vehicle: Vehicle = field(default_factory=Vehicle)
    vehicle_corrected: bool = False  # "mejor una Tucson": the new one replaces the old
    trade_in: TradeIn = field(default_factory=TradeIn)
    mentions_trade_in: bool = False
    declines_trade_in: bool = False
    timeframe: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    bad_phone: str | None = None
    foreign_phone: bool = False
    bad_email: str | None = None
    email_suggestion: str | None = None
    link: bool = False
    own_car: bool = False  # "mi carro", "pa mi Sentra": the visitor's car, not one to buy
    question: bool = False  # "¿aceptan trade-in?" asks; it tells nothing of their car
    last_digits: str | None = None  # "the last 4 are 0132": a phone's end, corrected
    # the message without its e-mail, phone, VIN and stock number ("Luis Perez, 787-...")
    rest: str = ""

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


# -- vehicles ------------------------------------------------------------------------------

_VIN = re.compile(r"\b[A-HJ-NPR-Z0-9]{17}\b")
_STOCK = re.compile(
    r"(?i:stock|inventario|stk)\s*(?i:number|num(?:ero|ber)?|número|no|n[oº°])?\.?\s*[:#]?\s*"
    r"#?\s*([A-Za-z]{0,3}\d[A-Za-z0-9\-]{1,11})\b"
)
_DECLINED_TRADE = re.compile(
    r"\b(?:no|sin|without|don't have|dont have|do not have|no tengo|not|ni|nothing)\s+"
    r"(?:(?!but\b|pero\b)[\w']+\s+){0,3}?(?:trade|entregar|pronto)"
)
_OWN_CAR = re.compile(
    r"\b(?:mi|my|our|nuestro|nuestra)\s+(?:[\w']+\s+)?(?:carro|car|auto|vehiculo|vehicle|"
    r"guagua|truck|troka|troca|pickup|jeepeta|suv|van|camioneta)\b"
)
_LINK = re.compile(r"https?://|\bwww\.", re.IGNORECASE)
_FEW = (
    r"(?:\d{1,2}|dos|tres|cuatro|cinco|seis|ocho|nueve|diez|doce|two|three|four|five|six|"
    r"eight|nine|ten|twelve)"
)
_MONTHS_RANGE = re.compile(rf"\b{_FEW}\s*(?:(?:o|or|a|to|-)\s*{_FEW}\s*)?(?:meses|months)\b")


# how visitors shorten words on a phone: "pa' la semana q viene", "xq", "tmb"
_SHORT = {"q": "que", "k": "que", "xq": "porque", "pq": "porque", "tmb": "tambien",
          "pa": "para", "pa'": "para", "d": "de", "x": "por", "u": "you", "ur": "your",
          "r": "are", "pls": "please", "plz": "please", "thx": "thanks", "wk": "week"}  # fmt: skip
_SHORT_RE = re.compile(r"(?<![\w'])(" + "|".join(map(re.escape, _SHORT)) + r")(?![\w'])")


def unabbreviate(folded: str) -> str:
    """The folded text with the usual phone shorthand written out."""
    return _SHORT_RE.sub(lambda m: _SHORT[m.group(1)], folded)


# "no es urgente", "not in a rush": said to deny the urgency, not to claim it
_NOT_URGENT = re.compile(
    r"\b(?:no es urgente|no hay prisa|no tengo prisa|no corre prisa|no urge|not urgent|"
    r"no rush|not in a (?:rush|hurry)|no hurry)\b"
)


def _first_listed(folded: str, phrases: dict[str, tuple[str, ...]]) -> str | None:
    """The name of the first list in `phrases` with a phrase in the text."""
    return next((name for name, listed in phrases.items() if has_phrase(folded, listed)), None)


# the word lists that name an interest of another list
_INTEREST_OF = {"repair": "service", "purchase": "buy", "approval": "finance"}


def find_interest(folded: str) -> Interest | None:
    found = _first_listed(folded, INTEREST_PHRASES)
    return _INTEREST_OF.get(found, found) if found else None


def find_timeframe(folded: str) -> str | None:
    calm = _NOT_URGENT.search(folded)
    if calm:  # "no es urgente, en un par de semanas": the weeks, not the urgency
        folded = folded[: calm.start()] + " " + folded[calm.end() :]
    timeframe = _first_listed(folded, TIMEFRAME_PHRASES)
    if timeframe is None and _MONTHS_RANGE.search(folded):
        return "later"
    if timeframe is None and calm:
        return "undecided"
    return timeframe


_EITHER = re.compile(
    r"\b(?:nuev[oa]s? o usad[oa]s?|usad[oa]s? o nuev[oa]s?|new or used|used or new|"
    r"(?:does ?n'?o?t|don'?t) (?:have|need) to be new|no tiene que ser nuev[oa]|"
    r"no (?:tiene|necesita) que ser nuev[oa])\b"
)


def _condition(folded: str) -> str | None:
    # "algo mas nuevo", "something newer" say nothing of the condition, nor "nuevo o
    # usado me da igual", "doesn't have to be new"
    if _EITHER.search(folded):
        return None
    cleaned = re.sub(r"\b(?:mas|more|algo) nuev[oa]s?\b", " ", folded)
    return _first_listed(cleaned, CONDITION_PHRASES)


def _named(vehicle: Vehicle, mention: cars.Mention) -> Vehicle:
    return replace(vehicle, year=mention.year, make=mention.make, model=mention.model)


@dataclass(frozen=True)
class _Cars:
    vehicle: Vehicle
    corrected: bool
    trade_in: TradeIn
    trade_mentioned: bool
    owned: bool = False  # a car named as the visitor's own ("pa mi Sentra 2020")


def _cars(
    folded: str,
    *,
    asked: str | None,
    trade_interest: bool,
    trade_marked: bool,
    wanted_known: bool,
    car_talk: bool,
) -> _Cars:
    """The wanted vehicle and the trade-in among the vehicles the text names."""
    found = cars.mentions(
        folded,
        car_expected=asked in ("vehicle", "trade_in"),
        car_talk=car_talk,
    )
    vehicle = Vehicle()
    trade_in = TradeIn()
    corrected = False
    trade_mentioned = False
    owned_any = False
    for index, mention in enumerate(found):
        owned = cars.is_owned(folded, mention)
        owned_any = owned_any or owned
        wanted = cars.is_wanted(folded, mention) and not owned
        context = trade_marked or asked == "trade_in" or wanted_known or len(found) > 1
        is_trade = trade_interest and ((owned and context) or (asked == "trade_in" and not wanted))
        if is_trade:
            trade_mentioned = True
            if trade_in.is_empty():
                trade_in = TradeIn(year=mention.year, make=mention.make, model=mention.model)
            continue
        if vehicle.make is None and vehicle.model is None:
            vehicle = _named(vehicle, mention)
            corrected = corrected or (
                (asked == "trade_in" or cars.is_correction(folded, mention) or index > 0)
                and (wanted or cars.is_correction(folded, mention))
            )
        elif cars.is_correction(folded, mention):  # "una Tucson, no, mejor la Santa Fe"
            vehicle = _named(vehicle, mention)
            corrected = True
    return _Cars(vehicle, corrected, trade_in, trade_mentioned, owned_any)


# -- the whole message ---------------------------------------------------------------------


def extract(
    text: str,
    *,
    asked: str | None = None,
    interest: str | None = None,
    wanted_known: bool = False,
) -> Extracted:
    """Every lead field that one message gives; `asked` is the question it answers,
    `interest` what the visitor came for, if known, and `wanted_known` whether the
    wanted vehicle is known already."""
    email, rest = find_email(text)
    vin = None
    vin_match = _VIN.search(rest.upper())
    if vin_match and re.search(r"\d", vin_match[0]) and re.search(r"[A-Z]", vin_match[0]):
        vin = vin_match[0]
        rest = cut(rest, vin_match.span())
    stock = None
    if stock_match := _STOCK.search(rest):
        stock = stock_match.group(1).upper()
        rest = cut(rest, stock_match.span())
    phone, rest = find_phone(rest)
    link = bool(_LINK.search(rest))
    first_name, last_name = find_name(rest)
    surname = find_surname(rest)
    if surname and first_name:  # "Nombre: José Luis. Apellidos: Ocasio Meléndez."
        last_name = surname

    folded = cars.numbers_in_words(cars.correct_typos(unabbreviate(fold(rest))))
    said_interest = find_interest(folded)
    interest_now = interest or said_interest
    trade_interest = interest_now in TRADE_INTERESTS or interest_now is None
    trade_marked = has_phrase(folded, TRADE_MARKERS)
    trade_talk = trade_interest and (trade_marked or asked == "trade_in")
    mileage, folded = cars.mileage(folded, bare=trade_talk)
    found = _cars(
        folded,
        asked=asked,
        trade_interest=trade_interest,
        trade_marked=trade_marked,
        wanted_known=wanted_known,
        car_talk=said_interest is not None or trade_marked,
    )
    trade_in = found.trade_in
    if mileage is not None and (trade_talk or found.trade_mentioned):
        trade_in = replace(trade_in, mileage=mileage)
    declines = bool(_DECLINED_TRADE.search(folded)) and trade_in.is_empty()
    vehicle = found.vehicle
    # the condition of the car wanted; for service or parts the car is the visitor's own
    # ("my Pilot needs new brakes")
    if trade_interest and not (asked == "trade_in" and vehicle.is_empty()):
        vehicle = replace(vehicle, condition=_condition(folded))
    if vin or stock:
        vehicle = replace(vehicle, vin=vin, stock=stock)

    return Extracted(
        interest=said_interest,
        vehicle=vehicle,
        vehicle_corrected=found.corrected,
        trade_in=trade_in,
        mentions_trade_in=trade_marked or found.trade_mentioned,
        declines_trade_in=declines,
        timeframe=find_timeframe(folded),
        first_name=first_name,
        last_name=last_name,
        phone=phone.value,
        email=email.value,
        bad_phone=phone.bad,
        foreign_phone=phone.foreign,
        bad_email=email.bad,
        email_suggestion=email.suggestion,
        link=link,
        question="?" in text or "¿" in text,
        own_car=found.owned or bool(_OWN_CAR.search(folded)),
        last_digits=_last_digits(rest) if phone.value is None else None,
        rest=rest,
    )


_LAST_DIGITS = re.compile(
    r"(?i:last (?:4|four)(?: digits| numbers)?|[uú]ltimos (?:4|cuatro)(?: d[ií]gitos| n[uú]meros)?|"
    r"termina en|ends (?:in|with))\D{0,12}?(\d{4})\b"
)


def _last_digits(text: str) -> str | None:
    match = _LAST_DIGITS.search(text)
    return match.group(1) if match else None


def lone_year(text: str) -> int | None:
    """A message that gives only a model year ("2022", "del 2019")."""
    match = re.fullmatch(r"\s*(?:del?|year|ano|año)?\s*'?((?:19[89]|20[0-4])\d)\s*[.!]?\s*", text)
    return int(match.group(1)) if match else None
