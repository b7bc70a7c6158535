"""FAQ answers: a visitor's question matched against a tenant's question variants.

Matching is fuzzy (rapidfuzz) so that "a q hora abren?" finds "a qué hora abren", but
only above the script's threshold: a wrong answer is worse than going on with the flow.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bots.script import FaqEntry, Script
from bots.text import fold


@dataclass(frozen=True)
class FaqHit:
    entry: FaqEntry
    score: float
    answer: str


def _score(query: str, choice: str, **_: object) -> float:
    # token_set_ratio alone scores a one-word message that is part of a variant at 100
    # ("trade in" vs "aceptan trade in"); averaging with the plain ratio asks for more.
    return (fuzz.token_set_ratio(query, choice) + fuzz.ratio(query, choice)) / 2


def match_faq(script: Script, text: str, language: str) -> FaqHit | None:
    """The best entry above the threshold, answered in `language` (else the first one)."""
    texts, owners = script.faq_variants
    if not texts:
        return None
    query = utils.default_process(fold(text))
    if not query:
        return None
    best = process.extractOne(
        query, texts, scorer=_score, score_cutoff=script.settings.faq_threshold
    )
    if best is None:
        return None
    _text, score, position = best
    entry = script.faq[owners[position]]
    answer = entry.answers.get(language) or entry.answers[script.languages[0]]
    return FaqHit(entry=entry, score=float(score), answer=answer)
