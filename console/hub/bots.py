"""The hub's side of the bots: runs a tenant's bot on its `bot` chats and acts on results.

A bot is pure (bots/base.py); this module does its I/O, through a small interface to the
hub (`BotHost`, which the app factory hands it) and the store. Bot state is never stored:
each turn replays the chat's stored visitor messages through the bot, which rebuilds it
exactly (the context's clock is the chat's start), so a chat carries on after a hub restart
and in any hub process. Replies are stored, then delivered, as author `bot`, with client
message ids derived from the visitor's message so that a turn that runs twice stores them
once. A hand-off saves the lead (source "bot") and queues the chat in its language; when
nobody can take it, a ticket is filed and the chat closed politely.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from bots.base import Bot, BotContext, BotEvent, BotResult, VisitorInfo
from bots.loader import get_bot
from bots.script import Script, load_script
from console.contract.hours import Schedule
from console.contract.plans import routing_language
from console.domain.errors import ProtocolError
from console.domain.leads import Lead, LeadIn, same_lead
from console.domain.types import Chat, Message, Tenant, Ticket, parse_message_id
from console.hub.context import chat_log
from console.store.repository import Store

log = structlog.get_logger("charla.bots")

# A bot chat is short (the script's max_turns ends it); this bounds a replay's reads.
REPLAY_LIMIT = 200


class BotHost(Protocol):
    """What the runner asks of the hub (console.hub.chats.ChatLifecycle answers it)."""

    async def tenant(self, tenant_id: str) -> Tenant: ...

    async def captures_leads(self, tenant_id: str) -> bool:
        """Whether the tenant's plan has lead capture (read from a cache a second old)."""
        ...

    def schedule(self, tenant: Tenant) -> Schedule: ...

    async def served_languages(self, tenant: Tenant) -> frozenset[str]: ...

    async def say(self, chat: Chat, text: str, *, client_msg_id: str, author_name: str) -> None: ...

    async def show_typing(self, chat: Chat, typing: bool) -> None: ...

    async def save_lead(
        self, tenant: Tenant, chat: Chat, lead_in: LeadIn, *, source: str, agent_id: str | None
    ) -> Lead: ...

    async def hand_off(self, chat: Chat, language: str) -> Chat | None: ...

    def callback_due(self, tenant: Tenant, reason: str) -> datetime | None: ...

    async def ticket_filed(self, tenant: Tenant, ticket: Ticket) -> None: ...

    async def close(
        self, chat: Chat, *, reason: str, disposition: str | None = None
    ) -> Chat | None: ...


def bot_chat_language(tenant: Tenant, requested: str | None, chosen: str) -> str:
    """A bot chat's language as stored with it: the browser's (start_chat's `language`)
    when the tenant serves it, else the hub's choice. The bot speaks what lingua detects
    and falls back to this one; a hand-off below premium still queues in the primary
    language."""
    if requested and requested.lower() in tenant.languages:
        return requested.lower()
    return chosen


def events_of(texts: Sequence[str], *, invited: bool) -> list[BotEvent]:
    """A chat as the bot saw it: an invited chat opens before the visitor writes (the bot
    greets first), any other opens with the visitor's first message."""
    events = [BotEvent(kind="open", text="")] if invited else []
    for text in texts:
        events.append(BotEvent(kind="message" if events else "start", text=text))
    return events


def replay_state(bot: Bot, context: BotContext, events: Sequence[BotEvent]) -> dict[str, Any]:
    """The bot's state after `events`, rebuilt by answering them again."""
    state: dict[str, Any] = {}
    for event in events:
        state = bot.respond(event, replace(context, state=state)).state
    return state


def replay(bot: Bot, context: BotContext, events: Sequence[BotEvent]) -> BotResult:
    """The bot's answer to the last event, after rebuilding its state from the others."""
    state = replay_state(bot, context, events[:-1])
    return bot.respond(events[-1], replace(context, state=state))


