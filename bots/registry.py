"""The bots Charla can run, by name: a tenant's script names its bot (`settings.bot`).

Entries are import paths resolved on first use, so the script format can check a name
without importing every bot, and a new bot is one line here.
"""

from __future__ import annotations

import importlib
from functools import cache

from bots.base import Bot

BOTS: dict[str, str] = {
    "lead_qualifier": "bots.qualifier.bot:LeadQualifier",
}
DEFAULT_BOT = "lead_qualifier"


@cache
def get_bot(name: str) -> Bot:
    """The (stateless, shareable) bot registered under `name`; KeyError if none is."""
    module_name, _, class_name = BOTS[name].partition(":")
    bot_class = getattr(importlib.import_module(module_name), class_name)
    bot = bot_class()
    if not isinstance(bot, Bot):
        raise TypeError(f"{BOTS[name]} is not a bots.base.Bot")
    return bot
