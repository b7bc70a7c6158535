"""Redaction of what visitors type: cards, SSNs and security codes, nothing else."""

import pytest

from console.security.redact import luhn_valid, redact

TEST_CARD = "4111 1111 1111 1111"
ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111", "[card redacted]"),
        ("5500-0000-0000-0004", "[card redacted]"),
        ("378282246310005", "[card redacted]"),
        ("3782 822463 10005", "[card redacted]"),  # Amex as printed: 4-6-5
        ("4222 2222 2222 2", "[card redacted]"),  # 13-digit Visa
        ("6011-1111-1111-1117", "[card redacted]"),
        ("4111-1111 1111-1111", "[card redacted]"),  # mixed separators
    ],
)
def test_test_card_numbers_are_redacted(text: str, expected: str) -> None:
    assert expected == redact(text)


def test_card_in_a_spanish_sentence_keeps_the_words_around_it() -> None:
    text = "Hola, quiero separar la Tacoma. Mi tarjeta es 4111 1111 1111 1111, gracias."
    assert "Hola, quiero separar la Tacoma. Mi tarjeta es [card redacted], gracias." == redact(text)


def test_card_in_an_english_sentence_keeps_the_words_around_it() -> None:
    text = "Sure, my card number is 5500-0000-0000-0004 and my zip is 00901"
    assert "Sure, my card number is [card redacted] and my zip is 00901" == redact(text)


def test_card_glued_to_emoji_is_redacted_and_emoji_kept() -> None:
    assert "💳[card redacted]👍 listo" == redact("💳4111111111111111👍 listo")


@pytest.mark.parametrize(
    "text",
    [
        "Llámame al 787-555-0123 después de las 5",
        "Call me at (787) 555-0123 or 939-555-0199",
        "mi cel 787 555 0123 939 555 0199",  # two phones typed side by side...
        "787 555 0123 939 555 0199",  # ...whose digits hold a 16-digit Luhn-valid stretch
        "+1 787 555 0123 ext 4567",
        "787 555 0123 4567",  # number plus extension, 14 digits in groups of 3 and 4
        "Orden #1234567890123",  # 13 digits that fail Luhn
        "4111 1111 1111 1112",  # one digit off a test card
        "VIN 1HGCM82633A004352, stock 23-0457",
        "Precio: $32,995 o $450/mes por 72 meses",
    ],
)
def test_numbers_that_are_not_cards_are_left_alone(text: str) -> None:
    assert text == redact(text)


def test_digit_run_longer_than_any_card_is_left_alone() -> None:
    assert "41111111111111111111" == redact("41111111111111111111")


@pytest.mark.parametrize(
    "text",
    [
        TEST_CARD.translate(ARABIC_INDIC),
        TEST_CARD.translate(FULL_WIDTH),
        "mi tarjeta " + "4111111111111111".translate(FULL_WIDTH),
        "1️⃣2️⃣3️⃣ 🚗🚙 ¡Qué chévere! ñandú",
    ],
)
def test_emoji_and_non_ascii_digits_are_left_alone(text: str) -> None:
    assert text == redact(text)


def test_ssn_is_redacted_but_not_phone_numbers_or_dates() -> None:
    text = "SSN 123-45-6789, seguro social 987-65-4321; tel 787-555-0123; fecha 2026-07-25"
    expected = (
        "SSN [ssn redacted], seguro social [ssn redacted]; tel 787-555-0123; fecha 2026-07-25"
    )
    assert expected == redact(text)


@pytest.mark.parametrize("text", ["1-123-45-6789", "123-45-6789-12", "123-45-67890"])
def test_ssn_shape_inside_a_longer_dashed_number_is_left_alone(text: str) -> None:
    assert text == redact(text)


def test_cvv_right_after_the_card_is_redacted() -> None:
    assert "card [card redacted] [cvv redacted] thanks" == redact(
        "card 4111 1111 1111 1111 123 thanks"
    )


def test_cvv_after_the_expiry_date_is_redacted_and_the_date_kept() -> None:
    assert "[card redacted] 12/27 [cvv redacted]" == redact("4111 1111 1111 1111 12/27 123")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("el cvv es 123", "el cvv es [cvv redacted]"),
        ("CVV2: 1234", "CVV2: [cvv redacted]"),
        ("cvc 321", "cvc [cvv redacted]"),
        ("el código de seguridad es el 456", "el código de seguridad es el [cvv redacted]"),
        ("codigo de seguridad: 456", "codigo de seguridad: [cvv redacted]"),
        ("Security Code: 789", "Security Code: [cvv redacted]"),
    ],
)
def test_cvv_after_a_keyword_is_redacted_in_spanish_and_english(text: str, expected: str) -> None:
    assert expected == redact(text)


def test_card_and_cvv_in_one_spanish_message() -> None:
    text = "Mi tarjeta es 4111 1111 1111 1111 y el cvv 123"
    assert "Mi tarjeta es [card redacted] y el cvv [cvv redacted]" == redact(text)


def test_keyword_without_a_short_number_after_it_changes_nothing() -> None:
    for text in ["¿Qué es el CVV?", "security code 12345", "cvv 787-555-0123"]:
        assert text == redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "tarjeta 4111 1111 1111 1111 123, cvv 123, ssn 123-45-6789, tel 787-555-0123",
        "cvv 123 y 555 más",
    ],
)
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact(text)
    assert once == redact(once)


def test_luhn_accepts_card_numbers_and_rejects_their_neighbours() -> None:
    assert (True, False) == (luhn_valid("4111111111111111"), luhn_valid("4111111111111112"))


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 2000,
        "1-" * 2000,
        "4111 " * 800,
        "1" * 4000,
        "9 " * 1999 + "x",
        "4111 1111 1111 1111 " * 200,
        "cvv " * 1000,
        "cvv" + " " * 4000 + "123",
        "[card redacted] " * 250,
    ],
)
@pytest.mark.timeout(20)
def test_long_adversarial_input_is_handled_without_backtracking_blowup(text: str) -> None:
    # A backtracking pattern would hang here (the timeout is a guard, not a measurement:
    # bench/redact.py measures the speed and its growth).
    once = redact(text * 10)
    assert once == redact(once)
    assert len(once) <= len(text * 10) + 20 * once.count("redacted]")
