"""The bot interface: one conversation event and its context in, replies and results out.

A bot is pure: it does no I/O, keeps no state of its own between calls and reads the
clock only through `context.now`, so a conversation can be replayed from its transcript
(that is how a chat's bot state survives a hub restart) and tested as text in, replies out.
The hub side (console/hub/bots.py) stores and delivers the replies and acts on the
results: it saves the lead, queues the chat for a human, or files a ticket.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bots.script import Script
from console.contract.hours import Schedule

EventKind = Literal["start", "open", "message"]
HandoffReason = Literal["qualified", "requested", "not_understood"]


@dataclass(frozen=True)
class BotEvent:
    """`start`: the visitor's first message opens the chat; `open`: the visitor accepted an
    invitation, so the chat opens before they write (no text: the bot greets first);
    `message`: any later message."""

    kind: EventKind
    text: str


@dataclass(frozen=True)
class VisitorInfo:
    """What the visitor told the widget before the chat (start_chat's contact fields)."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class BotContext:
    """All a bot knows besides the event: the tenant (plan, languages, hours, script), the
    moment (`now`, the only clock a bot reads), the visitor, and what the bot itself
    returned last time (`state`)."""

    tenant_id: str
    plan: str
    languages: tuple[str, ...]
    schedule: Schedule
    now: datetime
    script: Script
    browser_language: str | None = None
    visitor: VisitorInfo = field(default_factory=VisitorInfo)
    # The languages whose chats an agent could take now (the hub applies the plan's
    # routing rules: below premium every chat queues in the primary language).
    served_languages: frozenset[str] = frozenset()
    state: Mapping[str, Any] = field(default_factory=dict)
    # the dealer the bot speaks for ("Soy el asistente virtual de Autos Borinquen")
    dealer_name: str = ""

    def can_hand_off(self, language: str) -> bool:
        return language in self.served_languages


@dataclass(frozen=True)
class BotResult:
    """The bot's answer: the replies to send, the language spoken, the state to give it
    next time, and its results for the hub: a lead, a hand-off or a ticket (below)."""

    replies: tuple[str, ...]
    language: str
    state: dict[str, Any]
    lead: dict[str, Any] | None = None
    handoff: Handoff | None = None
    ticket: TicketRequest | None = None


@dataclass(frozen=True)
class TicketRequest:
    """Nobody can take the chat now: file a ticket (reason as the hub's: "after_hours",
    "holiday", "no_agents") and close the chat."""

    reason: str
    text: str


@dataclass(frozen=True)
class Handoff:
    """Put the chat in the queue of `language` for a human."""

    reason: HandoffReason
    language: str


class Bot(ABC):
    """A conversation handler; the built-in lead qualifier is one like any other."""

    name: str = "bot"

    @abstractmethod
    def respond(self, event: BotEvent, context: BotContext) -> BotResult:
        """The bot's answer to one event; `context.state` is what it returned last time."""

    def correct(self, text: str, lead: Mapping[str, Any]) -> dict[str, Any] | None:
        """After the hand-off, a visitor's message that corrects how to reach them ("sorry,
        it's 787-555-0192"): the lead corrected, or None. Nothing by default."""
        return None

    def on_leave(self, context: BotContext) -> BotResult:
        """The visitor left before the bot finished: what to keep (a lead, a ticket).
        Nothing by default."""
        return BotResult(replies=(), language=context.languages[0], state=dict(context.state))
