"""The bots Charla can run, by name: a tenant's script names its bot (`settings.bot`).

Entries are import paths resolved on first use (bots/loader.py), so the script format can
check a name without importing every bot, and a new bot is one line here.
"""

from __future__ import annotations

BOTS: dict[str, str] = {
    "lead_qualifier": "bots.qualifier.bot:LeadQualifier",
}
DEFAULT_BOT = "lead_qualifier"
