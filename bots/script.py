"""A tenant's chat script: the bot's wording, question flow, hand-off phrases and FAQ.

The script is the tenant's own data (its intellectual property): stored as JSON in
`tenants.bot_script`, exported and imported with the rest of its data, and written by
people, so validation names the field to fix. `load_script(None)` is Charla's default
script (bots/scripts/default.yaml, Spanish and English).
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from rapidfuzz import utils

from bots.registry import BOTS, DEFAULT_BOT
from bots.text import fold

DEFAULT_SCRIPT = Path(__file__).resolve().parent / "scripts" / "default.yaml"

Slot = Literal["interest", "vehicle", "trade_in", "timeframe", "name", "contact"]
HTTPS_ADDRESS = re.compile(r"^https://[^\s\"'<>]+$")
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Line = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Phrase = Annotated[str, StringConstraints(min_length=1, max_length=200)]

# The sentences the qualifier says; each needs a text in every language of the script.
REQUIRED_KEYS = (
    "greeting",
    "greeting_after_hours",
    "ask_interest",
    "ask_vehicle",
    "ask_trade_in",
    "ask_timeframe",
    "ask_name",
    "ask_contact",
    "invalid_phone",
    "invalid_email",
    "not_understood",
    "handoff",
    "handoff_requested",
    "no_agents",
    "after_hours_done",
    "after_hours_contact_needed",
)
# Sentences added since scripts were first written: a script may leave them out, and then
# says Charla's default wording (in the script's languages that the default speaks).
OPTIONAL_KEYS = (
    "greeting_no_agents",
    "no_agents_done",
    "ask_interest_again",
    "ask_vehicle_again",
    "ask_trade_in_again",
    "ask_timeframe_again",
    "ask_name_again",
    "ask_contact_again",
    "foreign_phone",
    "email_typo",
    "link",
    "too_long",
    "ask_appointment",
    "appointment_noted",
    "appointment_closed",
)
MESSAGE_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS


class _Blank(dict[str, str]):
    """Format values where a placeholder the bot did not fill reads as nothing."""

    def __missing__(self, key: str) -> str:
        return ""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Settings(_Model):
    """Tunable limits; defaults suit a dealership's site."""

    bot: str = DEFAULT_BOT
    max_misses: int = Field(default=2, ge=1, le=10)
    max_turns: int = Field(default=20, ge=3, le=100)
    faq_threshold: float = Field(default=85.0, ge=50.0, le=100.0)
    language_min_distance: float = Field(default=0.25, ge=0.0, le=0.99)
    # who the bot speaks as: the dealer's own name unless the script names it ("Lola")
    bot_name: Annotated[str, StringConstraints(min_length=1, max_length=60)] | None = None
    # a picture for the bot's messages in the widget: an https address, or none
    bot_avatar_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    locales: dict[LanguageTag, Annotated[str, StringConstraints(max_length=20)]] = Field(
        default_factory=lambda: {"es": "es_PR", "en": "en_US"}
    )

    def speaker(self, dealer: str) -> str:
        """The name the bot signs its messages with: its own, else the dealer's."""
        return self.bot_name or dealer

    @field_validator("bot")
    @classmethod
    def _known_bot(cls, name: str) -> str:
        if name not in BOTS:
            raise ValueError(f"unknown bot {name!r}; known: {', '.join(sorted(BOTS))}")
        return name

    @field_validator("bot_avatar_url")
    @classmethod
    def _https_address(cls, url: str | None) -> str | None:
        # said for the admin who typed it, not as a regular expression
        if url is not None and not HTTPS_ADDRESS.match(url):
            raise PydanticCustomError(
                "https_address",
                "must be an https:// address without spaces or quotes, "
                "such as https://dealer.example/lola.png",
            )
        return url


class FaqEntry(_Model):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    questions: dict[LanguageTag, list[Phrase]]
    answers: dict[LanguageTag, Line]


class Script(_Model):
    version: Literal[1] = 1
    languages: list[LanguageTag] = Field(min_length=1, max_length=10)
    settings: Settings = Field(default_factory=Settings)
    flow: list[Slot] = Field(min_length=2)
    messages: dict[str, dict[LanguageTag, Line]]
    handoff_phrases: dict[LanguageTag, list[Phrase]]
    faq: list[FaqEntry] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _complete(self) -> Script:
        for needed in ("name", "contact"):
            if needed not in self.flow:
                raise ValueError(f"flow must include {needed!r}: a lead needs a name and a contact")
        if len(set(self.flow)) != len(self.flow):
            raise ValueError("flow lists a step twice")
        unknown = sorted(set(self.messages) - set(MESSAGE_KEYS))
        if unknown:
            raise ValueError(
                f"messages: unknown key {unknown[0]!r}; known: {', '.join(MESSAGE_KEYS)}"
            )
        for key in REQUIRED_KEYS:
            texts = self.messages.get(key)
            if texts is None:
                raise ValueError(f"messages.{key} is missing")
            for language in self.languages:
                if language not in texts:
                    raise ValueError(f"messages.{key} has no {language!r} text")
        for index, entry in enumerate(self.faq):
            for language in self.languages:
                if language not in entry.answers:
                    raise ValueError(f"faq[{index}] ({entry.id}) has no {language!r} answer")
            if not any(entry.questions.values()):
                raise ValueError(f"faq[{index}] ({entry.id}) has no question")
        return self

    @cached_property
    def faq_variants(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """Every FAQ question variant, folded for matching, and its entry's index."""
        texts: list[str] = []
        owners: list[int] = []
        for index, entry in enumerate(self.faq):
            for questions in entry.questions.values():
                for question in questions:
                    texts.append(utils.default_process(fold(question)))
                    owners.append(index)
        return tuple(texts), tuple(owners)

    @cached_property
    def folded_handoff_phrases(self) -> tuple[str, ...]:
        return tuple(fold(p) for phrases in self.handoff_phrases.values() for p in phrases)

    def text(self, key: str, language: str, **values: str) -> str:
        """A message in the language, else in the script's first language; a sentence the
        script leaves out (OPTIONAL_KEYS) in Charla's default wording."""
        texts = self.messages.get(key) or default_script().messages[key]
        template = texts.get(language) or texts.get(self.languages[0]) or next(iter(texts.values()))
        for name, value in values.items():
            if not value:  # "¡Gracias, {name}!" without a name: "¡Gracias!"
                template = re.sub(rf"[,\s]*\{{{name}\}}", "", template)
        # "9:00 a. m." at the end of a sentence must not end in "m.."
        try:
            filled = template.format_map(_Blank(values))
        except (ValueError, IndexError, AttributeError):  # a stray brace in a tenant's text
            filled = template
        return re.sub(r"(?<=\w)\.\.(?!\.)", ".", filled)

    def to_data(self) -> dict[str, Any]:
        """JSON-ready, as stored in tenants.bot_script and exported."""
        return self.model_dump(mode="json")


def load_script(data: object) -> Script:
    """A validated script from stored or imported data; None means Charla's default.

    Raises pydantic's ValidationError (a ValueError) that says which field is wrong.
    """
    if data is None:
        return default_script()
    return Script.model_validate(data)


@cache
def default_script() -> Script:
    return Script.model_validate(yaml.safe_load(DEFAULT_SCRIPT.read_text(encoding="utf-8")))


def load_yaml(text: str) -> Script:
    """A script written as YAML by a tenant's admin."""
    return load_script(yaml.safe_load(text))
