"""Contact details as stored: e-mails normalised, phones in E.164, errors that say why."""

from __future__ import annotations

import pytest

from console.domain.contact import normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("787-555-0123", "+17875550123"),
        ("(787) 555 0123", "+17875550123"),
        ("+1 939 555 0199", "+19395550199"),
        ("+34 612 34 56 78", "+34612345678"),
    ],
)
def test_phones_are_stored_in_e164(raw: str, expected: str) -> None:
    assert expected == normalize_phone(raw)


@pytest.mark.parametrize("raw", ["12", "no tengo", "555-01"])
def test_what_is_not_a_phone_is_refused_with_an_example(raw: str) -> None:
    with pytest.raises(ValueError, match="787-555-0123"):
        normalize_phone(raw)


def test_email_is_normalised_and_a_bad_one_says_why() -> None:
    assert "ana@correo.example" == normalize_email("ana@correo.example")
    with pytest.raises(ValueError, match="@"):
        normalize_email("ana.correo.example")
