"""The console's pure helpers (frontend/console/model.ts), run under Node as the browser runs
them: esbuild bundles the module, Node calls each function with the cases below, and the
answers are compared here."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.tools import FRONTEND, require_esbuild

RUNNER = """
import * as model from "./model.mjs";
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = JSON.parse(input).map(([fn, args]) => model[fn](...args));
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> Any:
    node = require_esbuild()
    out = tmp_path_factory.mktemp("model")
    subprocess.run(
        [
            str(FRONTEND / "node_modules" / ".bin" / "esbuild"),
            str(FRONTEND / "console" / "model.ts"),
            "--bundle",
            "--format=esm",
            "--platform=node",
            f"--outfile={out / 'model.mjs'}",
            "--log-level=warning",
        ],
        check=True,
        timeout=60,
    )
    (out / "run.mjs").write_text(RUNNER)

    def run(*cases: tuple[str, list[Any]]) -> list[Any]:
        done = subprocess.run(
            [node, str(Path(out) / "run.mjs")],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        result: list[Any] = json.loads(done.stdout)
        return result

    return run


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
