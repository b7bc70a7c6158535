"""Conversations in which the visitor asks to come in: a test drive, an order, a visit.

The bot asks about a visit only when the visitor asks for one; a day and time inside the
dealer's hours go on the lead as `appointment`, one outside them (a Sunday, a holiday, an
hour already past) gets the next time the dealer can see them proposed; a visit without a
day and time is asked about once the script's questions are done, at most twice.
TestBot's clock: Tuesday 24 November 2026, 10:00 in San Juan (DEALER_HOURS, PR holidays:
Thursday 26 is Thanksgiving).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bots.qualifier.appointment import read
from bots.script import default_script
from bots.testing import TestBot
from bots.text import fold

Make = Callable[..., TestBot]
S = default_script()
DEALER = "Autos Borinquen"


def es(key: str, **values: str) -> str:
    return S.text(key, "es", **{"dealer": DEALER, **values})


def en(key: str, **values: str) -> str:
    return S.text(key, "en", **{"dealer": DEALER, **values})


def test_a_spanish_test_drive_with_its_day_and_time_goes_on_the_lead(testbot: Make) -> None:
    bot = testbot()
    # asking for a test drive adds no question to the flow
    assert [es("greeting"), es("ask_trade_in")] == bot.say(
        "Hola, quiero una prueba de manejo de la Tacoma 2025"
    )
    assert [
        es(
            "appointment_noted",
            kind="una prueba de manejo",
            when="el sábado 28 de noviembre a las 10:00 a. m.",
        ),
        es("ask_trade_in"),
    ] == bot.say("el sábado a las 10 de la mañana")
    bot.say("no tengo trade in")
    bot.say("Ana Rivera")
    assert [es("handoff", name="Ana")] == bot.say("787-555-0123")

    lead = bot.lead
    assert lead is not None
    assert {"kind": "test_drive", "at": "2026-11-28T10:00"} == lead["appointment"]
    assert (
        "Pidió una prueba de manejo el sábado 28 de noviembre a las 10:00 a. m." == (lead["notes"])
    )


def test_an_english_request_said_all_at_once_is_noted_in_the_first_answer(testbot: Make) -> None:
    bot = testbot()
    assert [
        en("greeting"),
        en("appointment_noted", kind="a test drive", when="on Tuesday, December 1 at 3:00 PM"),
        en("ask_trade_in"),
    ] == bot.say("Hi, can I test drive the 2024 RAV4 next tuesday at 3pm?")
    assert bot.lead is None  # no name and contact yet: no lead


def test_a_sunday_gets_the_next_opening_proposed_and_yes_takes_it(testbot: Make) -> None:
    bot = testbot()
    assert [
        es("greeting"),
        es(
            "appointment_closed",
            when="el domingo 29 de noviembre a las 10:00 a. m.",
            opening="el lunes 30 de noviembre a las 9:00 a. m.",
        ),
    ] == bot.say("quiero pasar por el dealer el domingo a las 10 a ver la Tucson 2024")
    assert "appointment" == bot.asked
    assert [
        es(
            "appointment_noted",
            kind="una visita al concesionario",
            when="el lunes 30 de noviembre a las 9:00 a. m.",
        ),
        es("ask_trade_in"),
    ] == bot.say("sí")
    for text in ("no", "Luis Pérez", "7875550199"):
        bot.say(text)
    assert bot.lead is not None
    assert {"kind": "visit", "at": "2026-11-30T09:00"} == bot.lead["appointment"]


def test_a_holiday_is_refused_and_another_day_is_taken(testbot: Make) -> None:
    bot = testbot()
    assert en(
        "appointment_closed",
        when="on Thursday, November 26 at 11:00 AM",
        opening="on Friday, November 27 at 9:00 AM",
    ) in bot.say("can I test drive the 2024 RAV4 on Thursday at 11am?")
    assert en(
        "appointment_noted", kind="a test drive", when="on Friday, November 27 at 2:00 PM"
    ) in bot.say("Friday at 2pm works")
    for text in ("no", "this week", "John Smith", "john@example.com"):
        bot.say(text)
    assert bot.lead is not None
    assert {"kind": "test_drive", "at": "2026-11-27T14:00"} == bot.lead["appointment"]


def test_an_hour_already_past_proposes_the_next_half_hour_today(testbot: Make) -> None:
    bot = testbot()
    assert en(
        "appointment_closed",
        when="on Tuesday, November 24 at 9:00 AM",
        opening="on Tuesday, November 24 at 10:30 AM",
    ) in bot.say("test drive the 2024 RAV4 today at 9am?")
    assert en(
        "appointment_noted", kind="a test drive", when="on Tuesday, November 24 at 10:30 AM"
    ) in bot.say("ok")


def test_a_request_without_a_time_is_asked_once_the_flow_is_done(testbot: Make) -> None:
    bot = testbot()
    assert [es("greeting"), es("ask_trade_in")] == bot.say("quiero separarla, la Civic 2023")
    for text in ("no", "ya", "Ana Rivera"):
        bot.say(text)
    assert [es("ask_appointment")] == bot.say("787-555-0123")
    assert bot.lead is not None  # saved already: a visitor who leaves now is still a lead

    said = bot.say("el viernes a las 4 de la tarde")
    assert [
        es(
            "appointment_noted",
            kind="separar o pedir el vehículo",
            when="el viernes 27 de noviembre a las 4:00 p. m.",
        ),
        es("handoff", name="Ana"),
    ] == said
    assert {"kind": "order", "at": "2026-11-27T16:00"} == bot.lead["appointment"]


def test_the_day_and_time_are_never_asked_a_third_time(testbot: Make) -> None:
    bot = testbot()
    for text in ("quiero separarla, la Civic 2023", "no", "ya", "Ana Rivera"):
        bot.say(text)
    assert [es("ask_appointment")] == bot.say("787-555-0123")
    assert [es("ask_appointment")] == bot.say("no sé")
    assert [es("handoff", name="Ana")] == bot.say("ni idea")

    lead = bot.lead
    assert lead is not None
    assert "appointment" not in lead
    assert "Pidió separar o pedir el vehículo; no quedó día ni hora." == lead["notes"]


def test_a_day_and_time_without_a_request_are_no_appointment(testbot: Make) -> None:
    """The flow as it was: "el sábado a las 10" answers "when?", it books nothing."""
    bot = testbot()
    bot.say("Soy Ana, 787-555-0123, me interesa la Tacoma 2022")
    assert [es("ask_timeframe")] == bot.say("No")
    assert [es("handoff", name="Ana")] == bot.say("el sábado a las 10")
    assert bot.lead is not None
    assert "appointment" not in bot.lead
    assert "notes" not in bot.lead


def test_after_hours_the_ticket_tells_the_appointment(testbot: Make) -> None:
    night = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Tuesday 23:00 in San Juan
    bot = testbot(now=night)
    said = bot.say("Quiero una prueba de manejo de la Tacoma 2025 mañana a las 10 de la mañana")
    assert (
        es(
            "appointment_noted",
            kind="una prueba de manejo",
            when="el miércoles 25 de noviembre a las 10:00 a. m.",
        )
        == said[1]
    )
    for text in ("no", "Luis Pérez", "7875550199"):
        bot.say(text)
    assert bot.ticket is not None
    assert bot.ticket.text.endswith(
        "Pidió una prueba de manejo el miércoles 25 de noviembre a las 10:00 a. m."
    )
    assert bot.lead is not None
    assert {"kind": "test_drive", "at": "2026-11-25T10:00"} == bot.lead["appointment"]


@pytest.mark.parametrize(
    ("text", "kind", "day", "at"),
    [
        ("quiero una prueba de manejo", "test_drive", None, None),
        ("can I test drive it saturday", "test_drive", "2026-11-28", None),
        ("cita para el martes a las 10", "visit", "2026-12-01", "10:00"),
        ("quiero separarla", "order", None, None),
        ("next tuesday at 3pm", None, "2026-12-01", "15:00"),
        ("mañana a las 10 de la mañana", None, "2026-11-25", "10:00"),
        ("el sábado a las 3 y media", None, "2026-11-28", "15:30"),
        ("el 20 de diciembre al mediodía", None, "2026-12-20", "12:00"),
        ("I can come in on January 5th at 11:30", "visit", "2027-01-05", "11:30"),
        ("Soy Luis Pérez, mi celular es 787-555-0199", None, None, None),
        ("tengo una Corolla 2015 con 90 mil millas", None, None, None),
        ("I need to order brake pads", None, None, None),
        ("that trim is hard to come by", None, None, None),
        ("I want to drive it home today", None, "2026-11-24", None),
    ],
)
def test_kinds_days_and_times_are_read_in_both_languages(
    text: str, kind: str | None, day: str | None, at: str | None
) -> None:
    heard = read(fold(text), today=datetime(2026, 11, 24).date(), interest=None)
    assert (kind, day, at) == (
        heard.kind,
        heard.day.isoformat() if heard.day else None,
        heard.at.strftime("%H:%M") if heard.at else None,
    )


def test_a_service_visit_without_a_time_is_noted_for_the_advisor(testbot: Make) -> None:
    """The common "necesito cita de servicio": the flow as it was, the request noted; the
    advisor who takes the chat books the shop's slot."""
    bot = testbot()
    bot.say("Necesito cita de servicio, oil change para mi Corolla 2017")
    bot.say("next week si es posible")
    bot.say("Gabriela Torres")
    assert [es("handoff", name="Gabriela")] == bot.say("gaby.torres@gmail.com")
    assert bot.lead is not None
    assert "appointment" not in bot.lead
    assert "Pidió una cita de servicio; no quedó día ni hora." == bot.lead["notes"]
