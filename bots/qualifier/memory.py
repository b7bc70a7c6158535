"""The qualifier's memory of one chat: the fields learned, the questions asked and how
often, as JSON-ready data that the bot returns as its state and is given back next turn.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from dataclasses import fields as fields_of
from typing import Any

from bots.base import BotContext
from bots.qualifier import appointment as visits
from bots.qualifier import wording
from bots.qualifier.data import load, table
from bots.qualifier.extract import (
    TRADE_INTERESTS,
    Extracted,
    TradeIn,
    Vehicle,
    lone_year,
    valid_phone,
)
from bots.qualifier.names import bare_name, split_name
from bots.script import Script
from bots.text import has_phrase

# short answers, read at the start of a message (phrases.yaml)
_ANSWERS = table(load("phrases.yaml")["answers"], "answers")
_YES, _NO, _DONT_KNOW = _ANSWERS["yes"], _ANSWERS["no"], _ANSWERS["dont_know"]
_SOON = _ANSWERS["soon"]
# "una guagua", "a car": an answer to "which vehicle?", if not a precise one
_ANY_VEHICLE = (
    "carro", "guagua", "jeepeta", "pickup", "truck", "suv", "sedan", "van", "auto",
    "car", "vehiculo", "vehicle", "minivan", "coupe", "convertible", "hatchback",
)  # fmt: skip


def _names_a_vehicle(vehicle: dict[str, Any] | None) -> bool:
    """Whether the wanted vehicle is known well enough not to ask ("usada" alone is not)."""
    return any((vehicle or {}).get(key) for key in ("make", "model", "year", "vin", "stock"))


# "no tengo modelo en mente", "not sure which model": an answer to "which vehicle?"
_NO_MODEL = (
    "no tengo modelo", "ningun modelo", "not sure which", "no se cual", "any model",
    "open to", "lo que sea", "cualquier", "no model", "don't know which", "dont know which",
    "no estoy seguro de", "todavia no se cual", "algo economico", "something cheap",
)  # fmt: skip
# words around a correction ("digo, 2021, perdón")
_CORRECTING = re.compile(
    r"\b(?:digo|perdon|sorry|i mean|quise decir|no|es|el|la|del|year|ano|it's|its|is|"
    r"actually|mejor|oops|ay)\b|[,.!¡]"
)


def starts_with(folded: str, words: tuple[str, ...]) -> bool:
    cleaned = re.sub(r"^[\W_]+", "", folded)
    return any(re.match(rf"{re.escape(w)}(?!\w)", cleaned) for w in words)


@dataclass
class Memory:
    language: str = ""
    mode: str = "open"  # "open", "after_hours" (premium, closed), "no_agents"
    closed_reason: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)  # skipped because not understood
    asked: str | None = None
    asks: dict[str, int] = field(default_factory=dict)
    misses: int = 0
    turns: int = 0
    wants_human: bool = False
    done: bool = False
    # a visit the visitor asked for (bots/qualifier/appointment.py), never asked otherwise
    appointment: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # copies: the state that a turn was given stays as it was
        self.fields = dict(self.fields)
        self.appointment = dict(self.appointment)
        self.skipped = list(self.skipped)
        self.noted = list(self.noted)
        self.asks = dict(self.asks)

    @classmethod
    def load(cls, data: Any) -> Memory:
        known = {f.name for f in fields_of(cls)}
        return cls(**{k: v for k, v in dict(data or {}).items() if k in known})

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def name(self) -> str:
        """What to call the visitor ("" before they said)."""
        return str(self.fields.get("first_name") or self.fields.get("last_name") or "")

    def prefill(self, context: BotContext) -> None:
        visitor = context.visitor
        if visitor.name and not self.fields.get("first_name"):
            first, last = split_name(visitor.name.split())
            if first:
                self.fields["first_name"] = first
            if last:
                self.fields["last_name"] = last
        if visitor.phone:
            self.fields.setdefault("phone", visitor.phone)
        if visitor.email:
            self.fields.setdefault("email", visitor.email)

    # -- what a message said ---------------------------------------------------------------

    def absorb(self, found: Extracted) -> bool:
        """Merge a message's fields; True when it told anything. The interest, once known,
        changes only in answer to its question; the wanted vehicle and the trade-in never
        take each other's place."""
        told = False
        interest = found.interest
        if interest and (not self.fields.get("interest") or self.asked == "interest"):
            told = told or interest != self.fields.get("interest")
            self.fields["interest"] = interest
        if not found.vehicle.is_empty():
            vehicle = Vehicle(**self.fields.get("vehicle", {})).merged(found.vehicle)
            self.fields["vehicle"] = vehicle.to_data()
            told = True
            if (
                not self.fields.get("interest")
                and (found.vehicle.make or found.vehicle.model)
                and (not found.own_car or not found.trade_in.is_empty())
            ):
                # "¿tienen la Tacoma 2025?", "I'm after a Crosstrek": a car named on a
                # dealer's site, with no word of service or parts, is a car to buy
                self.fields["interest"] = "buy"
        if not found.trade_in.is_empty():
            trade_in = TradeIn(**self.fields.get("trade_in", {})).merged(found.trade_in)
            self.fields["trade_in"] = trade_in.to_data()
            self.fields["has_trade_in"] = True
            told = True
        elif found.declines_trade_in:
            self.fields["has_trade_in"] = False
            self.fields.pop("trade_in", None)
            told = True
        elif found.mentions_trade_in and not found.question and "has_trade_in" not in self.fields:
            self.fields["has_trade_in"] = True  # "quiero hacer trade in"
            told = True
        for key in ("timeframe", "phone", "email"):
            value = getattr(found, key)
            if value is not None:
                self.fields[key] = value
                told = True
        if found.first_name:
            self._set_name(found.first_name, found.last_name)
            told = True
        return told

    def _set_name(self, first: str, last: str | None) -> None:
        previous = self.fields.get("first_name")
        self.fields["first_name"] = first
        if last:
            self.fields["last_name"] = last
        elif previous and previous.casefold() != first.casefold():
            self.fields.pop("last_name", None)  # a different name: the old surname goes

    def answer_asked(self, text: str, folded: str, found: Extracted) -> bool:
        """Short answers that only make sense as the answer to the question just asked."""
        asked = self.asked
        if asked == "name" and not found.first_name:
            first, last = bare_name(found.rest)
            if not first:  # "Melissa Acevedo, y lo quiero esta semana"
                first, last = bare_name(re.split(r"[,;]", found.rest.strip(" ,;"))[0])
            if first:
                self._set_name(first, last)
                return True
        if (
            asked == "interest"
            and not found.interest
            and not (found.vehicle.is_empty() and found.trade_in.is_empty())
        ):
            self.fields["interest"] = "buy"  # "una Tacoma": a car is what they want
            return True
        if asked == "vehicle" and not _names_a_vehicle(found.vehicle.to_data()):
            year = lone_year(text)
            if year is not None:
                self.fields["vehicle"] = {**self.fields.get("vehicle", {}), "year": year}
                return True
            if (
                starts_with(folded, _DONT_KNOW)
                or has_phrase(folded, _NO_MODEL)
                or folded.strip(" .!") in _NO
                or has_phrase(folded, _ANY_VEHICLE)
                or found.vehicle.condition
            ):
                # "algo usado, no tengo modelo en mente": an answer, if not a car
                self.skipped.append("vehicle")
                return True
        if asked != "vehicle" and self.fields.get("vehicle") and found.vehicle.is_empty():
            year = lone_year(_CORRECTING.sub(" ", folded))
            if year is not None:  # "digo, 2021, perdón": the year said before was wrong
                self.fields["vehicle"] = {**self.fields["vehicle"], "year": year}
                return True
        if found.last_digits and self.fields.get("phone"):
            corrected = valid_phone(str(self.fields["phone"])[:-4] + found.last_digits)
            if corrected:  # "sorry, the last 4 are 0132"
                self.fields["phone"] = corrected
                return True
        if asked == "trade_in" and found.trade_in.is_empty() and not found.declines_trade_in:
            if starts_with(folded, _NO):
                self.fields["has_trade_in"] = False
                return True
            if starts_with(folded, _YES):
                self.fields["has_trade_in"] = True
                return True
        if asked == "timeframe" and found.timeframe is None:
            if starts_with(folded, _DONT_KNOW) or starts_with(folded, _NO):
                self.fields["timeframe"] = "undecided"
                return True
            if starts_with(folded, _SOON):  # "pronto": soon, when it answers "when?"
                self.fields["timeframe"] = "now"
                return True
        return False

    # -- questions -------------------------------------------------------------------------

    def has_contact(self) -> bool:
        return bool(self.fields.get("phone") or self.fields.get("email"))

    def has_lead(self) -> bool:
        """Enough for a lead record: a name and a way to reach them."""
        return bool(self.name and self.has_contact())

    def is_qualified(self) -> bool:
        return self.has_lead() and bool(self.fields.get("interest"))

    def next_slot(self, script: Script) -> str | None:
        """The first question of the flow that is still open."""
        interest = self.fields.get("interest")
        for slot in script.flow:
            if slot in self.skipped:
                continue
            if slot == "interest" and not interest:
                return slot
            if slot == "vehicle" and not _names_a_vehicle(self.fields.get("vehicle")):
                return slot
            if (
                slot == "trade_in"
                and (interest in TRADE_INTERESTS or interest is None)
                and "has_trade_in" not in self.fields
            ):
                return slot
            if slot == "timeframe" and not self.fields.get("timeframe"):
                return slot
            if slot == "name" and not self.name:
                return slot
            if slot == "contact" and not self.has_contact():
                return slot
        return None

    def late_name(self, found: Extracted) -> bool:
        """A message that said nothing else and reads as a full name ("Wilfredo Ayala"),
        though the name was not what was asked: the visitor is a question behind."""
        if self.name or found.first_name:
            return False
        words = found.rest.split()
        first, last = bare_name(found.rest)
        if not (first and last) or not all(w[:1].isupper() for w in words if len(w) > 3):
            return False
        self._set_name(first, last)
        return True

    def give_up(self, slot: str) -> None:
        """A question asked twice without an answer: never a third time."""
        self.skipped.append(slot)
        self.noted.append(slot)

    # -- results ---------------------------------------------------------------------------

    def lead(self, *, qualified: bool, staff_language: str, left: bool = False) -> dict[str, Any]:
        """The lead as PROTOCOL.md's Lead (what LeadIn validates); its notes in the
        staff's language."""
        lead: dict[str, Any] = {
            "language": self.language,
            "interest": self.fields.get("interest") or "other",
            "qualified": qualified,
        }
        for key in ("first_name", "last_name", "email", "phone", "timeframe"):
            if self.fields.get(key):
                lead[key] = self.fields[key]
        if self.fields.get("vehicle"):
            lead["vehicle"] = dict(self.fields["vehicle"])
        if self.fields.get("trade_in"):
            lead["trade_in"] = dict(self.fields["trade_in"])
        notes = wording.notes(
            language=staff_language,
            has_trade_in=bool(self.fields.get("has_trade_in")),
            trade_in_known=bool(self.fields.get("trade_in")),
            mode=self.mode,
            skipped=self.noted,
            left=left,
        )
        if self.appointment.get("at"):
            lead["appointment"] = {k: self.appointment[k] for k in ("kind", "at")}
        visit = visits.staff_note(self.appointment, staff_language)
        notes = " ".join(part for part in (notes, visit) if part)
        if notes:
            lead["notes"] = notes
        return lead

    def summary(self, staff_language: str) -> str:
        """A ticket's text: what the bot learned, for whoever calls back."""
        lead = self.lead(qualified=self.is_qualified(), staff_language=staff_language)
        return wording.summary(
            lead,
            language=staff_language,
            declined_trade_in=self.fields.get("has_trade_in") is False,
        )
