"""A bot by the name a tenant's script gives it (the names: bots/registry.py)."""

from __future__ import annotations

import importlib
from functools import cache

from bots.base import Bot
from bots.registry import BOTS


@cache
def get_bot(name: str) -> Bot:
    """The (stateless, shareable) bot registered under `name`; KeyError if none is."""
    module_name, _, class_name = BOTS[name].partition(":")
    bot_class = getattr(importlib.import_module(module_name), class_name)
    bot = bot_class()
    if not isinstance(bot, Bot):
        raise TypeError(f"{BOTS[name]} is not a bots.base.Bot")
    return bot
