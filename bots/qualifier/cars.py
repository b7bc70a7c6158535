"""Vehicles in a visitor's message: which are named, their years, and whose they are.

A message may name two vehicles ("busco una RAV4 2024, tengo un Corolla 2015 para
entregar"): the one wanted and the visitor's own, offered as a trade-in. Which is which
comes from the words around each one and from the question just asked: a car named in
answer to "do you have a vehicle to trade in?" is the trade-in, unless the visitor says
it is the one they want ("perdón, es la Santa Fe la que quiero").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rapidfuzz.distance import DamerauLevenshtein

from bots.qualifier.data import load, numbers
from bots.qualifier.vehicles import AMBIGUOUS_MODELS, MAKES, MODELS, NOT_TYPOS
from bots.text import fold

YEAR = re.compile(r"(?<![\d,.$])(?:'|del? )?((?:19[89]|20[0-4])\d)(?!\d|[,.]\d)")
# mileage with its unit: "90,000 millas", "90k miles", "120 mil millas", "160k mi"
MILEAGE = re.compile(
    r"(\d{1,3}(?:[,.]\d{3})+|\d+(?:[.,]\d+)?\s?(?:k|mil)|\d{3,6})\s*"
    r"(?:millas|miles|mi|mls|km|kil[oó]metros)\b",
    re.IGNORECASE,
)
# without a unit ("tiene 80k", "140 mil", "90,000"): mileage only where a trade-in is meant
BARE_MILEAGE = re.compile(
    r"(?<![\w.,$])(\d{1,3}(?:,\d{3})+|\d{1,3}(?:[.,]\d)?\s?(?:k|mil))(?!\w|,\d)"
    r"(?!\s*(?:de pronto|pesos|d[oó]lares|dollars|chavos|down|cash|\$))",
    re.IGNORECASE,
)

# words before a vehicle that make it the visitor's own
_OWNED = re.compile(
    r"(?:\bmi|\bmy|\btengo|\bi have|\bi've got|\bive got|\bi got|\bi own|\btrading in|"
    r"\btrade in|\btrade-in|\bentregar|\bdar|\bdaria)"
    # up to four words between ("mi carro actual es un"), none that starts another clause
    r"(?:\s+(?!(?:por|for|y|and|o|or|pero|but|que|that|quiero|busco|want)\b)[\w'-]+){0,4}"
    r"\s*[:=-]?\s*$"
)
# words after it that make it the visitor's own: "un Fit pa' entregar", "to trade in"
_OWNED_AFTER = re.compile(
    r"^\s*(?:\S+\s+){0,3}?(?:pa'? ?entregar|para entregar|para trade|pa'? trade|"
    r"de trade|to trade|for trade|as (?:a )?trade|como trade|de pronto|como pronto)"
)
# words before it that make it the one wanted, or a correction of it
_WANTED = re.compile(
    r"(?:\bquiero|\bbusco|\bbuscando|\bme interesa|\binteresad[oa] en|\blooking for|"
    r"\blooking at|\bwant|\bwanna|\bprefiero|\bmejor|\bactually|\bmake that|\binstead|"
    r"\ben vez de|\bmake it|\bcomprar|\bbuy|\blease|\bfinanciar|\bfinance|\bcotizar|"
    r"\bquote on|\bme equivoque|\bperdon|\bsorry|\bcorrection|\bcorrijo|\bes la|\bes el|"
    r"\bits the|\bit's the)"
    r"(?:\s+[\w'-]+){0,4}\s*[:,]?\s*$"
)
_WANTED_AFTER = re.compile(
    r"^\s*(?:\S+\s+){0,3}?(?:la que quiero|el que quiero|que quiero|que busco|"
    r"is the one|the one i want|instead)"
)
# a later vehicle that replaces an earlier one named in the same message
_CORRECTION = re.compile(
    r"(?:\bno,|\bmejor|\bactually|\bmake that|\bperdon|\bsorry|\bquise decir|\bi meant|"
    r"\bmake it|\bo sea)(?:\s+[\w'-]+){0,3}\s*$"
)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    make: str | None
    model: str | None
    year: int | None = None


def _alternation(spellings: Iterable[str]) -> re.Pattern[str]:
    """One pattern for many spellings as whole words, the longest first, so that at one
    place "grand cherokee" wins over "cherokee"."""
    ordered = sorted(set(spellings), key=lambda spelling: (-len(spelling), spelling))
    return re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w-])")


_MAKE_OF = {spelling: make for make, spellings in MAKES.items() for spelling in spellings}
_MODEL_OF = {
    spelling: (model, make) for model, (make, spellings) in MODELS.items() for spelling in spellings
}
# "any Silverados on the lot?": the plural of a one-word model that is no ordinary word
_MODEL_OF.update(
    {
        f"{spelling}s": named
        for spelling, named in list(_MODEL_OF.items())
        if named[0] not in AMBIGUOUS_MODELS
        and spelling.isalpha()
        and len(spelling) >= 4
        and not spelling.endswith("s")
        and f"{spelling}s" not in _MODEL_OF
        and f"{spelling}s" not in _MAKE_OF
    }
)
_MAKES_RE = _alternation(_MAKE_OF)
_MODELS_RE = _alternation(_MODEL_OF)


# one-word spellings long enough to be told apart from ordinary words by one typo
_TYPO_TARGETS = {
    variant: variant
    for variants in (*MAKES.values(), *(v for _, v in MODELS.values()))
    for variant in variants
    if " " not in variant and len(variant) >= 5 and variant.isalpha()
}
# ordinary words one typo away from a make or model (vehicles.yaml's not_typos, and a few
# more seen in chats)
_NOT_TYPOS = NOT_TYPOS | {
    *("accept", "access", "carry", "model", "modelo", "carro", "cargo", "sonaba", "venus"),
    *("forty", "fuerte", "honey", "monday", "sunday", "camino", "camion", "civil", "edges"),
    *("fiesta", "escapa", "escapar", "pasaporte", "cruz", "range", "real", "sale", "pasa"),
    *("mira", "mata", "soltera", "solar", "status", "casada", "freelancer", "nissen"),
}
# the targets by first letter, for a quick look
_BY_LETTER: dict[str, tuple[str, ...]] = {}
for _target in sorted(_TYPO_TARGETS):
    _BY_LETTER[_target[0]] = (*_BY_LETTER.get(_target[0], ()), _target)
_WORD = re.compile(r"[a-z]{4,}")


# letters that Spanish speakers swap for one another ("tacona", "hiundai", "sportaje")
_ALIKE = frozenset(
    frozenset(pair) for pair in ("mn", "bv", "sz", "sc", "zc", "iy", "kc", "qk", "gj", "lr")
)


def _sounds_alike(word: str, target: str) -> bool:
    """One letter of the same length swapped for one that sounds or sits alike."""
    if len(word) != len(target):
        return False
    differ = [(a, b) for a, b in zip(word, target, strict=True) if a != b]
    return len(differ) == 1 and frozenset(differ[0]) in _ALIKE


def correct_typos(folded: str) -> str:
    """The text with misspelt makes and models set right ("toyta corola" -> "toyota
    corolla"): one typo, against spellings of five letters or more, never an ordinary
    word."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in _TYPO_TARGETS or word in _NOT_TYPOS or len(word) < 4:
            return word
        best = None
        for target in _BY_LETTER.get(word[0], ()):
            if abs(len(target) - len(word)) > 1:
                continue
            # a letter left out, doubled or swapped; a different letter only in long words
            # ("carry" is not a "camry")
            swapped_or_long = sorted(word) == sorted(target) or len(word) >= 7
            if DamerauLevenshtein.distance(word, target) == 1 and (
                len(word) != len(target) or swapped_or_long or _sounds_alike(word, target)
            ):
                if best is not None:
                    return word  # two candidates: not sure which was meant
                best = target
        return best or word

    return _WORD.sub(fix, folded)


_ARTICLE = re.compile(
    r"\b(?:un|una|el|la|a|an|the|mi|my|su|his|her|otra|otro|another)\s+"
    r"(?:(?:new|used|brand new|nuevo|nueva|usado|usada|certified)\s+)?$"
)


_DESIGNATION = re.compile(r"\s?(\d{3,4}[a-z]{0,2})\b")


def designated(model: str, typed: str, make: str) -> str:
    """The model as the visitor named it when they gave its number: "rx 350" is the
    "RX 350", "sierra 1500" the "Sierra 1500", "330i" the "330i" (of the 3 Series); a
    spelling with the model's own number ("f150", "cx 5", "ram 1500") is the model's name."""
    make_words = {fold(w) for spelling in MAKES.get(make, ()) for w in spelling.split()}
    words_ = [w for w in typed.split() if w not in make_words]
    digits = re.sub(r"\D", "", " ".join(words_))
    if not digits or digits == re.sub(r"\D", "", model):
        return model
    return " ".join(_pretty(word) for word in words_) or model


def _pretty(word: str) -> str:
    if re.fullmatch(r"\d+[a-z]", word):  # "330i", "328d"
        return word
    if len(word) <= 3 or re.search(r"\d", word):
        return word.upper()
    return word.capitalize()


def _near(folded: str, start: int, end: int, other: tuple[int, int], reach: int = 6) -> bool:
    gap = folded[end : other[0]] if other[0] >= end else folded[other[1] : start]
    return len(gap) <= reach and not re.search(r"[,.;!?]", gap)


def mentions(folded: str, *, car_expected: bool = False, car_talk: bool = False) -> list[Mention]:
    """Every vehicle the folded text names, in order, with the year written beside it.
    A model that is also an ordinary word ("Escape", "Santa Cruz") counts next to its make
    or a year; alone when the message answers a question about a car (`car_expected`), or
    after an article in a message about buying or trading (`car_talk`: "busco una Santa
    Cruz", but not "on the edge")."""
    years = [(m.start(1), m.end(1), int(m.group(1))) for m in YEAR.finditer(folded)]
    makes = [(m.start(), m.end(), _MAKE_OF[m.group(0)]) for m in _MAKES_RE.finditer(folded)]
    kept = [(m.start(), m.end(), *_MODEL_OF[m.group(0)]) for m in _MODELS_RE.finditer(folded)]

    found: list[Mention] = []
    used_makes: set[tuple[int, int]] = set()
    for start, end, model, make in kept:
        make_spans = [
            (s, e) for s, e, name in makes if name == make and _near(folded, start, end, (s, e))
        ]
        if (
            model in AMBIGUOUS_MODELS
            and not car_expected
            and not (car_talk and _ARTICLE.search(folded[max(0, start - 8) : start]))
            and not make_spans
            and not any(_near(folded, start, end, (s, e)) for s, e, _ in years)
        ):
            continue
        used_makes.update(make_spans)
        typed, stop = folded[start:end], end
        number = _DESIGNATION.match(folded[end:])
        if number and not re.search(r"\d", model) and not YEAR.fullmatch(number.group(1)):
            typed, stop = f"{typed} {number.group(1)}", end + number.end()  # "lexus rx 350"
        named = designated(model, typed, make)
        found.append(Mention(min([start, *[s for s, _ in make_spans]]), stop, make, named))
    for start, end, make in makes:
        if (start, end) in used_makes or any(m.start <= start < m.end for m in found):
            continue
        found.append(Mention(start, end, make, None))
    found.sort(key=lambda m: m.start)
    taken: set[int] = set()
    with_years = []
    for mention in found:
        year = next(
            (
                y
                for s, e, y in years
                if s not in taken and _near(folded, mention.start, mention.end, (s, e))
            ),
            None,
        )
        if year is None:  # words after the model: "tacoma trd off road 2023"
            year = next(
                (
                    y
                    for s, e, y in years
                    if s not in taken
                    and s >= mention.end
                    and _near(folded, mention.start, mention.end, (s, e), reach=20)
                ),
                None,
            )
        if year is not None:
            taken.update(s for s, _, y in years if y == year)
        else:
            year = _two_digit_year(folded[mention.end : mention.end + 16]) or _year_before(
                folded[max(0, mention.start - 6) : mention.start]
            )
        with_years.append(replace(mention, year=year))
    # "floor mats for the Ford Explorer? Need them for my 2022": one vehicle, one year
    loose = [y for s, _, y in years if s not in taken]
    yearless = [m for m in with_years if m.year is None]
    if len(loose) == 1 and len(yearless) == 1 and len(with_years) == 1:
        with_years = [replace(yearless[0], year=loose[0])]
    return with_years


# "Tucson del 19", "Civic '15", "Tacoma 22": a two-digit year right after the car
_TWO_DIGITS = re.compile(
    r"^\s*(?:del?\s+|')?(\d{2})(?!\d|[,.]\d|\s*(?:pulgadas|inches|in\b|mil|k\b|millas|miles|mi\b|"
    r"km|puertas|doors|asientos|seats|%|dolares|dollars|pies|feet))"
)


def _two_digit_year(after: str) -> int | None:
    match = _TWO_DIGITS.match(after)
    if not match:
        return None
    number = int(match.group(1))
    if number <= 29:
        return 2000 + number
    return 1900 + number if number >= 80 else None


_APOSTROPHE_YEAR = re.compile(r"'(\d{2})\s+$")


def _year_before(before: str) -> int | None:
    """ "a '14 Subaru Outback": a two-digit year with its apostrophe, before the car."""
    match = _APOSTROPHE_YEAR.search(before)
    return _two_digit_year(match.group(1)) if match else None


def is_owned(folded: str, mention: Mention) -> bool:
    """Words around it say the visitor owns it ("tengo un", "my", "pa' entregar")."""
    before = folded[max(0, mention.start - 40) : mention.start]
    after = folded[mention.end : mention.end + 30]
    return bool(_OWNED.search(before) or _OWNED_AFTER.search(after))


def is_wanted(folded: str, mention: Mention) -> bool:
    """Words around it say it is the one wanted ("quiero", "make that", "la que quiero")."""
    before = folded[max(0, mention.start - 40) : mention.start]
    after = folded[mention.end : mention.end + 30]
    return bool(_WANTED.search(before) or _WANTED_AFTER.search(after))


def is_correction(folded: str, mention: Mention) -> bool:
    return bool(_CORRECTION.search(folded[max(0, mention.start - 30) : mention.start]))


_NUMBER_WORDS = numbers(load("phrases.yaml")["number_words"], "number_words")
_WORDS_THOUSAND = re.compile(
    r"\b((?:" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r"|hundred)"
    r"(?:[\s-]+(?:y|and|hundred|"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r"))*)\s+(?:mil|thousand)\b"
)


_DIGITS_THOUSAND = re.compile(r"\b(\d{1,3})\s+thousand\b")


def numbers_in_words(folded: str) -> str:
    """ "noventa mil millas" -> "90000 millas", "one hundred twenty thousand" -> "120000"."""

    def value(match: re.Match[str]) -> str:
        total = 0
        for word in re.split(r"[\s-]+", match.group(1)):
            if word == "hundred":
                total = max(total, 1) * 100
            elif word in _NUMBER_WORDS:
                total += _NUMBER_WORDS[word]
        return str(total * 1000)

    folded = _WORDS_THOUSAND.sub(value, folded)
    # "160 thousand miles"
    return _DIGITS_THOUSAND.sub(lambda m: str(int(m.group(1)) * 1000), folded)


def mileage(text: str, *, bare: bool) -> tuple[int | None, str]:
    """The mileage the text gives, and the text without it; `bare`: numbers without a
    unit count too ("tiene 80k", "140 mil")."""
    match = MILEAGE.search(text) or (BARE_MILEAGE.search(text) if bare else None)
    if not match:
        return None, text
    raw = match.group(1).lower().replace(" ", "")
    value: int
    for suffix in ("k", "mil"):
        if raw.endswith(suffix):
            value = int(float(raw[: -len(suffix)].replace(",", ".")) * 1000)
            break
    else:
        value = int(re.sub(r"[,.]", "", raw))
    return value, text[: match.start()] + " " + text[match.end() :]
