"""Proactive invitations at run time: a watcher per visitor page, invitation answers, CSAT.

The watcher of a page lives in the process that holds the visitor's socket: it evaluates
the tenant's rules when the page is viewed and again when time on page could make a rule
hold, and stops at the next page view or the disconnect. It is told to stop, never
cancelled: a task cancelled inside a database call can leave its connection holding
SQLite's write lock (seen as "database is locked" for every other writer). The rules themselves are
pure (`console.engagement.rules`); this module gathers their facts and acts on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any

import structlog

from console.contract.plans import agent_language, allows, bot_takes, routing_language
from console.domain.errors import ProtocolError
from console.domain.types import Tenant, iso
from console.engagement.payloads import InvitationResponseIn, RateIn
from console.engagement.personal import PersonalInvitations
from console.engagement.presence import OnSite
from console.engagement.rules import (
    DEFAULT_COOLDOWN,
    Conditions,
    Decision,
    Facts,
    Rule,
    decide,
    invitation_text,
    resolve_language,
    visit_pages,
)
from console.hub.bots import BotRunner
from console.hub.chats import PRIORITY, ChatLifecycle
from console.hub.context import HubContext
from console.realtime.rooms import VISITOR_NS
from console.realtime.schemas import PageViewIn
from console.security.redact import redact
from console.store.engagement import RuleRecord
from console.store.repository import OPEN_STATUSES

log = structlog.get_logger("charla.engagement")
MAX_WATCH_S = 6 * 3600


@dataclass
class PageWatch:
    tenant_id: str
    visitor_id: str
    language: str | None
    url: str
    started: float = field(default_factory=time.monotonic)
    task: asyncio.Task[None] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def logger(self) -> Any:
        """The log, its lines naming this page's tenant and visitor."""
        return log.bind(tenant_id=self.tenant_id, visitor_id=self.visitor_id)


