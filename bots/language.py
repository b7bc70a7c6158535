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

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

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


def choose_language(
    text: str,
    languages: Sequence[str],
    *,
    browser_language: str | None,
    min_distance: float,
) -> str:
    detected = detect_confident(text, languages, min_distance)
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
