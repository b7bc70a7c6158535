"""Run a bot over a scripted conversation in memory: text in, replies out (errbot's
`testbot` is the model). Used by tests/bots and handy for checking a tenant's script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bots.base import (
    Bot,
    BotContext,
    BotEvent,
    BotResult,
    EventKind,
    Handoff,
    TicketRequest,
    VisitorInfo,
)
from bots.loader import get_bot
from bots.script import Script, default_script
from console.contract.hours import Schedule

# A Tuesday, 10:00 in San Juan: open under the usual dealer hours.
OPEN_MOMENT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
DEALER_HOURS = {
    "mon": [["09:00", "18:00"]],
    "tue": [["09:00", "18:00"]],
    "wed": [["09:00", "18:00"]],
    "thu": [["09:00", "18:00"]],
    "fri": [["09:00", "18:00"]],
    "sat": [["09:00", "13:00"]],
}


class TestBot:
    """One conversation with a bot; the first `push` opens the chat."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        bot: Bot | None = None,
        *,
        script: Script | None = None,
        plan: str = "premium",
        languages: Sequence[str] = ("es", "en"),
        timezone: str = "America/Puerto_Rico",
        hours: dict[str, Any] | None = None,
        holidays: str | None = "PR",
        now: datetime = OPEN_MOMENT,
        browser_language: str | None = None,
        agents_available: bool = True,
        served_languages: frozenset[str] | None = None,
        visitor: VisitorInfo | None = None,
        dealer: str = "Autos Borinquen",
    ) -> None:
        script = script or default_script()
        self.bot = bot or get_bot(script.settings.bot)
        self.context = BotContext(
            tenant_id="tenant-test",
            plan=plan,
            languages=tuple(languages),
            schedule=Schedule(timezone=timezone, hours=hours or DEALER_HOURS, holidays=holidays),
            now=now,
            script=script,
            browser_language=browser_language,
            visitor=visitor or VisitorInfo(),
            dealer_name=dealer,
            served_languages=(
                served_languages
                if served_languages is not None
                else frozenset(languages)
                if agents_available
                else frozenset()
            ),
        )
        self.results: list[BotResult] = []

    def open(self) -> BotResult:
        """The visitor accepts an invitation: the bot speaks first."""
        return self._event("open", "")

    def push(self, text: str) -> BotResult:
        return self._event("message" if self.results else "start", text)

    def _event(self, kind: EventKind, text: str) -> BotResult:
        state = self.results[-1].state if self.results else {}
        result = self.bot.respond(
            BotEvent(kind=kind, text=text), replace(self.context, state=state)
        )
        self.results.append(result)
        return result

    def say(self, text: str) -> list[str]:
        """The bot's replies to one visitor message."""
        return list(self.push(text).replies)

    @property
    def last(self) -> BotResult:
        return self.results[-1]

    @property
    def lead(self) -> dict[str, Any] | None:
        return next((r.lead for r in reversed(self.results) if r.lead is not None), None)

    @property
    def handoff(self) -> Handoff | None:
        return self.last.handoff

    @property
    def ticket(self) -> TicketRequest | None:
        return self.last.ticket

    @property
    def asked(self) -> str | None:
        return self.last.state.get("asked")