class Engagement:
    def __init__(self, ctx: HubContext, chats: ChatLifecycle, bots: BotRunner) -> None:
        self.ctx = ctx
        self.chats = chats
        self.bots = bots
        self.store = ctx.store
        self.repo = ctx.store.engagement
        self._pages: dict[str, PageWatch] = {}
        # who is on the site now, and agents' own invitations (PROTOCOL 1.2)
        self.onsite = OnSite(ctx)
        self.personal = PersonalInvitations(ctx, self.onsite)

    # -- page tracking and invitations ---------------------------------------------------

    def page_viewed(self, sid: str, tenant_id: str, visitor_id: str, payload: PageViewIn) -> None:
        """Start watching this page (the previous page's watcher stops)."""
        self.forget(sid)
        watch = PageWatch(tenant_id, visitor_id, payload.language, payload.url)
        watch.task = asyncio.create_task(self._watch(sid, watch))
        self._pages[sid] = watch

    def forget(self, sid: str) -> None:
        """The socket left or moved on to another page: its watcher stops."""
        watch = self._pages.pop(sid, None)
        if watch is not None:
            watch.stop.set()

    async def close(self) -> None:
        """At shutdown: every watcher stops after the check it is doing, if any."""
        watches = list(self._pages.values())
        self._pages.clear()
        for watch in watches:
            watch.stop.set()
        tasks = [w.task for w in watches if w.task is not None]
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=5)
            for task in late:
                task.cancel()

    @property
    def watching(self) -> int:
        return len(self._pages)

    async def idle(self) -> None:
        """Wait until every page watcher running now has finished (decided for good)."""
        tasks = [w.task for w in self._pages.values() if w.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, sid: str, watch: PageWatch) -> None:
        try:
            while not watch.stop.is_set():
                decision = await self.evaluate(sid, watch)
                wait = decision.recheck_in_s
                if wait is None or time.monotonic() - watch.started + wait > MAX_WATCH_S:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watch.stop.wait(), wait + 0.05)
        except asyncio.CancelledError:
            raise
        except Exception:
            watch.logger.exception("invitation_check_failed")
        finally:
            if self._pages.get(sid) is watch:
                del self._pages[sid]

    async def evaluate(self, sid: str, watch: PageWatch) -> Decision:
        tenant = await self.store.get_tenant(watch.tenant_id)
        if tenant is None or not allows(tenant.plan, "invitation_rules"):
            return Decision()
        rules = [as_rule(r) for r in await self.repo.list_rules(tenant.id, enabled_only=True)]
        if not rules:
            return Decision()
        facts, language = await self._facts(tenant, watch)
        decision = decide(rules, facts)
        if decision.rule is not None:
            await self._invite(sid, tenant, watch, decision, language)
        return decision

    async def _facts(self, tenant: Tenant, watch: PageWatch) -> tuple[Facts, str]:
        visitor = await self.store.get_visitor(watch.visitor_id)
        if visitor is None:
            raise ProtocolError("not_found", "this visitor no longer exists")
        pages, entry_referrer = visit_pages([(p.viewed_at, p.referrer) for p in visitor.pages])
        invited, declined_at = await self.repo.visit_state(visitor.id, visitor.visits)
        in_chat = bool(await self.store.list_chats(visitor_id=visitor.id, statuses=OPEN_STATUSES))
        language = resolve_language(watch.language, tenant.languages)
        cooldown_min = tenant.settings.get("invitation_cooldown_min")
        now = self.ctx.clock.now()
        facts = Facts(
            url=watch.url,
            seconds_on_page=time.monotonic() - watch.started,
            pages_viewed=pages,
            entry_referrer=entry_referrer,
            returning=visitor.visits > 1,
            is_open=self.ctx.schedule(tenant).is_open(now),
            agents_free=await self.agents_free(tenant, language),
            invited_this_visit=invited,
            in_chat=in_chat,
            last_declined_at=declined_at,
            now=now,
            cooldown=(
                timedelta(minutes=cooldown_min)
                if isinstance(cooldown_min, int)
                else DEFAULT_COOLDOWN
            ),
        )
        return facts, language

    async def agents_free(self, tenant: Tenant, language: str) -> bool:
        """An online agent who could take the chat of a visitor in `language` has a slot."""
        needed = agent_language(tenant, language)
        for agent in await self.ctx.state.presence(tenant.id):
            if agent.status != "online" or agent.load >= agent.max_chats:
                continue
            if needed is None or needed in agent.languages:
                return True
        return False

    async def _invite(
        self, sid: str, tenant: Tenant, watch: PageWatch, decision: Decision, language: str
    ) -> None:
        rule = decision.rule
        assert rule is not None
        async with self.ctx.state.visitor_lock(watch.visitor_id):
            if watch.stop.is_set():  # the visitor moved on or left while this was decided
                return
            visitor = await self.store.get_visitor(watch.visitor_id)
            if visitor is None:
                return
            invited, _ = await self.repo.visit_state(visitor.id, visitor.visits)
            if invited:  # another tab of this visit was quicker
                return
            text, text_language = invitation_text(rule, language, tenant.primary_language)
            invitation = await self.repo.record_shown(
                tenant_id=tenant.id,
                rule_id=rule.id,
                visitor_id=visitor.id,
                visit=visitor.visits,
                language=text_language,
            )
        watch.logger.info("invitation_shown", rule_id=rule.id, invitation_id=invitation.id)
        await self.ctx.emit(
            "invitation",
            {"invitation_id": invitation.id, "text": text, "language": text_language},
            to=sid,
            namespace=VISITOR_NS,
        )

    # -- answers ---------------------------------------------------------------------------

    async def respond(
        self, tenant_id: str, visitor_id: str, payload: InvitationResponseIn, sid: str
    ) -> dict[str, Any]:
        invitation = await self.repo.get_invitation(payload.invitation_id)
        if (
            invitation is None
            or invitation.tenant_id != tenant_id
            or invitation.visitor_id != visitor_id
        ):
            raise ProtocolError("not_found", f"no invitation {payload.invitation_id} for you")
        if not payload.accepted:
            declined = await self.repo.decline(invitation.id)
            if declined is None:
                raise ProtocolError("conflict", f"this invitation was {invitation.status} already")
            log.info("invitation_declined", tenant_id=tenant_id, invitation_id=invitation.id)
            return {"ok": True, "invitation": {"id": invitation.id, "status": "declined"}}
        if invitation.agent_id is not None:  # an agent's: start_chat names it next
            return await self.personal.accepted(invitation)
        async with self.ctx.state.visitor_lock(visitor_id):
            return await self._accept(tenant_id, visitor_id, invitation.id)

    async def _accept(self, tenant_id: str, visitor_id: str, invitation_id: str) -> dict[str, Any]:
        invitation = await self.repo.get_invitation(invitation_id)
        assert invitation is not None
        if invitation.status == "declined":
            raise ProtocolError("conflict", "this invitation was declined already")
        if invitation.status == "accepted" and invitation.chat_id:
            chat = await self.store.get_chat(invitation.chat_id)
            if chat is not None:  # a resent answer: the same chat again
                return {"ok": True, "chat": _chat_ack(chat.id, chat.status, chat.language)}
        tenant = await self.ctx.tenant(tenant_id)
        open_chats = await self.store.list_chats(visitor_id=visitor_id, statuses=OPEN_STATUSES)
        if open_chats:
            await self.repo.accept_without_chat(invitation.id)
            chat = open_chats[-1]
            return {"ok": True, "chat": _chat_ack(chat.id, chat.status, chat.language)}
        language = routing_language(tenant, invitation.language)
        closed_reason = await self.chats.closed_reason(tenant, language)
        # A bot-enabled tenant's bot takes the chat first, as with start_chat
        with_bot = bot_takes(tenant, closed_reason)
        if closed_reason is not None and not with_bot:
            await self.repo.accept_without_chat(invitation.id)
            raise ProtocolError(
                "unavailable",
                "no agent can take a chat now; leave a message with start_chat instead",
            )
        record = await self.repo.get_rule(tenant.id, invitation.rule_id or "")
        if record is None:
            raise ProtocolError("not_found", "this invitation's rule was deleted")
        greeting, _ = invitation_text(as_rule(record), invitation.language, tenant.primary_language)
        visitor = await self.store.get_visitor(visitor_id)
        returning = bool(visitor and visitor.visits > 1)
        opened = await self.repo.open_invited_chat(
            invitation,
            language=language,
            greeting=greeting,
            author_name=tenant.name,
            priority=PRIORITY if returning else 0,
            status="bot" if with_bot else "queued",
        )
        if opened is None:
            raise ProtocolError("conflict", "this invitation was answered already")
        chat, message = opened
        self.ctx.metrics.chats_started.labels(tenant.id, chat.status).inc()
        log.info(
            "invitation_accepted",
            tenant_id=tenant.id,
            invitation_id=invitation.id,
            chat_id=chat.id,
            status=chat.status,
        )
        if with_bot:  # the bot greets at once, below the invitation's text
            self.bots.greet(chat)
            return {
                "ok": True,
                "chat": _chat_ack(chat.id, "bot", language),
                "message": message.to_wire(),
            }
        assigned = await self.chats.queue(chat)
        status = "active" if chat.id in assigned else "queued"
        return {
            "ok": True,
            "chat": _chat_ack(chat.id, status, language),
            "message": message.to_wire(),
        }

    # -- CSAT ------------------------------------------------------------------------------

    async def rate(self, tenant_id: str, visitor_id: str, payload: RateIn) -> dict[str, Any]:
        """The visitor's own chat, once an agent took it or it ended; rating again replaces
        the earlier rating (a visitor may change their mind before leaving)."""
        chat = await self.store.get_chat(payload.chat_id)
        if chat is None or chat.tenant_id != tenant_id or chat.visitor_id != visitor_id:
            raise ProtocolError("not_found", f"no chat {payload.chat_id} for this visitor")
        if chat.status not in ("active", "closed"):
            raise ProtocolError(
                "conflict", f"this chat is {chat.status}; rate it once an agent has joined"
            )
        if chat.assigned_at is None:  # set when an agent takes it, kept through a requeue
            raise ProtocolError(
                "conflict", "no person took part in this chat, so there is nothing to rate"
            )
        comment = redact(payload.comment.strip()) if payload.comment else None
        rated_at = await self.repo.rate_chat(chat.id, score=payload.score, comment=comment or None)
        log.info("chat_rated", tenant_id=tenant_id, chat_id=chat.id, score=payload.score)
        return {
            "ok": True,
            "rating": {"chat_id": chat.id, "score": payload.score, "rated_at": iso(rated_at)},
        }


def as_rule(record: RuleRecord) -> Rule:
    """A stored rule, ready to be evaluated: the fields a rule has, its conditions parsed."""
    kept = {f.name: getattr(record, f.name) for f in fields(Rule)}
    kept.update(text=dict(record.text), conditions=Conditions.from_wire(record.conditions))
    return Rule(**kept)


def _chat_ack(chat_id: str, status: str, language: str) -> dict[str, Any]:
    return {"id": chat_id, "status": status, "language": language}
