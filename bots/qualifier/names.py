"""A person's name as a CRM wants it: given names and surnames apart.

"Ángel Luis Rosa" is Ángel Luis, of the Rosa family; "Luis Pérez Rivera" is Luis, of the
Pérez Rivera family; "María de los Ángeles Torres" is María de los Ángeles. The words
that may come second in a compound given name are data (names.yaml beside this module).
"""

from __future__ import annotations

import re

from bots.qualifier.data import load, words
from bots.qualifier.vehicles import MAKES, MODELS
from bots.text import fold, has_phrase

_NAMES = load("names.yaml")
SECOND_GIVEN = frozenset(words(_NAMES["second_given"], "second_given"))
PARTICLES = frozenset(words(_NAMES["particles"], "particles"))


def tidy(word: str) -> str:
    """A name word as written, or capitalised when typed all in one case ("kevin",
    "KEVIN" -> "Kevin"); particles stay in lower case ("de los")."""
    if fold(word) in PARTICLES:
        return word.lower()
    if word.islower() or word.isupper():
        return "-".join(part[:1].upper() + part[1:].lower() for part in word.split("-"))
    return word


def split_name(parts: list[str]) -> tuple[str | None, str | None]:
    """(given names, surnames) of a name's words, in the order typed."""
    parts = [tidy(p) for p in parts if p]
    if not parts:
        return None, None
    given = [parts[0]]
    rest = parts[1:]
    while rest:
        # "de los Ángeles": particles joining a second given name
        particles = 0
        while particles < len(rest) and fold(rest[particles]) in PARTICLES:
            particles += 1
        if particles and particles < len(rest) and len(rest) - particles - 1 >= 1:
            joined = rest[particles]
            if fold(joined) in SECOND_GIVEN or fold(joined) in {"angeles", "carmen", "pilar"}:
                given.extend(rest[: particles + 1])
                rest = rest[particles + 1 :]
                continue
        # "Ángel Luis Rosa": a second given name, when a surname still follows or when the
        # two words are all there is ("Juan Carlos")
        if not particles and fold(rest[0]) in SECOND_GIVEN and (len(rest) >= 2 or len(parts) == 2):
            if len(parts) == 2 and fold(parts[0]) not in SECOND_GIVEN:
                break  # "Kevin Luis": a surname, not a second given name
            given.append(rest[0])
            rest = rest[1:]
            continue
        break
    first = " ".join(given)
    last = " ".join(rest) or None
    return first, last


# -- finding a name in a message -----------------------------------------------------------

_PHRASES = load("phrases.yaml")


def _single_words(value: object) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= _single_words(item)
    elif isinstance(value, list):
        found |= {w for w in value if isinstance(w, str) and " " not in w}
    return found


# what follows "soy" or "I'm" without being a name: the word lists' own words (interest,
# timeframe, condition...), and the common words listed as not_names
EXPLICIT_NOT_NAMES = frozenset(words(_PHRASES["not_names"], "not_names"))
COMMON_WORDS = frozenset(
    _single_words({k: v for k, v in _PHRASES.items() if k != "not_names"})
    | set(words(_PHRASES["not_names"], "not_names"))
)
_VEHICLE_WORDS = frozenset(fold(w) for w in (*MAKES, *MODELS))
NOT_NAMES = COMMON_WORDS | _VEHICLE_WORDS

_PHRASE_LISTS = tuple(
    phrase
    for key in ("interest", "timeframe", "condition")
    for listed in _PHRASES[key].values()
    for phrase in listed
)


def _says_something_else(folded: str) -> bool:
    """Whether a short answer is a timeframe, an interest or a condition, not a name."""
    return has_phrase(folded, _PHRASE_LISTS)


_NAME_WORD = re.compile(r"^[^\W\d_][\w'\u2019\-]*$")
# cues that are followed by a name whatever its case, and cues that need a capital or a
# short name that ends the sentence ("soy ana", but not "soy de Bayamón", "I'm ready")
_STRONG_CUE = re.compile(
    r"(?i:\bme llamo|\bmi nombre es|\bmy name is|\bmy name's|\bname's|\bname is|\bnombre:|"
    r"\bname:|\bmi nombre:)\s+"
)
_WEAK_CUE = re.compile(r"(?i:\bsoy|\bi'm|\bi\u2019m|\bim|\bi am)\s+")
# "It's Melissa Ayala" but not "it's paid off": a capital letter is needed after these
_CAPITAL_CUE = re.compile(r"(?i:\bthis is|\bit's|\bit\u2019s|\bit is|\ble habla|\bhabla)\s+")
# a stop ends the name, but not the dot of an initial ("A. Rivera", "Ana R.")
_STOP = re.compile(r"[,;:!?¡¿()\"\n]|(?<!\b[^\W\d_])\.|\s[-\u2013\u2014]\s")
_INITIAL = re.compile(r"^[^\W\d_]\.$")
MAX_NAME_WORDS = 5


