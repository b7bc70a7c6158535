"""The lead qualifier: learns what a visitor wants and how to reach them, then hands off.

It asks the script's questions in order but takes any field from any message, so a
visitor who says everything at once is asked nothing twice; the question just asked
frames a short answer (bots/qualifier/extract.py). It never loops: a question not
understood is asked once more with an example, then left (and noted on the lead) or the
visitor is handed to a person; no question is asked a third time. A request for a person
is honoured at once. When nobody can take the chat (premium after hours, or nobody
online) it says so in its first line, qualifies the lead and files a ticket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
from bots.language import choose_language, detect_confident, language_evidence, vote
from bots.qualifier import visit
from bots.qualifier.extract import Extracted, extract, valid_phone
from bots.qualifier.memory import Memory
from bots.script import Script, default_script
from bots.text import fold, has_phrase
from console.contract.plans import allows

# Words of language evidence a message needs before the bot changes its language, and
# how sure lingua must be: a visitor who mixes in "this week si puedo" stays in Spanish
MIN_SWITCH_WORDS = 6
SWITCH_MIN_DISTANCE = 0.5
# what the bot reads of one message; a longer one is for a person to read in full
MAX_READ = 1000
# slots without which there is no lead: not understood twice, a person takes over
REQUIRED = ("name", "contact")


class LeadQualifier(Bot):
    name = "lead_qualifier"

    def respond(self, event: BotEvent, context: BotContext) -> BotResult:
        script = context.script
        memory = Memory.load(context.state)
        if memory.done:
            return BotResult(
                replies=(), language=memory.language or context.languages[0], state=memory.dump()
            )
        replies: list[str] = []
        if event.kind in ("start", "open") or not memory.language:
            self._begin(event, context, memory, replies)
            switched = False
        else:
            switched = self._maybe_switch(event.text, context, memory)
        if event.kind == "open":  # an invitation accepted: greet and ask at once
            return self._ask_next(context, memory, replies, understood=True)
        language = memory.language
        memory.turns += 1

        text = event.text[:MAX_READ]
        folded = fold(text)
        found = extract(
            text,
            asked=memory.asked,
            interest=memory.fields.get("interest"),
            wanted_known=bool(memory.fields.get("vehicle")),
        )
        answered = memory.answer_asked(text, folded, found)
        understood = memory.absorb(found) or answered
        understood = understood or memory.late_name(found) or switched

        if has_phrase(folded, script.folded_handoff_phrases):
            memory.wants_human = True
            return self._human(context, memory, replies, reason="requested")

        problem = self._contact_problem(found, memory)
        if problem is not None and memory.asks.get("contact", 0) < 2:
            replies.append(script.text(problem[0], language, **problem[1]))
            memory.asked = "contact"
            memory.asks["contact"] = memory.asks.get("contact", 0) + 1
            return self._reply(context, memory, replies)

        # a visit asked for ("cita para el martes a las 10"): booked, or another time proposed
        said, told, asking = visit.hear(text, context, memory)
        understood = understood or told
        if said is not None:
            replies.append(said)
            if asking:
                return self._reply(context, memory, replies)

        faq = match_faq(script, event.text, language)
        if faq is not None:
            replies.append(faq.answer)
            understood = True
        elif not understood and found.link:
            replies.append(script.text("link", language))
        elif not understood and len(event.text) > MAX_READ:
            replies.append(script.text("too_long", language))

        if memory.wants_human and memory.has_contact():
            return self._human(context, memory, replies, reason="requested")

        # a greeting that says nothing else is not a miss
        first = event.kind == "start"
        memory.misses = 0 if understood or first else memory.misses + 1
        if memory.misses >= script.settings.max_misses and (
            self._person_free(context, memory) or memory.has_lead()
        ):
            # a person takes over; with nobody there, a visitor who left a way to reach
            # them is called back rather than asked on
            replies.append(script.text("not_understood", language))
            return self._human(context, memory, replies, reason="not_understood")
        if memory.turns >= script.settings.max_turns:
            return self._human(context, memory, replies, reason="not_understood")
        return self._ask_next(
            context, memory, replies, understood=understood or first or bool(replies)
        )

    def correct(self, text: str, lead: Mapping[str, Any]) -> dict[str, Any] | None:
        """A phone or e-mail written after the hand-off replaces the lead's ("wait, wrong
        number, it's 787-555-0192", "sorry: josh.perez@example.com", "the last 4 are 0132")."""
        found = extract(text[:MAX_READ], asked="contact")
        changes: dict[str, Any] = {}
        if found.phone and found.phone != lead.get("phone"):
            changes["phone"] = found.phone
        elif found.last_digits and lead.get("phone"):
            phone = valid_phone(str(lead["phone"])[:-4] + found.last_digits)
            if phone and phone != lead["phone"]:
                changes["phone"] = phone
        if found.email and found.email != lead.get("email"):
            changes["email"] = found.email
        return {**lead, **changes} if changes else None

    def on_leave(self, context: BotContext) -> BotResult:
        """A visitor who left after giving a name and a way to call them is still a lead;
        when nobody could have taken the chat (after hours, no agents) someone must call
        them back: a ticket too."""
        memory = Memory.load(context.state)
        language = memory.language or context.languages[0]
        lead = ticket = None
        if memory.has_lead() and not memory.done:
            lead = memory.lead(
                qualified=memory.is_qualified(), staff_language=context.languages[0], left=True
            )
            if memory.mode != "open":
                reason = memory.closed_reason if memory.mode == "after_hours" else "no_agents"
                ticket = TicketRequest(
                    reason=reason or "after_hours", text=memory.summary(context.languages[0])
                )
        memory.done = True
        return BotResult(
            replies=(), language=language, state=memory.dump(), lead=lead, ticket=ticket
        )

    # -- the turn's parts --------------------------------------------------------------------

    def _begin(
        self, event: BotEvent, context: BotContext, memory: Memory, replies: list[str]
    ) -> None:
        """The first turn: the language, whether anyone can take the chat, the greeting."""
        script = context.script
        memory.language = choose_language(
            event.text,
            context.languages,
            browser_language=context.browser_language,
            min_distance=script.settings.language_min_distance,
        )
        memory.mode, memory.closed_reason = _mode(context, memory.language)
        memory.prefill(context)
        dealer = _dealer(context)
        if memory.mode == "after_hours":
            opening = _opening(context, memory)
            replies.append(
                script.text("greeting_after_hours", memory.language, dealer=dealer, opening=opening)
            )
        elif memory.mode == "no_agents":
            replies.append(script.text("greeting_no_agents", memory.language, dealer=dealer))
        else:
            replies.append(script.text("greeting", memory.language, dealer=dealer))

    def _maybe_switch(self, text: str, context: BotContext, memory: Memory) -> bool:
        """A later message the visitor clearly wrote in another language switches it;
        short answers, names, numbers and addresses say nothing about the language."""
        asked_for = _asked_language(text, context.languages)
        if asked_for is not None:  # "in English please", "en español"
            memory.language = asked_for
            return True
        evidence = language_evidence(text)
        if len(evidence.split()) >= MIN_SWITCH_WORDS:
            switched = detect_confident(evidence, context.languages, SWITCH_MIN_DISTANCE)
            counted = vote(evidence, context.languages)
            if counted is not None and counted != switched:
                switched = None  # the function words disagree: not sure enough
            memory.language = switched or memory.language
        return False

    def _contact_problem(
        self, found: Extracted, memory: Memory
    ) -> tuple[str, dict[str, str]] | None:
        """The message to send about a phone or e-mail that will not do, if any."""
        if memory.has_contact() or found.phone or found.email:
            return None
        if found.bad_phone and found.foreign_phone:
            return "foreign_phone", {}
        if found.bad_phone:
            return "invalid_phone", {"value": found.bad_phone}
        if found.bad_email and found.email_suggestion:
            return "email_typo", {"value": found.bad_email, "suggestion": found.email_suggestion}
        if found.bad_email:
            return "invalid_email", {"value": found.bad_email}
        return None

    def _ask_next(
        self, context: BotContext, memory: Memory, replies: list[str], *, understood: bool
    ) -> BotResult:
        script = context.script
        language = memory.language
        while True:
            slot = memory.next_slot(script)
            if slot is None:
                question = visit.ask(context, memory)  # only if the visitor asked for one
                if question is not None:
                    replies.append(question)
                    return self._reply(context, memory, replies)
                return self._qualified(context, memory, replies)
            if memory.asks.get(slot, 0) < 2:
                break
            # asked twice, still not answered: never a third time
            if slot in REQUIRED and self._person_free(context, memory):
                return self._human(context, memory, replies, reason="not_understood")
            memory.give_up(slot)
            if not understood:
                replies.append(script.text("not_understood", language))
                understood = True  # said once is enough
            if slot in REQUIRED and not memory.has_lead():
                return self._no_lead(context, memory, replies)
        if memory.asks.get(slot, 0) >= 1 and not understood:
            # the second and last time: with an example
            replies.append(script.text("not_understood", language))
            replies.append(_again(script, slot, language))
        else:
            replies.append(script.text(f"ask_{slot}", language))
        memory.asked = slot
        memory.asks[slot] = memory.asks.get(slot, 0) + 1
        return self._reply(context, memory, replies)

    # -- endings -----------------------------------------------------------------------------

    def _person_free(self, context: BotContext, memory: Memory) -> bool:
        return memory.mode == "open" and context.can_hand_off(memory.language)

    def _reply(self, context: BotContext, memory: Memory, replies: list[str]) -> BotResult:
        """A turn that asks on. Once the visitor has given a name and a way to reach them
        the lead goes with every turn, so that the hub saves it at once and keeps it up to
        date: a visitor who leaves mid-flow still leaves a lead."""
        return BotResult(
            replies=tuple(replies),
            language=memory.language,
            state=memory.dump(),
            lead=self._lead(context, memory),
        )

    def _lead(self, context: BotContext, memory: Memory) -> dict[str, Any] | None:
        if not memory.has_lead():
            return None
        return memory.lead(qualified=memory.is_qualified(), staff_language=context.languages[0])

    def _qualified(self, context: BotContext, memory: Memory, replies: list[str]) -> BotResult:
        script = context.script
        language = memory.language
        lead = self._lead(context, memory)
        if memory.mode == "after_hours":
            replies.append(_after_hours_done(context, memory))
            return self._end(context, memory, replies, lead, ticket=memory.closed_reason)
        if not self._person_free(context, memory):
            replies.append(script.text("no_agents_done", language, name=memory.name))
            return self._end(context, memory, replies, lead, ticket="no_agents")
        replies.append(script.text("handoff", language, name=memory.name))
        return self._end(context, memory, replies, lead, handoff="qualified")

    def _no_lead(self, context: BotContext, memory: Memory, replies: list[str]) -> BotResult:
        """Nobody can take the chat and the visitor left no way to reach them."""
        replies.append(context.script.text("no_agents", memory.language))
        reason = memory.closed_reason if memory.mode == "after_hours" else "no_agents"
        return self._end(context, memory, replies, None, ticket=reason)

    def _human(
        self, context: BotContext, memory: Memory, replies: list[str], *, reason: HandoffReason
    ) -> BotResult:
        """The visitor asked for a person, or the bot gave up: a person now if one can
        take the chat; otherwise a ticket (asking first for a way to call them back)."""
        script = context.script
        language = memory.language
        lead = self._lead(context, memory)
        if self._person_free(context, memory):
            replies.append(script.text("handoff_requested", language))
            return self._end(context, memory, replies, lead, handoff=reason)
        if not memory.has_contact() and memory.asks.get("contact", 0) < 2:
            memory.asked = "contact"
            memory.asks["contact"] = memory.asks.get("contact", 0) + 1
            if memory.mode == "after_hours":
                opening = _opening(context, memory)
                replies.append(script.text("after_hours_contact_needed", language, opening=opening))
            else:
                replies.append(script.text("no_agents", language))
                replies.append(script.text("ask_contact", language))
            return self._reply(context, memory, replies)
        if memory.mode == "after_hours" and memory.has_contact():
            replies.append(_after_hours_done(context, memory))
        elif memory.has_contact():
            replies.append(script.text("no_agents_done", language, name=memory.name))
        else:
            replies.append(script.text("no_agents", language))
        reason_closed = memory.closed_reason if memory.mode == "after_hours" else "no_agents"
        return self._end(context, memory, replies, lead, ticket=reason_closed)

    def _end(
        self,
        context: BotContext,
        memory: Memory,
        replies: list[str],
        lead: dict[str, Any] | None,
        *,
        handoff: HandoffReason | None = None,
        ticket: str | None = None,
    ) -> BotResult:
        """The bot's last turn: the lead, and the chat to a person now (`handoff`, why) or
        a ticket (`ticket`, its reason)."""
        memory.done = True
        return BotResult(
            replies=tuple(replies),
            language=memory.language,
            state=memory.dump(),
            lead=lead,
            handoff=None if handoff is None else Handoff(reason=handoff, language=memory.language),
            ticket=None
            if ticket is None
            else TicketRequest(reason=ticket, text=memory.summary(context.languages[0])),
        )


