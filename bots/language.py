"""Which of the tenant's languages the bot should speak.

lingua, restricted to the tenant's languages, answers only when confident (a minimum
relative distance); otherwise the browser's language if the tenant serves it, then the
tenant's primary language. Unlike the hub's routing detector, "not sure" is kept apart
from the primary language, so the browser's language gets its turn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import yaml
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from bots.text import fold

_MAX_CHARS = 1000


@cache
def _detector(
    tags: tuple[str, ...], min_distance: float
) -> tuple[LanguageDetector | None, dict[Language, str]]:
    known: dict[Language, str] = {}
    for tag in tags:
        try:
            known.setdefault(Language.from_iso_code_639_1(IsoCode639_1.from_str(tag)), tag)
        except ValueError:
            continue
    if len(known) < 2:
        return None, known
    detector = (
        LanguageDetectorBuilder.from_languages(*known)
        .with_minimum_relative_distance(min_distance)
        .build()
    )
    return detector, known


def detect_confident(text: str, languages: Sequence[str], min_distance: float) -> str | None:
    """One of `languages` when lingua is confident, else None."""
    detector, known = _detector(tuple(languages), min_distance)
    if detector is None:
        return None
    found = detector.detect_language_of(text[:_MAX_CHARS])
    return known.get(found) if found is not None else None


# Words that only one of Spanish and English uses, for the short messages where lingua
# hesitates ("hello, i want to buy a car" is 0.57 English to it): a vote between the two
_WORDS = yaml.safe_load(
    (Path(__file__).resolve().parent / "language_words.yaml").read_text(encoding="utf-8")
)
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    tag: frozenset(map(str, listed)) for tag, listed in _WORDS["function_words"].items()
}
VOTE_MARGIN = 2


def vote(text: str, languages: Sequence[str], margin: int = VOTE_MARGIN) -> str | None:
    """Spanish or English by their function words, when one leads by `margin` words and
    the tenant speaks both; None otherwise."""
    if not {"es", "en"} <= set(languages):
        return None
    words = re.findall(r"[a-z']+", fold(text))
    counts = {tag: sum(word in listed for word in words) for tag, listed in _FUNCTION_WORDS.items()}
    # a greeting alone ("Hello", "Hola") tells the language by its one word
    needed = 1 if len(words) <= 2 else margin
    if counts["en"] - counts["es"] >= needed:
        return "en"
    if counts["es"] - counts["en"] >= needed:
        return "es"
    return None


def choose_language(
    text: str,
    languages: Sequence[str],
    *,
    browser_language: str | None,
    min_distance: float,
) -> str:
    detected = vote(text, languages) or detect_confident(text, languages, min_distance)
    if detected is not None:
        return detected
    if browser_language:
        tag = browser_language.lower().split("-")[0]
        if tag in languages:
            return tag
    return languages[0]


_NOT_LANGUAGE = re.compile(r"\S+@\S+|https?://\S+|\S*\d\S*")
_WORD = re.compile(r"[^\W\d_][\w'-]*")


def language_evidence(text: str) -> str:
    """The words of `text` that tell its language: e-mails, links, numbers and names
    (capitalised words after the first) say nothing about it and fool the detector."""
    words = _WORD.findall(_NOT_LANGUAGE.sub(" ", text))
    return " ".join(word for i, word in enumerate(words) if i == 0 or not word[:1].isupper())
