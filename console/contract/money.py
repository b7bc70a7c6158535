"""Money as the agreement speaks it: integer cents inside, two-place decimal strings outside.

A float is refused (0.1 + 0.2 is not 0.30), so are a negative amount and a third decimal.
Shares of an amount (a tax rate, a credit percentage) are rounded half-up to the cent.
"""

from __future__ import annotations

import re

_MONEY = re.compile(r"(\d{1,9})\.(\d{2})")
BP = 10000  # basis points in a whole: 1050 bp = 10.5%


class MoneyError(ValueError):
    """An amount that cannot be money; the message names the field and what to write."""


def parse_money(value: object, where: str) -> int:
    """ "1500.00" -> 150000 cents. Only a non-negative decimal string with two places."""
    if isinstance(value, int | float):  # bool is an int
        raise MoneyError(
            f'{where}: write money as a decimal string with two places like "1500.00", '
            f"not the number {value!r}"
        )
    if not isinstance(value, str):
        raise MoneyError(f'{where}: must be a decimal string with two places like "1500.00"')
    if value.startswith("-"):
        raise MoneyError(f"{where}: {value[:20]} is negative; amounts are never below 0.00")
    match = _MONEY.fullmatch(value)
    if match is None:
        raise MoneyError(
            f'{where}: {value[:20]!r} is not an amount with two decimals; write it like "12.00"'
        )
    return int(match[1]) * 100 + int(match[2])


def format_money(cents: int) -> str:
    """150000 -> "1500.00"; -15000 -> "-150.00"."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def format_grouped(cents: int) -> str:
    """For documents: 190320 -> "1,903.20"."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{rest:02d}"


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest whole, halves away from zero."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def share(cents: int, bp: int) -> int:
    """`bp` basis points of an amount, half-up to the cent: share(123456, 1050) = 12963."""
    return half_up(cents * bp, BP)


def format_rate(bp: int) -> str:
    """A rate as Hacienda prints it: 1050 -> "10.5", 100 -> "1", 400 -> "4"."""
    whole, rest = divmod(bp, 100)
    return str(whole) if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")


def signed_cents(text: str) -> int:
    """An amount this code wrote, sign included: "-150.00" -> -15000."""
    negative = text.startswith("-")
    cents = parse_money(text[1:] if negative else text, "amount")
    return -cents if negative else cents
