"""Which of a tenant's languages a visitor is writing in, for routing to the right agent.

A wrong guess sends a visitor to an agent who cannot read them, while the tenant's
primary language is always staffed; so when lingua is not confident the answer is the
primary language rather than its best guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

# lingua's default is 0.0 (always guess). At 0.25 a two-language detector still
# answers for "hola", "gracias", "price?" but declines "hello"/"info"/"yes" between
# English and Spanish, where its guesses are close to a coin toss.
DEFAULT_MIN_RELATIVE_DISTANCE = 0.25
# Enough text to decide on; bounds the CPU a 4,000-character message can cost.
_MAX_CHARS = 1000


class LanguageDetector:
    """Detects among one tenant's languages; the first one is the fallback.

    Built without preloading, so lingua loads a language's models on the first text
    that needs them; models are shared by every detector in the process.
    """

    def __init__(
        self,
        languages: Sequence[str],
        *,
        min_relative_distance: float = DEFAULT_MIN_RELATIVE_DISTANCE,
    ) -> None:
        tags = list(dict.fromkeys(languages))
        if not tags:
            raise ValueError("a language detector needs at least the tenant's primary language")
        self.primary = tags[0]
        self.languages = tuple(tags)
        self._tags: dict[Language, str] = {}
        for tag in tags:
            language = _lingua_language(tag)
            if language is not None and language not in self._tags:
                self._tags[language] = tag
        # lingua panics (a BaseException) on an empty list, and one language is no choice
        self._lingua = (
            LanguageDetectorBuilder.from_languages(*self._tags)
            .with_minimum_relative_distance(min_relative_distance)
            .build()
            if len(self._tags) >= 2
            else None
        )

    def __repr__(self) -> str:
        return f"LanguageDetector({list(self.languages)!r})"

    def detect(self, text: str) -> str:
        """One of the tenant's tags; CPU-bound (milliseconds), and slow on first use."""
        if self._lingua is None:
            return self.primary
        language = self._lingua.detect_language_of(text[:_MAX_CHARS])
        if language is None:
            return self.primary
        return self._tags.get(language, self.primary)


def _lingua_language(tag: str) -> Language | None:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(tag))
    except ValueError:
        return None


class LanguageDetectors:
    """Detectors by tenant language list, so each combination is built once per process."""

    def __init__(self, *, min_relative_distance: float = DEFAULT_MIN_RELATIVE_DISTANCE) -> None:
        self._min_relative_distance = min_relative_distance
        self._cache: dict[tuple[str, ...], LanguageDetector] = {}

    def get(self, languages: Sequence[str]) -> LanguageDetector:
        key = tuple(languages)
        detector = self._cache.get(key)
        if detector is None:
            detector = LanguageDetector(key, min_relative_distance=self._min_relative_distance)
            self._cache[key] = detector
        return detector