def leave(bot: Bot, context: BotContext, events: Sequence[BotEvent]) -> BotResult:
    """What the bot keeps of a chat whose visitor left."""
    return bot.on_leave(replace(context, state=replay_state(bot, context, events)))


def invited(messages: Sequence[Message]) -> bool:
    """Whether the chat opened with the dealer's invitation rather than the visitor."""
    return bool(messages) and messages[0].author != "visitor"


@dataclass(eq=False)
class BotRunner:
    host: BotHost
    store: Store
    _scripts: dict[str, tuple[str, Script]] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    # -- scheduling --------------------------------------------------------------------------

    def spawn(self, chat: Chat, message: Message) -> None:
        """Answer a visitor's message after the visitor's ack has gone out.

        The widget learns the chat's id from the start_chat ack; replies sent before it
        would reach a client that does not know the chat yet.
        """
        task = asyncio.create_task(self._turn(chat.id, message.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """On shutdown: let turns in flight finish (each is a few short writes)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        for task in set(self._tasks):
            task.cancel()

    async def idle(self) -> None:
        """Wait for every turn in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*set(self._tasks), return_exceptions=True)

    # -- one turn ----------------------------------------------------------------------------

    async def _turn(self, chat_id: str, message_id: str) -> None:
        try:
            async with self._lock(chat_id):
                await self._answer(chat_id, message_id)
        except Exception:
            log.exception("bot_turn_failed", chat_id=chat_id, message_id=message_id)
            await self._rescue(chat_id)

    async def _rescue(self, chat_id: str) -> None:
        """A bot that fails must not strand its visitor: the chat goes to the human queue
        of its language, where the visitor sees their place like anyone else."""
        try:
            chat = await self.store.get_chat(chat_id)
            if chat is None or chat.status != "bot":
                return
            tenant = await self.host.tenant(chat.tenant_id)
            wanted = chat.language if chat.language in tenant.languages else None
            language = routing_language(tenant, wanted or tenant.primary_language)
            if await self.host.hand_off(chat, language) is not None:
                chat_log(chat).warning("bot_failed_chat_queued", language=language)
        except Exception:
            log.exception("bot_rescue_failed", chat_id=chat_id)

    @contextlib.asynccontextmanager
    async def _lock(self, chat_id: str) -> AsyncIterator[None]:
        """One turn at a time per chat; the lock is forgotten when nobody waits for it."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._locks.get(chat_id) is lock:
                del self._locks[chat_id]

    async def left(self, chat_id: str, *, reason: str = "abandoned") -> bool:
        """The visitor of a `bot` chat left (their grace period ran out, or they ended the
        chat): keep the lead the bot gathered, if any, with a ticket when nobody could have
        taken the chat, and close it with `reason`. False when the chat is not the bot's
        (the hub then handles it)."""
        chat = await self.store.get_chat(chat_id)
        if chat is None or chat.status != "bot":
            return False
        async with self._lock(chat_id):
            await self._leave(chat_id, reason)
        return True

    async def _leave(self, chat_id: str, reason: str) -> None:
        chat = await self.store.get_chat(chat_id)
        if chat is None or chat.status != "bot":
            return  # a turn in flight handed it off or closed it meanwhile
        tenant = await self.host.tenant(chat.tenant_id)
        messages = await self.store.list_messages(chat.id, limit=REPLAY_LIMIT)
        texts = [m.text for m in messages if m.author == "visitor"]
        context = await self._context(tenant, chat)
        bot = get_bot(context.script.settings.bot)
        events = events_of(texts, invited=invited(messages))
        result = await asyncio.to_thread(leave, bot, context, events)
        if result.lead is not None:
            await self._save_lead(tenant, chat, result)
        if result.ticket is not None:
            await self._file_ticket(tenant, chat, result)
        chat_log(chat).info("bot_chat_abandoned", reason=reason)
        await self.host.close(chat, reason=reason)

    async def _answer(self, chat_id: str, message_id: str) -> None:
        chat = await self.store.get_chat(chat_id)
        if chat is None or chat.status != "bot":
            return
        tenant = await self.host.tenant(chat.tenant_id)
        upto = parse_message_id(message_id)
        messages = await self.store.list_messages(chat.id, limit=REPLAY_LIMIT)
        said = [m for m in messages if m.author == "visitor" and parse_message_id(m.id) <= upto]
        if not said or said[-1].id != message_id:
            return
        events = events_of([m.text for m in said], invited=invited(messages))
        await self._run(tenant, chat, events, reply_id=message_id)

    async def _run(
        self, tenant: Tenant, chat: Chat, events: list[BotEvent], *, reply_id: str
    ) -> None:
        """The bot's answer to the last of `events`: stored and delivered, then acted on."""
        context = await self._context(tenant, chat)
        script = context.script
        await self._typing(chat, True)
        try:
            result = await asyncio.to_thread(replay, get_bot(script.settings.bot), context, events)
            for index, reply in enumerate(result.replies):
                await self.host.say(
                    chat,
                    reply,
                    client_msg_id=f"bot-{reply_id}-{index}",
                    author_name=script.settings.speaker(tenant.name),
                )
        finally:
            await self._typing(chat, False)
        await self._act(tenant, chat, result)

    def listen(self, chat: Chat, message: Message) -> None:
        """A message in a chat the bot handed off: if it corrects the phone or e-mail of the
        lead the bot saved ("wait, wrong number…"), the lead is corrected. Only messages
        with a digit or an @ are looked at, and only leads the bot wrote."""
        if not any(c.isdigit() or c == "@" for c in message.text):
            return
        task = asyncio.create_task(self._listen(chat, message.text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _listen(self, chat: Chat, text: str) -> None:
        try:
            if not await self.host.captures_leads(chat.tenant_id):
                return  # no bot lead to correct, and none read for every message
            lead = await self.store.leads.for_chat(chat.tenant_id, chat.id)
            if lead is None or lead.source != "bot":
                return
            tenant = await self.host.tenant(chat.tenant_id)
            script = await self.script(tenant)
            current = {
                **lead.data,
                "language": lead.language,
                "interest": lead.interest,
                "qualified": lead.qualified,
            }
            corrected = get_bot(script.settings.bot).correct(text, current)
            if corrected is None:
                return
            lead_in = LeadIn.model_validate(corrected)
            await self.host.save_lead(tenant, chat, lead_in, source="bot", agent_id=None)
            chat_log(chat).info("bot_lead_corrected")
        except Exception:
            log.exception("bot_listen_failed", chat_id=chat.id)

    def greet(self, chat: Chat) -> None:
        """A chat opened by an accepted invitation: the bot greets at once (after the
        answer that names the chat has gone out), below the invitation's text."""
        task = asyncio.create_task(self._greet(chat.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _greet(self, chat_id: str) -> None:
        try:
            async with self._lock(chat_id):
                chat = await self.store.get_chat(chat_id)
                if chat is None or chat.status != "bot":
                    return
                messages = await self.store.list_messages(chat.id, limit=REPLAY_LIMIT)
                if not invited(messages) or any(m.author != "visitor" for m in messages[1:]):
                    return  # not invited, or greeted already
                if any(m.author == "visitor" for m in messages):
                    return  # the visitor wrote first: that turn greets
                tenant = await self.host.tenant(chat.tenant_id)
                await self._run(tenant, chat, events_of([], invited=True), reply_id=chat.id)
        except Exception:
            log.exception("bot_greeting_failed", chat_id=chat_id)

    async def _context(self, tenant: Tenant, chat: Chat) -> BotContext:
        script = await self.script(tenant)
        visitor = await self.store.get_visitor(chat.visitor_id)
        return BotContext(
            tenant_id=tenant.id,
            plan=tenant.plan,
            languages=tenant.languages,
            schedule=self.host.schedule(tenant),
            now=chat.created_at,
            script=script,
            browser_language=chat.language,
            dealer_name=tenant.name,
            visitor=VisitorInfo(
                name=visitor.name if visitor else None,
                email=visitor.email if visitor else None,
                phone=visitor.phone if visitor else None,
            ),
            served_languages=await self.host.served_languages(tenant),
        )

    async def _typing(self, chat: Chat, typing: bool) -> None:
        with contextlib.suppress(Exception):
            await self.host.show_typing(chat, typing)

    async def _act(self, tenant: Tenant, chat: Chat, result: BotResult) -> None:
        if result.lead is not None:
            await self._save_lead(tenant, chat, result)
        if result.handoff is not None:
            wanted = result.handoff.language
            language = routing_language(
                tenant, wanted if wanted in tenant.languages else tenant.primary_language
            )
            if await self.host.hand_off(chat, language) is not None:
                chat_log(chat).info("bot_handoff", reason=result.handoff.reason, language=language)
        elif result.ticket is not None:
            await self._file_ticket(tenant, chat, result)
            await self.host.close(chat, reason=result.ticket.reason)

    async def _file_ticket(self, tenant: Tenant, chat: Chat, result: BotResult) -> None:
        """Nobody could take the chat: a ticket for whoever calls back, due at the next
        opening when the dealer is closed."""
        assert result.ticket is not None
        fields = result.lead or {}
        name = " ".join(
            part for part in (fields.get("first_name"), fields.get("last_name")) if part
        )
        state = result.state.get("fields", {})
        reason = result.ticket.reason
        ticket = await self.store.add_ticket(
            tenant_id=tenant.id,
            chat_id=chat.id,
            visitor_id=chat.visitor_id,
            language=result.language,
            reason=reason,
            text=result.ticket.text,
            name=name or None,
            email=state.get("email"),
            phone=state.get("phone"),
            callback_due_at=self.host.callback_due(tenant, reason),
        )
        chat_log(chat).info("bot_ticket", ticket_id=ticket.id, reason=reason)
        await self.host.ticket_filed(tenant, ticket)

    async def _save_lead(self, tenant: Tenant, chat: Chat, result: BotResult) -> None:
        """The bot's lead, saved as soon as it is valid and again whenever it changes; never
        over a lead an agent saved."""
        try:
            lead_in = LeadIn.model_validate(result.lead)
        except ValidationError as exc:
            # the bot only proposes leads with a valid name and contact; log ids, not data
            fields = [".".join(map(str, e["loc"])) for e in exc.errors()]
            chat_log(chat).warning("bot_lead_invalid", fields=fields)
            return
        stored = await self.store.leads.for_chat(tenant.id, chat.id)
        if stored is not None and (
            stored.source != "bot" or same_lead(stored, lead_in, chat.language)
        ):
            return
        try:
            await self.host.save_lead(tenant, chat, lead_in, source="bot", agent_id=None)
        except ProtocolError:
            if lead_in.appointment is None:
                raise
            # the bot checked the time against the chat's start; by now it may have passed
            chat_log(chat).info("bot_appointment_refused")
            await self.host.save_lead(
                tenant,
                chat,
                lead_in.model_copy(update={"appointment": None}),
                source="bot",
                agent_id=None,
            )

    # -- scripts -----------------------------------------------------------------------------

    async def script(self, tenant: Tenant) -> Script:
        """The tenant's script (validated once per change), or the default one when the
        stored one does not validate: a broken script must not silence the bot."""
        data = await self.store.bots.script_data(tenant.id)
        key = json.dumps(data, sort_keys=True)
        cached = self._scripts.get(tenant.id)
        if cached and cached[0] == key:
            return cached[1]
        try:
            script = load_script(data)
        except ValueError:
            log.warning("bot_script_invalid", tenant_id=tenant.id)
            script = load_script(None)
        if not set(tenant.languages) & set(script.languages):
            script = load_script(None)
        self._scripts[tenant.id] = (key, script)
        return script
