"""The console's pure helpers (frontend/console/model.ts, and words.ts that says codes in
words), run under Node as the browser runs them: esbuild bundles the modules, Node calls each
function with the cases below, and the answers are compared here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

import pytest

from console.domain.leads import DeliveryStatus, Destination
from tests.support.tools import FRONTEND, node_caller

HELPERS = ("model.ts", "words.ts")


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> Any:
    entry = "".join(f'export * from "{FRONTEND / "console" / name}";\n' for name in HELPERS)
    return node_caller(entry, tmp_path_factory.mktemp("model"))


def test_waits_read_as_clocks(call: Any) -> None:
    assert ["0:00", "0:59", "1:05", "12:00", "1:02:03"] == call(
        ("clock", [0]), ("clock", [59.9]), ("clock", [65]), ("clock", [720]), ("clock", [3723])
    )


def test_each_page_has_the_time_until_the_next_and_the_last_until_now(call: Any) -> None:
    pages = [
        {"url": "/a", "viewed_at": "2026-11-25T10:00:00.000Z"},
        {"url": "/b", "viewed_at": "2026-11-25T10:01:30.000Z"},
    ]
    now = int(datetime(2026, 11, 25, 10, 6, 40, tzinfo=UTC).timestamp() * 1000)
    [times] = call(("pageTimes", [pages, now]))
    assert [90, 310] == [t["seconds"] for t in times]


def test_canned_responses_match_by_shortcut_or_text_in_the_chats_language(call: Any) -> None:
    canned = [
        {
            "id": "1",
            "shortcut": "/horario",
            "text": {"es": "Abrimos a las 9", "en": "We open at 9"},
        },
        {"id": "2", "shortcut": "/precio", "text": {"en": "The price is"}},
    ]
    by_shortcut, by_text, none, fallback = call(
        ("cannedMatches", [canned, "/hor", "es"]),
        ("cannedMatches", [canned, "abrimos", "es"]),
        ("cannedMatches", [canned, "abrimos", "en"]),
        ("cannedText", [canned[1], "es"]),
    )
    assert (["1"], ["1"], [], "The price is") == (
        [c["id"] for c in by_shortcut],
        [c["id"] for c in by_text],
        [c["id"] for c in none],
        fallback,
    )


def test_messages_merge_by_id_in_the_hubs_order_and_a_stored_one_replaces_its_pending(
    call: Any,
) -> None:
    def m(ident: str, **extra: Any) -> dict[str, Any]:
        return {"id": ident, "chat_id": "c", "author": "agent", "text": ident, **extra}

    current = [m("000000000002"), m("~x", client_msg_id="x", pending=True)]
    incoming = [m("000000000001"), m("000000000003", client_msg_id="x"), m("000000000002")]
    [merged] = call(("mergeMessages", [current, incoming]))
    assert ["000000000001", "000000000002", "000000000003"] == [x["id"] for x in merged]


def test_contact_details_are_checked_loosely_before_the_hub_decides(call: Any) -> None:
    assert [True, True, False, False, True, False] == call(
        ("plausiblePhone", ["787-555-0123"]),
        ("plausiblePhone", ["+1 (787) 555 0123"]),
        ("plausiblePhone", ["12"]),
        ("plausiblePhone", ["call me"]),
        ("plausibleEmail", ["ana@example.com"]),
        ("plausibleEmail", ["ana@"]),
    )


def test_hours_are_typed_as_ranges(call: Any) -> None:
    assert [[["09:00", "12:00"], ["13:00", "18:00"]], [], "09:00-12:00, 13:00-18:00"] == call(
        ("parseRanges", ["09:00-12:00, 13:00 - 18:00"]),
        ("parseRanges", ["  "]),
        ("formatRanges", [[["09:00", "12:00"], ["13:00", "18:00"]]]),
    )


def test_the_lead_form_becomes_protocols_lead(call: Any) -> None:
    form = {
        "first_name": " María ",
        "last_name": "",
        "phone": "787-555-0123",
        "email": "",
        "interest": "lease",
        "vehicle_year": "2022",
        "vehicle_make": "Toyota",
        "trade_mileage": "",
        "notes": "",
        "qualified": False,
    }
    [lead, split] = call(("leadPayload", [form, "es"]), ("splitName", ["María del Mar Rivera"]))
    assert {
        "language": "es",
        "interest": "lease",
        "qualified": False,
        "first_name": "María",
        "phone": "787-555-0123",
        "vehicle": {"year": 2022, "make": "Toyota"},
    } == lead
    assert ["María", "del Mar Rivera"] == split


def test_codes_read_as_words_in_spanish_and_in_english(call: Any) -> None:
    assert [
        "Este mes",
        "This month",
        "Ningún agente disponible",
        "No agent available",
        "Comprar",
        "Buy",
        "Correo ADF",
        "Failed",
        "El visitante terminó el chat",
        "Con el asistente virtual",
    ] == call(
        ("word", ["es", "timeframe", "this_month"]),
        ("word", ["en", "timeframe", "this_month"]),
        ("word", ["es", "reason", "no_agents"]),
        ("word", ["en", "reason", "no_agents"]),
        ("word", ["es", "interest", "buy"]),
        ("word", ["en", "interest", "buy"]),
        ("word", ["es", "destination", "adf"]),
        ("word", ["en", "delivery_status", "failed"]),
        ("word", ["es", "reason", "visitor_ended"]),
        ("word", ["es", "chat_status", "bot"]),
    )


def test_every_destination_and_delivery_status_the_hub_has_reads_as_words(call: Any) -> None:
    """A delivery to any destination (the transcript's "email", the ticket notice's
    "notify" too) is listed in words in both languages, never as the hub's code."""
    cases = [
        (group, code, lang)
        for group, codes in (
            ("destination", get_args(Destination)),
            ("delivery_status", get_args(DeliveryStatus)),
        )
        for code in codes
        for lang in ("es", "en")
    ]
    words = call(*(("word", [lang, group, code]) for group, code, lang in cases))
    shown = dict(zip(cases, words, strict=True))
    assert [] == [case for case, said in shown.items() if said == case[1]]
    assert "Transcripción por correo" == shown[("destination", "email", "es")]
    assert "Transcript by e-mail" == shown[("destination", "email", "en")]
    assert "Notification e-mail" == shown[("destination", "notify", "en")]