def _mode(context: BotContext, language: str) -> tuple[str, str | None]:
    """ "after_hours" when closed and the plan covers it (premium); "no_agents" when open
    but nobody can take the chat; else "open"."""
    reason = context.schedule.closed_reason(context.now)
    if reason is not None and allows(context.plan, "after_hours"):
        return "after_hours", reason
    if not context.can_hand_off(language):
        return "no_agents", None
    return "open", None


_ASK_FOR = {
    "en": re.compile(r"\b(?:in english|english please|speak english|habla ingles|en ingles)\b"),
    "es": re.compile(r"\b(?:en espanol|in spanish|spanish please|habla espanol|speak spanish)\b"),
}


def _asked_language(text: str, languages: tuple[str, ...]) -> str | None:
    """The language the visitor asks the bot to speak, if any and if the tenant has it."""
    folded = fold(text)
    return next(
        (tag for tag, asks in _ASK_FOR.items() if tag in languages and asks.search(folded)),
        None,
    )


def _again(script: Script, slot: str, language: str) -> str:
    """A question asked again, with an example; a tenant who reworded the question but
    wrote no example of its own hears its own question again."""
    key = f"ask_{slot}"
    if (
        f"{key}_again" not in script.messages
        and script.messages[key] != (default_script().messages[key])
    ):
        return script.text(key, language)
    return script.text(f"{key}_again", language)


def _dealer(context: BotContext) -> str:
    return context.dealer_name or ""


def _after_hours_done(context: BotContext, memory: Memory) -> str:
    """Thanks, and when an advisor will call back."""
    return context.script.text(
        "after_hours_done", memory.language, name=memory.name, opening=_opening(context, memory)
    )


def _opening(context: BotContext, memory: Memory) -> str:
    language = memory.language
    locale = context.script.settings.locales.get(language, language)
    return say_opening(
        context.schedule.next_opening(context.now),
        timezone=context.schedule.timezone,
        language=language,
        locale=locale,
    )
