"""The lead qualifier: learns what a visitor wants and how to reach them, then hands off.

It asks the script's questions in order but takes any field from any message, so a
visitor who says everything at once is asked nothing twice. It never traps anyone: a
request for a person is honoured at once, and `max_misses` turns in a row that it does
not understand end its part (a hand-off, or a ticket when nobody can take the chat).
Outside opening hours (premium) it qualifies the lead, promises a callback at the next
opening and files a ticket.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from dataclasses import fields as fields_of
from typing import Any

from bots.base import (
    Bot,
    BotContext,
    BotEvent,
    BotResult,
    Handoff,
    HandoffReason,
    TicketRequest,
)
from bots.callback import say_opening
from bots.faq import match_faq
from bots.language import choose_language, detect_confident, language_evidence
from bots.qualifier.data import load, table
from bots.qualifier.extract import Extracted, TradeIn, Vehicle, bare_name, extract, lone_year
from bots.script import Script
from bots.text import fold, has_phrase
from console.contract.plans import allows
from console.domain.contact import normalize_email

# Words of language evidence a message needs before the bot changes its language
MIN_SWITCH_WORDS = 3
# short answers, read at the start of a message (phrases.yaml)
_ANSWERS = table(load("phrases.yaml")["answers"], "answers")
_YES, _NO, _DONT_KNOW = _ANSWERS["yes"], _ANSWERS["no"], _ANSWERS["dont_know"]
_TRADE_IN_INTERESTS = frozenset({"buy", "lease", "finance"})


def _starts_with(folded: str, words: tuple[str, ...]) -> bool:
    cleaned = re.sub(r"^[\W_]+", "", folded)
    return any(re.match(rf"{re.escape(w)}(?!\w)", cleaned) for w in words)


class LeadQualifier(Bot):
    name = "lead_qualifier"

    def respond(self, event: BotEvent, context: BotContext) -> BotResult:
        script = context.script
        state = _State.load(context.state)
        if state.done:
            return BotResult(
                replies=(), language=state.language or context.languages[0], state=state.dump()
            )
        replies: list[str] = []
        if event.kind == "start" or not state.language:
            state.language = choose_language(
                event.text,
                context.languages,
                browser_language=context.browser_language,
                min_distance=script.settings.language_min_distance,
            )
            state.mode, state.closed_reason = _mode(context)
            state.prefill(context)
            if state.mode == "after_hours":
                replies.append(
                    script.text(
                        "greeting_after_hours", state.language, opening=_opening(context, state)
                    )
                )
            else:
                replies.append(script.text("greeting", state.language))
        # a short answer ("no", "Ana", a phone) says nothing about the language, nor do
        # names, numbers and addresses ("Soy Ana Rivera, 787-555-0123, ana@x.com")
        elif len((evidence := language_evidence(event.text)).split()) >= MIN_SWITCH_WORDS:
            switched = detect_confident(
                evidence, context.languages, script.settings.language_min_distance
            )
            state.language = switched or state.language
        language = state.language
        state.turns += 1

        folded = fold(event.text)
        found = extract(event.text)
        answered = state.answer_asked(event.text, folded, found)
        progressed = state.absorb(found) or answered

        if has_phrase(folded, script.folded_handoff_phrases):
            state.wants_human = True
            return self._human(context, state, replies, reason="requested")

        if found.bad_phone and not found.phone and not state.fields.get("phone"):
            replies.append(script.text("invalid_phone", language, value=found.bad_phone))
            return self._reply(state, replies)
        if found.bad_email and not found.email and not state.fields.get("email"):
            replies.append(script.text("invalid_email", language, value=found.bad_email))
            return self._reply(state, replies)

        faq = match_faq(script, event.text, language)
        if faq is not None:
            replies.append(faq.answer)
            progressed = True

        if state.wants_human and state.has_contact():
            return self._human(context, state, replies, reason="requested")

        if event.kind == "message" and not progressed:
            state.misses += 1
            if state.misses >= script.settings.max_misses:
                replies.append(script.text("not_understood", language))
                return self._human(context, state, replies, reason="not_understood")
            replies.append(script.text("not_understood", language))
        elif progressed:
            state.misses = 0
        if state.turns >= script.settings.max_turns:
            return self._human(context, state, replies, reason="not_understood")

        slot = state.next_slot(script)
        if slot is None:
            return self._qualified(context, state, replies)
        state.asked = slot
        replies.append(script.text(f"ask_{slot}", language))
        return self._reply(state, replies)

    def on_leave(self, context: BotContext) -> BotResult:
        """A visitor who left after giving a name and a way to call them is still a lead."""
        state = _State.load(context.state)
        language = state.language or context.languages[0]
        lead = None
        if state.has_lead() and not state.done:
            lead = state.lead(qualified=state.is_qualified())
            lead["notes"] = " ".join(
                filter(None, [lead.get("notes"), "The visitor left before the hand-off."])
            )
        state.done = True
        return BotResult(replies=(), language=language, state=state.dump(), lead=lead)

    # -- endings ---------------------------------------------------------------------------

    def _reply(self, state: _State, replies: list[str]) -> BotResult:
        return BotResult(replies=tuple(replies), language=state.language, state=state.dump())

    def _qualified(self, context: BotContext, state: _State, replies: list[str]) -> BotResult:
        script = context.script
        language = state.language
        lead = state.lead(qualified=True)
        if state.mode == "after_hours":
            replies.append(_after_hours_done(context, state))
            return self._end(state, replies, lead, ticket=state.closed_reason or "after_hours")
        if not context.can_hand_off(language):
            replies.append(script.text("no_agents", language))
            return self._end(state, replies, lead, ticket="no_agents")
        replies.append(script.text("handoff", language, name=state.name))
        return self._end(state, replies, lead, handoff="qualified")

    def _human(
        self, context: BotContext, state: _State, replies: list[str], *, reason: HandoffReason
    ) -> BotResult:
        """The visitor asked for a person, or the bot gave up: a person now if one can
        take the chat; otherwise a ticket (asking first for a way to call them back)."""
        script = context.script
        language = state.language
        lead = state.lead(qualified=state.is_qualified()) if state.has_lead() else None
        if state.mode == "open" and context.can_hand_off(language):
            replies.append(script.text("handoff_requested", language))
            return self._end(state, replies, lead, handoff=reason)
        if not state.has_contact() and reason == "requested":
            state.asked = "contact"
            if state.mode == "after_hours":
                replies.append(
                    script.text(
                        "after_hours_contact_needed", language, opening=_opening(context, state)
                    )
                )
            else:
                replies.append(script.text("no_agents", language))
                replies.append(script.text("ask_contact", language))
            return self._reply(state, replies)
        if state.mode == "after_hours":
            if state.has_contact():
                replies.append(_after_hours_done(context, state))
            else:
                replies.append(script.text("no_agents", language))
            return self._end(state, replies, lead, ticket=state.closed_reason or "after_hours")
        replies.append(script.text("no_agents", language))
        return self._end(state, replies, lead, ticket="no_agents")

    def _end(
        self,
        state: _State,
        replies: list[str],
        lead: dict[str, Any] | None,
        *,
        handoff: HandoffReason | None = None,
        ticket: str | None = None,
    ) -> BotResult:
        """The bot's last turn: the lead, and the chat to a person now (`handoff`, why) or
        a ticket (`ticket`, its reason)."""
        state.done = True
        return BotResult(
            replies=tuple(replies),
            language=state.language,
            state=state.dump(),
            lead=lead,
            handoff=None if handoff is None else Handoff(reason=handoff, language=state.language),
            ticket=None if ticket is None else TicketRequest(reason=ticket, text=state.summary()),
        )


def _mode(context: BotContext) -> tuple[str, str | None]:
    """ "after_hours" when closed and the plan covers it (premium); else "open"."""
    reason = context.schedule.closed_reason(context.now)
    if reason is not None and allows(context.plan, "after_hours"):
        return "after_hours", reason
    return "open", None


def _after_hours_done(context: BotContext, state: _State) -> str:
    """Thanks, and when an advisor will call back."""
    return context.script.text(
        "after_hours_done", state.language, name=state.name, opening=_opening(context, state)
    )


def _opening(context: BotContext, state: _State) -> str:
    language = state.language
    locale = context.script.settings.locales.get(language, language)
    return say_opening(
        context.schedule.next_opening(context.now),
        timezone=context.schedule.timezone,
        language=language,
        locale=locale,
    )


@dataclass
class _State:
    """The qualifier's memory of one chat, as JSON-ready data in BotResult.state."""

    language: str = ""
    mode: str = "open"
    closed_reason: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    asked: str | None = None
    misses: int = 0
    turns: int = 0
    wants_human: bool = False
    done: bool = False

    def __post_init__(self) -> None:
        # copies: the state that a turn was given stays as it was
        self.fields = dict(self.fields)
        self.skipped = list(self.skipped)

    @classmethod
    def load(cls, data: Any) -> _State:
        known = {f.name for f in fields_of(cls)}
        return cls(**{k: v for k, v in dict(data or {}).items() if k in known})

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def name(self) -> str:
        """What to call the visitor ("" before they said)."""
        return str(self.fields.get("first_name") or self.fields.get("last_name") or "")

    def prefill(self, context: BotContext) -> None:
        visitor = context.visitor
        if visitor.name and not self.fields.get("first_name"):
            first, _, last = visitor.name.strip().partition(" ")
            self.fields["first_name"] = first
            if last:
                self.fields["last_name"] = last
        if visitor.phone:
            self.fields.setdefault("phone", visitor.phone)
        if visitor.email:
            self.fields.setdefault("email", visitor.email)

    def absorb(self, found: Extracted) -> bool:
        """Merge a message's fields; True when it told anything."""
        flat = found.flat()
        vehicle = Vehicle(**self.fields.get("vehicle", {})).merged(found.vehicle)
        trade_in = TradeIn(**self.fields.get("trade_in", {})).merged(found.trade_in)
        if not vehicle.is_empty():
            self.fields["vehicle"] = vehicle.to_data()
        if not trade_in.is_empty():
            self.fields["trade_in"] = trade_in.to_data()
        previous_first = self.fields.get("first_name")
        for key in Extracted.LEAD_VALUES:
            value = getattr(found, key)
            if value is not None:
                self.fields[key] = value
        if (
            found.first_name
            and not found.last_name
            and self.fields.get("last_name")
            and found.first_name != previous_first
        ):
            self.fields.pop("last_name")  # a different person's name: the old surname goes
        if found.declines_trade_in:
            self.fields["has_trade_in"] = False
        elif found.mentions_trade_in:
            self.fields.setdefault("has_trade_in", True)
        return bool(flat) or found.mentions_trade_in

    def answer_asked(self, text: str, folded: str, found: Extracted) -> bool:
        """Short answers that only make sense as the answer to the last question."""
        asked = self.asked
        if asked == "name" and not (found.first_name or found.last_name):
            first, last = bare_name(text)
            if first:
                self.fields["first_name"] = first
                if last:
                    self.fields["last_name"] = last
                else:
                    self.fields.pop("last_name", None)
                return True
        if asked == "vehicle" and found.vehicle.is_empty():
            year = lone_year(text)
            if year is not None:
                self.fields["vehicle"] = {**self.fields.get("vehicle", {}), "year": year}
                return True
            if _starts_with(folded, _DONT_KNOW) or folded in _NO:
                self.skipped.append("vehicle")
                return True
        if asked == "trade_in" and found.trade_in.is_empty():
            if _starts_with(folded, _NO):
                self.fields["has_trade_in"] = False
                return True
            if _starts_with(folded, _YES):
                self.fields["has_trade_in"] = True
                return True
        if (
            asked == "timeframe"
            and found.timeframe is None
            and (_starts_with(folded, _DONT_KNOW) or _starts_with(folded, _NO))
        ):
            self.fields["timeframe"] = "undecided"
            return True
        if asked == "contact" and not (
            found.phone or found.email or found.bad_phone or found.bad_email
        ):
            try:
                self.fields["email"] = normalize_email(text.strip())
            except ValueError:
                return False
            return True
        return False

    def has_contact(self) -> bool:
        return bool(self.fields.get("phone") or self.fields.get("email"))

    def has_lead(self) -> bool:
        """Enough for a lead record: a name and a way to reach them."""
        return bool(self.name and self.has_contact())

    def is_qualified(self) -> bool:
        return self.has_lead() and bool(self.fields.get("interest"))

    def next_slot(self, script: Script) -> str | None:
        interest = self.fields.get("interest")
        for slot in script.flow:
            if slot in self.skipped:
                continue
            if slot == "interest" and not interest:
                return slot
            if slot == "vehicle" and not self.fields.get("vehicle"):
                return slot
            if (
                slot == "trade_in"
                and (interest in _TRADE_IN_INTERESTS or interest is None)
                and "has_trade_in" not in self.fields
                and not self.fields.get("trade_in")
            ):
                return slot
            if slot == "timeframe" and not self.fields.get("timeframe"):
                return slot
            if slot == "name" and not self.name:
                return slot
            if slot == "contact" and not self.has_contact():
                return slot
        return None

    def lead(self, *, qualified: bool) -> dict[str, Any]:
        """The lead as PROTOCOL.md's Lead (what LeadIn validates)."""
        lead: dict[str, Any] = {
            "language": self.language,
            "interest": self.fields.get("interest") or "other",
            "qualified": qualified,
        }
        for key in ("first_name", "last_name", "email", "phone", "timeframe"):
            if self.fields.get(key):
                lead[key] = self.fields[key]
        if self.fields.get("vehicle"):
            lead["vehicle"] = dict(self.fields["vehicle"])
        if self.fields.get("trade_in"):
            lead["trade_in"] = dict(self.fields["trade_in"])
        notes = []
        if self.fields.get("has_trade_in") and not self.fields.get("trade_in"):
            notes.append("Has a trade-in (no details given).")
        if self.mode == "after_hours":
            notes.append("Taken after hours by the bot; callback promised at the next opening.")
        if notes:
            lead["notes"] = " ".join(notes)
        return lead

    def summary(self) -> str:
        """A ticket's text: what the bot learned, for whoever calls back."""
        parts = [
            f"{key}: {value}" for key, value in self.lead(qualified=self.is_qualified()).items()
        ]
        return "Bot summary - " + "; ".join(parts)
