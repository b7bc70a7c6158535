"""Redaction of payment data that visitors type into a chat.

Runs before a message is stored, delivered or logged, on every message, so it has to be
cheap and linear in the length of the text whatever a visitor sends: every pattern here
either cannot backtrack or is bounded by a constant, and candidate card numbers are
checked with arithmetic instead of a regular expression.

Only ASCII digits count: visitors do not type card numbers in Arabic-Indic or full-width
digits, and `\\d` would match those too.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

CARD = "[card redacted]"
SSN = "[ssn redacted]"
CVV = "[cvv redacted]"

_MIN_CARD_DIGITS = 13
_MAX_CARD_DIGITS = 19
_MIN_GROUP = 4  # digits in each group of a printed card number but the last
_MAX_GROUP = 6
_DOUBLED = tuple(2 * d - 9 if d > 4 else 2 * d for d in range(10))  # Luhn: double, cast out 9

# Digit groups joined by single spaces or dashes. Unambiguous (a separator must be
# followed by a digit), so the engine never backtracks more than one character.
_DIGIT_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_GROUP = re.compile(r"[0-9]+")
_SSN = re.compile(r"(?<![0-9-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9]|-[0-9])")
# A CVV typed right after the card, possibly after the expiry date ("12/27").
_CVV_AFTER_CARD = re.compile(
    re.escape(CARD)
    + r"(?P<gap>[ ,;:/-]{1,3}(?:[0-9]{1,2}/[0-9]{2,4}[ ,;:/-]{1,3})?)"
    + r"(?P<cvv>[0-9]{3,4})(?![0-9]|[-./][0-9])"
)
# Neither the keyword nor the gap may come from a placeholder, so redacting is idempotent.
_CVV_AFTER_WORD = re.compile(
    r"(?<!\[)(?P<word>\b(?:cvv2?|cvc2?|c[oó]digo\s+de\s+seguridad|security\s+code)\b)"
    r"(?P<gap>[^0-9\n\[]{0,20}?)"
    r"(?P<cvv>[0-9]{3,4})(?![0-9]|[-./][0-9])",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Replace card numbers, US social security numbers and CVVs with placeholders."""
    text = _SSN.sub(SSN, text)
    text = _DIGIT_RUN.sub(_redact_cards_in_run, text)
    text = _CVV_AFTER_CARD.sub(lambda m: CARD + m["gap"] + CVV, text)
    return _CVV_AFTER_WORD.sub(lambda m: m["word"] + m["gap"] + CVV, text)


def _redact_cards_in_run(match: re.Match[str]) -> str:
    """Find card numbers among the digit groups of one run.

    A run may hold more than a card ("4111 1111 1111 1111 123" is a card and its CVV),
    so a card is any stretch of whole groups with 13-19 digits and a valid Luhn check
    digit, in which every group but the last has 4-6 digits; from each starting group
    the longest such stretch wins. Cards are printed in groups of 4 to 6 (4-4-4-4,
    4-6-5), phone numbers in groups of 3, so two phone numbers typed side by side, or a
    number and its extension, cannot pass for a card.
    """
    run = match.group()
    if len(run) < _MIN_CARD_DIGITS:
        return run
    groups = _Groups(run)
    pieces: list[str] = []
    copied_to = 0
    i = 0
    while i < len(groups.bounds):
        last = groups.longest_card_from(i)
        if last is None:
            i += 1
            continue
        pieces.append(run[copied_to : groups.bounds[i][0]])
        pieces.append(CARD)
        copied_to = groups.bounds[last][1]
        i = last + 1
    if not pieces:
        return run
    pieces.append(run[copied_to:])
    return "".join(pieces)


class _Groups:
    """The digit groups of one run, with prefix sums that make each Luhn check O(1).

    Whether a digit is doubled depends on its distance from the last digit of the
    candidate, so prefix sums are kept for both choices of doubled parity.
    """

    def __init__(self, run: str) -> None:
        self.bounds = [(g.start(), g.end()) for g in _GROUP.finditer(run)]
        # digits_before[g]: digits in groups before g; one extra entry for the end
        self.digits_before = [0]
        # prefix sums over all digits of the run: doubling at odd / at even indexes
        self.odd_doubled = [0]
        self.even_doubled = [0]
        for start, end in self.bounds:
            for char in run[start:end]:
                value = ord(char) - 48
                index = len(self.odd_doubled) - 1
                odd, even = (_DOUBLED[value], value) if index % 2 else (value, _DOUBLED[value])
                self.odd_doubled.append(self.odd_doubled[-1] + odd)
                self.even_doubled.append(self.even_doubled[-1] + even)
            self.digits_before.append(self.digits_before[-1] + end - start)
        # card_until[g]: the furthest group a card starting at group g may end with
        count = len(self.bounds)
        self.card_until = list(range(count))
        for g in range(count - 2, -1, -1):
            start, end = self.bounds[g]
            if _MIN_GROUP <= end - start <= _MAX_GROUP:
                self.card_until[g] = self.card_until[g + 1]

    def longest_card_from(self, first: int) -> int | None:
        """Index of the last group of the longest card starting at group `first`."""
        start_digit = self.digits_before[first]
        shortest = bisect_left(self.digits_before, start_digit + _MIN_CARD_DIGITS) - 1
        longest = bisect_right(self.digits_before, start_digit + _MAX_CARD_DIGITS) - 2
        for last in range(min(longest, self.card_until[first]), max(shortest, first) - 1, -1):
            end_digit = self.digits_before[last + 1]
            # the final digit is never doubled; digits of the other index parity are
            sums = self.even_doubled if (end_digit - 1) % 2 else self.odd_doubled
            if (sums[end_digit] - sums[start_digit]) % 10 == 0:
                return last
        return None


def luhn_valid(digits: str) -> bool:
    """The check digit every payment card number carries; most other numbers fail it."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        total += _DOUBLED[value] if position % 2 else value
    return total % 10 == 0
