import pytest

from console.routing.language import LanguageDetector, LanguageDetectors


@pytest.fixture(scope="module")
def detectors() -> LanguageDetectors:
    # lingua keeps loaded models for the whole process; one cache keeps the tests quick
    return LanguageDetectors()


@pytest.fixture(scope="module")
def es_en(detectors: LanguageDetectors) -> LanguageDetector:
    return detectors.get(["es", "en"])


@pytest.fixture(scope="module")
def en_es(detectors: LanguageDetectors) -> LanguageDetector:
    return detectors.get(["en", "es"])


@pytest.mark.parametrize(
    "text",
    [
        "Hola, me interesa la Tacoma 2022",
        "¿Tienen financiamiento para la RAV4?",
        "Buenas tardes, quisiera agendar una prueba de manejo para el sábado.",
        "¿Cuál es el precio final con IVU?",
        "Quiero saber si la Tacoma tiene warranty",
    ],
)
def test_spanish_is_detected_as_es_whatever_the_primary(
    es_en: LanguageDetector, en_es: LanguageDetector, text: str
) -> None:
    assert ("es", "es") == (es_en.detect(text), en_es.detect(text))


@pytest.mark.parametrize(
    "text",
    [
        "Hi, is the Civic still available?",
        "Do you take trade-ins? I have a 2015 Corolla.",
        "What are your hours on Saturday?",
    ],
)
def test_english_is_detected_as_en_whatever_the_primary(
    es_en: LanguageDetector, en_es: LanguageDetector, text: str
) -> None:
    assert ("en", "en") == (es_en.detect(text), en_es.detect(text))


@pytest.mark.parametrize("text", ["", "???", "123", "🚗🚗", "4x4", "   "])
def test_text_without_language_falls_back_to_the_primary(
    es_en: LanguageDetector, en_es: LanguageDetector, text: str
) -> None:
    assert ("es", "en") == (es_en.detect(text), en_es.detect(text))


def test_ambiguous_short_word_falls_back_to_the_primary(en_es: LanguageDetector) -> None:
    # lingua's unrestricted guess for "hello" between these two is Spanish
    assert "en" == en_es.detect("hello")


def test_short_but_clear_words_are_still_detected(en_es: LanguageDetector) -> None:
    assert ["es", "es", "en"] == [en_es.detect(t) for t in ("hola?", "gracias", "thanks")]


def test_tags_lingua_does_not_know_are_skipped(detectors: LanguageDetectors) -> None:
    detector = detectors.get(["es", "xx", "en"])
    assert "en" == detector.detect("Hi, is the Civic still available?")


def test_unknown_primary_is_still_the_fallback(detectors: LanguageDetectors) -> None:
    detector = detectors.get(["haw", "en", "es"])
    spanish, nothing = detector.detect("Hola, me interesa la Tacoma 2022"), detector.detect("")
    assert ("es", "haw") == (spanish, nothing)


@pytest.mark.parametrize("languages", [["es"], ["es", "xx"], ["es", "es"]])
def test_fewer_than_two_supported_languages_always_give_the_primary(
    detectors: LanguageDetectors, languages: list[str]
) -> None:
    assert "es" == detectors.get(languages).detect("Hi, is the Civic still available?")


def test_no_languages_is_refused() -> None:
    with pytest.raises(ValueError, match="at least the tenant's primary language"):
        LanguageDetector([])


def test_long_message_is_decided_by_its_beginning(es_en: LanguageDetector) -> None:
    spanish = "Buenas tardes, quisiera agendar una prueba de manejo para el sábado. " * 20
    english = "Do you take trade-ins? I have a 2015 Corolla with low mileage. " * 60
    assert "es" == es_en.detect((spanish + english)[:4000])


def test_detectors_are_built_once_per_language_list() -> None:
    detectors = LanguageDetectors()
    first = detectors.get(["es", "en"])
    assert first is detectors.get(("es", "en"))
    assert first is not detectors.get(["en", "es"])
    assert "en" == detectors.get(["en", "es"]).primary
