"""A chat's transcript as plain text for a CRM (a Salesforce Task, an ADF comment).

Text was redacted (card numbers) by the hub before it was stored, so what is rendered here is
what may leave. Times are shown in the dealer's own time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from integrations.base import TranscriptLine

AUTHOR_LABELS = {"visitor": "Visitor", "agent": "Agent", "bot": "Bot", "system": "System"}
TRUNCATED = "[... earlier messages left out ...]\n"


def render(lines: Iterable[TranscriptLine], timezone: str, *, max_chars: int = 32000) -> str:
    """One line per message, oldest first; when too long, the newest messages are kept."""
    zone = ZoneInfo(timezone)
    rendered = []
    for line in lines:
        stamp = line.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        who = AUTHOR_LABELS.get(line.author, line.author.title())
        if line.author_name and line.author in ("agent", "bot"):
            who = f"{who} ({line.author_name})"
        rendered.append(f"[{stamp}] {who}: {line.text}")
    text = "\n".join(rendered)
    if len(text) <= max_chars:
        return text
    budget = max_chars - len(TRUNCATED)
    return TRUNCATED + text[len(text) - budget :]


def summary(lines: Iterable[TranscriptLine], *, max_chars: int = 1000) -> str:
    """What the visitor said, in a few lines: enough for a salesperson's first call."""
    said = " / ".join(line.text.strip() for line in lines if line.author == "visitor")
    if len(said) <= max_chars:
        return said
    return said[: max_chars - 1].rstrip() + "…"
