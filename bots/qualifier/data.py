"""The qualifier's word lists are data, in YAML files beside this module (vehicles.yaml,
phrases.yaml), read once at import: a bot does no I/O while it answers.

The readers check the shapes, so that a word YAML reads as something else (an unquoted
`no` is false, `1500` a number) stops the import instead of never matching.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

_HERE = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict[str, Any]:
    """The mapping in the data file `name` (read once however many modules ask)."""
    data = yaml.safe_load((_HERE / name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise TypeError(f"{name}: a mapping at the top")
    return data


def words(value: object, where: str) -> tuple[str, ...]:
    """A list of strings, as a tuple."""
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        raise TypeError(f"{where}: a list of strings (quote yes, no and numbers)")
    return tuple(value)


def table(value: object, where: str) -> dict[str, tuple[str, ...]]:
    """A mapping from names to lists of strings, in the file's order."""
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise TypeError(f"{where}: a mapping from names (strings) to lists")
    return {key: words(items, f"{where}.{key}") for key, items in value.items()}


def numbers(value: object, where: str) -> dict[str, int]:
    """A mapping from words to whole numbers."""
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(number, int) for key, number in value.items()
    ):
        raise TypeError(f"{where}: a mapping from words to whole numbers")
    return dict(value)