def test_a_value_no_code_names_shows_as_it_came_and_never_as_undefined_or_json(
    call: Any,
) -> None:
    assert [
        "en dos semanas",
        "sla_missed",
        "—",
        "—",
        "Sí",
        "No",
        "color: rojo, puertas: 4",
        "12,500",
    ] == call(
        ("word", ["es", "timeframe", "en dos semanas"]),
        ("word", ["en", "reason", "sla_missed"]),
        ("word", ["en", "timeframe", None]),
        ("word", ["es", "interest", "  "]),
        ("plain", ["es", True]),
        ("plain", ["en", False]),
        ("plain", ["es", {"color": "rojo", "puertas": 4, "vacío": None}]),
        ("plain", ["en", 12500]),
    )


def test_a_vehicle_reads_as_a_dealer_says_it(call: Any) -> None:
    corolla = {"year": 2015, "make": "Toyota", "model": "Corolla", "mileage": 90000}
    tacoma = {
        "year": 2022,
        "make": "Toyota",
        "model": "Tacoma",
        "condition": "new",
        "vin": "3TMCZ5AN1NM123456",
        "stock": "T1234",
    }
    assert [
        "2015 Toyota Corolla, 90,000 mi",
        "Toyota Corolla 2015, 90,000 millas",
        "2022 Toyota Tacoma, new, VIN 3TMCZ5AN1NM123456, Stock # T1234",
        "Toyota Tacoma 2022, nuevo, VIN 3TMCZ5AN1NM123456, Inventario # T1234",
        "Honda, trim: EX",
        "unos 90 mil",
        "—",
    ] == call(
        ("carText", ["en", corolla]),
        ("carText", ["es", corolla]),
        ("carText", ["en", tacoma]),
        ("carText", ["es", tacoma]),
        ("carText", ["en", {"make": "Honda", "trim": "EX"}]),
        ("carText", ["es", {"mileage": "unos 90 mil"}]),
        ("carText", ["en", None]),
    )
