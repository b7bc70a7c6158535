"""The qualifier's side of a requested visit: asked only when the visitor asks for one.

A message that asks for a test drive, a service slot, an order or a visit is taken with
any day and time it names; a time inside the opening hours is booked on the lead at once
("Anotado: una prueba de manejo, el sábado…"), one outside them (or already past) gets the
next time the dealer can see them proposed instead. A visit still without a day and time
is asked about once, with an example, when the script's questions are done, so the
script's own flow is unchanged; a service visit without a time ("necesito cita de
servicio", the most common request) is only noted, for the advisor who books the shop's
slot. Like every question, it is never asked a third time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bots.base import BotContext
from bots.callback import say_opening
from bots.qualifier import appointment as visits
from bots.qualifier.data import load, table
from bots.qualifier.memory import Memory, starts_with
from bots.text import fold

APPOINTMENT = "appointment"  # the frame of the bot's question about the day and time
_YES = table(load("phrases.yaml")["answers"], "answers")["yes"] + visits.AGREE


def _said(context: BotContext, at: datetime, language: str) -> str:
    locale = context.script.settings.locales.get(language, language)
    return say_opening(at, timezone=context.schedule.timezone, language=language, locale=locale)


def hear(text: str, context: BotContext, memory: Memory) -> tuple[str | None, bool, bool]:
    """What a message says of a visit: (the reply, if any; whether it told anything;
    whether the reply is a question that ends the turn)."""
    appointment = memory.appointment
    framed = memory.asked == APPOINTMENT
    folded = fold(text)
    zone = context.schedule.zone
    heard = visits.read(
        folded,
        today=context.now.astimezone(zone).date(),
        interest=memory.fields.get("interest"),
        framed=framed,
    )
    told = visits.merge(appointment, heard, asked=framed)
    proposal = appointment.pop("proposal", None)
    if framed and proposal:
        day, _, clock = proposal.partition("T")
        if not told and starts_with(folded, _YES):  # "sí": the time the bot proposed
            appointment.update(day=day, time=clock)
            told = True
        elif "time" in appointment and "day" not in appointment:
            appointment["day"] = day  # "10am then": on the day proposed
    local = visits.complete(appointment)
    if not told or local is None:
        return None, told, False
    language = memory.language
    bookable, other = visits.check(context.schedule, local, context.now)
    if bookable:
        at = local.replace(tzinfo=zone).astimezone(UTC)
        appointment["at"] = local.strftime("%Y-%m-%dT%H:%M")
        appointment["staff_when"] = _said(context, at, context.languages[0])
        if framed:
            memory.asked = None
        kind = visits.kind_words(appointment["kind"], language)
        noted = context.script.text(
            "appointment_noted", language, kind=kind, when=_said(context, at, language)
        )
        return noted, True, False
    asked_for = local.replace(tzinfo=zone).astimezone(UTC)
    for key in ("day", "time"):
        appointment.pop(key, None)
    if memory.asks.get(APPOINTMENT, 0) >= 2 or other is None:
        appointment["given_up"] = True
        return None, True, False
    appointment["proposal"] = other.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
    memory.asked = APPOINTMENT
    memory.asks[APPOINTMENT] = memory.asks.get(APPOINTMENT, 0) + 1
    reply = context.script.text(
        "appointment_closed",
        language,
        when=_said(context, asked_for, language),
        opening=_said(context, other, language),
    )
    return reply, True, True


def ask(context: BotContext, memory: Memory) -> str | None:
    """The question about the day and time of a visit asked for without them, once the
    script's questions are done; None when there is nothing (more) to ask."""
    appointment = memory.appointment
    if not visits.pending(appointment) or appointment.get("given_up"):
        return None
    if appointment.get("kind") == "service":
        return None  # "necesito cita de servicio": the advisor books the slot (noted)
    if memory.asks.get(APPOINTMENT, 0) >= 2:
        appointment["given_up"] = True
        return None
    memory.asked = APPOINTMENT
    memory.asks[APPOINTMENT] = memory.asks.get(APPOINTMENT, 0) + 1
    return context.script.text("ask_appointment", memory.language)
