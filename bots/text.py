"""Text normalisation shared by the bots: matching ignores case and accents.

Visitors type "telefono" as often as "teléfono"; every keyword and FAQ match runs on
the folded form, while values (names, e-mails) are taken from the original text.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case, no accents, single spaces: "¿Teléfono?" -> "¿telefono?"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped).strip()


def has_phrase(folded: str, phrases: list[str] | tuple[str, ...]) -> bool:
    """Whether one of the (already folded) phrases occurs as whole words."""
    return any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", folded) for p in phrases)