def _name_words(text: str, *, allow_vehicle_words: bool = False) -> list[str]:
    """The name words at the start of `text`, up to a punctuation mark or a word that is
    not a name."""
    stop = _STOP.search(text)
    words_ = (text[: stop.start()] if stop else text).split()
    taken: list[str] = []
    blocked = COMMON_WORDS if allow_vehicle_words else NOT_NAMES
    for word in words_[:MAX_NAME_WORDS]:
        folded = fold(word)
        if folded in PARTICLES and taken:
            taken.append(word)
            continue
        if _INITIAL.match(word):  # "A." of "A. Rivera"
            taken.append(word.upper())
            continue
        if not _NAME_WORD.match(word) or folded in blocked or len(word) < 2:
            break
        taken.append(word)
    while taken and fold(taken[-1]) in PARTICLES:
        taken.pop()
    return taken


def _ends_sentence(text: str, taken: list[str]) -> bool:
    """Whether the words taken are all there is up to a punctuation mark or the end."""
    stop = _STOP.search(text)
    return len((text[: stop.start()] if stop else text).split()) == len(taken)


def find_name(text: str) -> tuple[str | None, str | None]:
    """A name introduced as one ("me llamo Ana Rivera", "I'm Kevin", "soy ana")."""
    for match in _STRONG_CUE.finditer(text):
        taken = _name_words(text[match.end() :])
        if taken:
            return split_name(taken)
    cues = [(m, False) for m in _WEAK_CUE.finditer(text)]
    cues += [(m, True) for m in _CAPITAL_CUE.finditer(text)]
    for match, capital_needed in sorted(cues, key=lambda cue: cue[0].start()):
        after = text[match.end() :]
        taken = _name_words(after)
        if not taken or (capital_needed and not taken[0][:1].isupper()):
            continue
        if taken[0][:1].isupper() or (len(taken) <= 3 and _ends_sentence(after, taken)):
            if taken[0][:1].isupper():
                # "I'm Ashley Figueroa and I want...": stop at the first lower-case word
                capital = [w for w in taken if w[:1].isupper() or fold(w) in PARTICLES]
                taken = capital if len(capital) == len(taken) else _leading_capitals(taken)
            return split_name(taken)
    return None, None


def _leading_capitals(taken: list[str]) -> list[str]:
    kept: list[str] = []
    for word in taken:
        if word[:1].isupper() or (fold(word) in PARTICLES and kept):
            kept.append(word)
        else:
            break
    return kept


_SURNAME_FIRST = re.compile(r"^([^\W\d_][\w'\-]+),\s*([^\W\d_][\w'\-]+)$")
_FILLERS = re.compile(
    r"^(?i:(?:(?:hola|hi|hello|hey|ok|okay|claro|sure|yes|si|sí|mi nombre|name)[\s,.!:]+|"
    # words that are names too ("Dale Thibodeaux") only with a comma: "dale, Ana Rivera"
    r"(?:dale|pues|bueno|ya|es)[,.!:]\s*|"
    # a title is no part of the name: "Sra. Nilda Rosario"
    r"(?:sr|sra|srta|don|doña|dona|dr|dra|mr|mrs|ms|miss|lcdo|lcda|ing)\.?\s+))+"
)


# a nickname in quotes or brackets is no part of the name: "Roberto 'Bobby' Santana"
_NICKNAME = re.compile(r"\s['\"\u2018\u201c(][^'\"\u2019\u201d)]{1,20}['\"\u2019\u201d)]\s")


def bare_name(text: str) -> tuple[str | None, str | None]:
    """A message that is only a name ("Ana Rivera", "kevin matos"), as the answer to
    "what is your name?": here a make ("Mercedes") may be a name too."""
    if "?" in text or "¿" in text:
        return None, None  # a question is not a name
    text = _NICKNAME.sub(" ", f" {text} ").strip()
    reversed_ = _SURNAME_FIRST.match(text.strip(" .!"))
    if reversed_ and not _says_something_else(fold(text)):  # "Cintrón, Wilfredo"
        last, first = (tidy(w) for w in reversed_.groups())
        if fold(first) not in NOT_NAMES and fold(last) not in NOT_NAMES:
            return first, last
    cleaned = _FILLERS.sub("", text.strip()).strip(" ,!¡")
    if not re.search(r"\b[^\W\d_]\.$", cleaned):  # keep the dot of "Ana R."
        cleaned = cleaned.rstrip(" .")
    if not cleaned or re.search(r"\d", cleaned) or _says_something_else(fold(cleaned)):
        return None, None
    taken = _name_words(cleaned, allow_vehicle_words=True)
    words_ = cleaned.split()
    if len(taken) != len(words_) and _all_capitals(words_):
        # "Dale Thibodeaux", "Bueno Rivera": capitalised, a name even if its words are words
        taken = [w for w in words_ if _NAME_WORD.match(w) and fold(w) not in EXPLICIT_NOT_NAMES]
    if not taken or len(taken) != len(words_):
        return None, None
    return split_name(taken)


def _all_capitals(words_: list[str]) -> bool:
    return (
        len(words_) >= 2
        and all(w[:1].isupper() or fold(w) in PARTICLES for w in words_)
        and not all(w.isupper() for w in words_)
    )


_SURNAME_CUE = re.compile(r"(?i:\bapellidos?|\blast name|\bsurname|\bfamily name)\s*[:\-]?\s+")


def find_surname(text: str) -> str | None:
    """A surname given with its label ("Apellidos: Ocasio Meléndez", "Last name: Cruz")."""
    match = _SURNAME_CUE.search(text)
    if not match:
        return None
    taken = _name_words(text[match.end() :], allow_vehicle_words=True)
    return " ".join(tidy(w) for w in taken) or None
