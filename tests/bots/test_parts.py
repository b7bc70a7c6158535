"""The bot's parts on their own: extraction, the script format, FAQ, language, callbacks,
and the precision/recall arithmetic of bench/bot_extraction.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bench.bot_extraction import score
from bots.callback import say_opening
from bots.faq import match_faq
from bots.language import choose_language
from bots.qualifier.extract import extract, valid_phone
from bots.script import DEFAULT_SCRIPT, default_script, load_script, load_yaml

S = default_script()


# -- extraction ------------------------------------------------------------------------------


def test_all_at_once_message_gives_every_field() -> None:
    assert {
        "first_name": "Ana",
        "phone": "+17875550123",
        "interest": "buy",
        "vehicle.make": "Toyota",
        "vehicle.model": "Tacoma",
        "vehicle.year": 2022,
    } == extract("Soy Ana, 787-555-0123, me interesa la Tacoma 2022").flat()


def test_trade_in_vehicle_is_told_apart_from_the_wanted_one() -> None:
    found = extract("Quiero una RAV4 2024 y entregar mi Corolla 2015 con 120k millas de trade in")
    assert {"year": 2024, "make": "Toyota", "model": "RAV4"} == found.vehicle.to_data()
    assert {"year": 2015, "make": "Toyota", "model": "Corolla", "mileage": 120000} == (
        found.trade_in.to_data()
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("787-555-0123", "+17875550123"),
        ("(939) 555-0188", "+19395550188"),
        ("+1 407 555 0199", "+14075550199"),
        ("555-0123", None),  # no area code
        ("123-456-7890", None),  # impossible area code
        ("+44 20 7946 0958", None),  # not PR nor US
    ],
)
def test_phones_are_pr_or_us_numbers_in_e164(raw: str, expected: str | None) -> None:
    assert expected == valid_phone(raw)


def test_an_invalid_email_is_reported_not_dropped() -> None:
    found = extract("mi correo es ana@gmail")
    assert (None, "ana@gmail") == (found.email, found.bad_email)


def test_a_river_is_not_a_kia_rio() -> None:
    assert {} == extract("vivo cerca del rio").flat()


def test_mileage_with_a_comma_is_not_a_phone_number() -> None:
    found = extract("tengo un Civic 2014 para trade-in con 90,000 millas")
    assert (None, None, 90000) == (found.phone, found.bad_phone, found.trade_in.mileage)


# -- the script format ---------------------------------------------------------------------


def test_default_script_round_trips_through_to_data() -> None:
    data = S.to_data()
    assert S == load_script(data)
    assert yaml.safe_load(DEFAULT_SCRIPT.read_text(encoding="utf-8"))["flow"] == data["flow"]


def test_no_script_means_the_default_one() -> None:
    assert S == load_script(None)


def test_a_tenants_english_only_script_without_faq_loads() -> None:
    data = S.to_data()
    data["languages"] = ["en"]
    data["faq"] = []
    data["messages"]["greeting"] = {"en": "Welcome to Bayamón Motors!"}
    script = load_script(data)
    assert "Welcome to Bayamón Motors!" == script.text("greeting", "es")  # falls back to en


@pytest.mark.parametrize(
    ("change", "fix"),
    [
        (lambda d: d["messages"]["ask_name"].pop("en"), "messages.ask_name has no 'en' text"),
        (lambda d: d["flow"].remove("contact"), "flow must include 'contact'"),
        (lambda d: d["flow"].append("pets"), "flow.6"),
        (lambda d: d["messages"].update(hello={"es": "x"}), "unknown key 'hello'"),
        (lambda d: d["settings"].update(max_misses=0), "settings.max_misses"),
        (lambda d: d["faq"][0]["answers"].pop("es"), "faq[0] (hours) has no 'es' answer"),
        (lambda d: d.update(surprise=1), "surprise"),
        (lambda d: d["settings"].update(bot="eliza"), "unknown bot 'eliza'; known: lead_qualifier"),
    ],
)
def test_an_invalid_script_says_what_to_fix(
    change: Callable[[dict[str, Any]], object], fix: str
) -> None:
    data = S.to_data()
    change(data)
    with pytest.raises(ValidationError) as raised:
        load_script(data)
    assert fix in str(raised.value)


def test_a_script_can_be_written_as_yaml() -> None:
    text = DEFAULT_SCRIPT.read_text(encoding="utf-8").replace("max_misses: 2", "max_misses: 3")
    assert 3 == load_yaml(text).settings.max_misses


# -- FAQ, language, callbacks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("¿A qué hora abren?", "hours"),
        ("a q hora abren", "hours"),
        ("What time do you close on Saturday?", "hours"),
        ("donde queda el dealer?", "location"),
        ("Do you accept trade-ins?", "trade_in_accepted"),
        ("trade in", None),
        ("hola", None),
        ("Soy Ana, 787-555-0123, me interesa la Tacoma 2022", None),
    ],
)
def test_faq_answers_only_above_the_threshold(text: str, entry: str | None) -> None:
    hit = match_faq(S, text, "es")
    assert entry == (hit.entry.id if hit else None)


def test_faq_answers_in_the_visitors_language() -> None:
    hit = match_faq(S, "where are you located", "en")
    assert hit is not None
    assert S.faq[1].answers["en"] == hit.answer


@pytest.mark.parametrize(
    ("text", "browser", "languages", "expected"),
    [
        ("Buenas tardes, busco una guagua familiar", "en", ("es", "en"), "es"),
        ("Good afternoon, I am looking for a family car", "es", ("es", "en"), "en"),
        ("hello", "en-US", ("es", "en"), "en"),
        ("info", "es", ("en", "es"), "es"),
        ("hello", None, ("es", "en"), "en"),  # one English word and nothing else
        ("👋", None, ("es", "en"), "es"),
        ("info", "fr", ("en", "es"), "en"),
        ("Buenas tardes, busco una guagua familiar", None, ("en",), "en"),
    ],
)
def test_language_is_detected_then_browser_then_primary(
    text: str, browser: str | None, languages: tuple[str, ...], expected: str
) -> None:
    assert expected == choose_language(text, languages, browser_language=browser, min_distance=0.25)


def test_callback_time_is_said_in_the_tenants_zone_and_the_visitors_format() -> None:
    at = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 9:00 in San Juan
    zone = "America/Puerto_Rico"
    assert "el viernes 20 de noviembre a las 9:00 a. m." == say_opening(
        at, timezone=zone, language="es", locale="es_PR"
    )
    assert "on Friday, November 20 at 9:00 AM" == say_opening(
        at, timezone=zone, language="en", locale="en_US"
    )
    assert "as soon as we open" == say_opening(None, timezone=zone, language="en", locale="en")


# -- the measurement ---------------------------------------------------------------------------


def test_precision_and_recall_count_wrong_values_as_both_errors() -> None:
    cases = [
        {"text": "Soy Ana, me interesa la Tacoma", "expect": {"first_name": "Ana"}},
        {"text": "hola", "expect": {"email": "ana@example.com"}},
    ]
    scores = score(cases)
    assert {"tp": 1, "fp": 0, "fn": 0} == scores["first_name"]
    assert {"tp": 0, "fp": 0, "fn": 1} == scores["email"]
    assert {"tp": 0, "fp": 1, "fn": 0} == scores["interest"]  # found, not expected


def test_the_car_wanted_after_por_is_not_the_trade_in() -> None:
    found = extract("Quiero cambiar mi Jeep Compass por una Grand Cherokee")
    assert {"make": "Jeep", "model": "Compass"} == found.trade_in.to_data()
    assert {"make": "Jeep", "model": "Grand Cherokee"} == found.vehicle.to_data()


def test_a_list_of_model_years_is_not_a_bad_phone_number() -> None:
    found = extract("tienen Tacoma 2019 2020 o 2021?")
    assert (None, None) == (found.phone, found.bad_phone)
