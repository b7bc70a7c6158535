"""What the widget and the console say about a file (frontend/widget/attach.ts,
frontend/console/attach.tsx), run under Node as the browser runs them: a size as the
locale writes numbers, the same on both sides, and each refusal of the hub
(PROTOCOL 1.2, Attachments) as the words that say what to do."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.tools import FRONTEND, node_caller

ENTRY = f"""
export {{ sizeText as widgetSize }} from "{FRONTEND / "widget" / "attach.ts"}";
import {{ refusalText }} from "{FRONTEND / "widget" / "attach.ts"}";
import {{ refusal, texts }} from "{FRONTEND / "widget" / "i18n.ts"}";
export const widgetRefusal = (status, lang) => refusalText(status, texts(lang));
export const hubRefusal = (error, lang) => refusal(error, texts(lang));
export {{ sizeText as consoleSize, refusalKey }} from "{FRONTEND / "console" / "attach.tsx"}";
"""
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return node_caller(ENTRY, tmp_path_factory.mktemp("attach"))


@pytest.mark.parametrize("side", ["widgetSize", "consoleSize"])
def test_a_size_reads_in_kilobytes_or_megabytes_as_the_locale_writes_numbers(
    call: Any, side: str
) -> None:
    sizes = [100, 340 * 1024, 1023 * 1024, int(1.5 * MiB), 10 * MiB]
    locales = ("es-PR", "en-US", "es-ES")  # Puerto Rico writes numbers as the US does
    written = call(*[(side, [size, locale]) for locale in locales for size in sizes])
    american = ["1 KB", "340 KB", "1,023 KB", "1.5 MB", "10 MB"]
    assert [*american, *american, "1 KB", "340 KB", "1023 KB", "1,5 MB", "10 MB"] == written


def test_each_refusal_says_what_to_do(call: Any) -> None:
    cases = [
        (413, 100),  # over the hub's limit
        (0, 11 * MiB),  # the connection dropped while a file over 10 MiB went up
        (0, 100),  # it dropped for a small file: the network
        (415, 100),
        (409, 100),
        (403, 100),  # another agent's chat
        (404, 100),
        (429, 100),  # too many files in the last minute
        (500, 100),
    ]
    assert [
        "attach_too_large",
        "attach_too_large",
        "attach_failed",
        "attach_bad_type",
        "attach_closed",
        "attach_not_found",
        "attach_not_found",
        "attach_wait",
        "attach_failed",
    ] == call(*[("refusalKey", list(case)) for case in cases])


def test_the_widget_tells_a_visitor_why_a_file_was_refused_in_their_language(call: Any) -> None:
    said = call(*[("widgetRefusal", [status, "es"]) for status in (413, 415, 409, 404, 429, 0)])
    assert 6 == len(set(said)), said  # a reason of its own for each
    assert said[4].startswith("Ha enviado varios archivos"), said[4]
    assert "Wait a minute" in call(("widgetRefusal", [429, "en"]))[0]


def test_the_widget_says_slow_down_in_the_visitors_language_and_keeps_the_hubs_reasons(
    call: Any,
) -> None:
    """A start or a rating refused: too fast or a busy hub in the widget's own words (the
    hub's are English); a refusal whose detail says what to fix, in the hub's."""
    limited = {"code": "rate_limited", "message": "too many chats started from this address"}
    busy = {"code": "unavailable", "message": "the hub cannot store this now; retry shortly"}
    invalid = {"code": "invalid_payload", "message": "phone: not a phone number"}
    said = call(
        ("hubRefusal", [limited, "es"]),
        ("hubRefusal", [limited, "en"]),
        ("hubRefusal", [busy, "es"]),
        ("hubRefusal", [invalid, "es"]),
        ("hubRefusal", [None, "en"]),
    )
    assert said[0].startswith("Demasiados intentos"), said
    assert said[1].startswith("Too many tries"), said
    assert said[2].startswith("No se pudo enviar"), said
    assert "phone: not a phone number" == said[3]
    assert said[4].startswith("Could not send"), said
