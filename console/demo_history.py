"""The demo tenant's service agreement and a month of history, so that its Reports and
History screens are not empty on first look: chats with their timings and ratings, visitors
with names, phones and e-mails (`demo_people`) and the keyed hashes History finds them by,
invitations and the leads they brought, and the agents' presence. Made the same way every
time (fixed seeds), from the first day of last month to yesterday, in the tenant's open
hours."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from console.contract.agreement import parse_agreement
from console.contract.sla import local_midnight
from console.demo_people import demo_people
from console.domain.types import Agent, Tenant
from console.store.history import KEYS
from console.store.models import (
    CHATS,
    MESSAGES,
    VISITORS,
    DeliveryRow,
    InvitationRow,
    LeadRow,
    PresenceEventRow,
    new_id,
)
from console.store.repository import Store

DEMO_HOURS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
DEMO_AGREEMENT: dict[str, Any] = {
    "answer_s": 30,
    "target_pct": "90.00",
    "max_abandon_pct": "10.00",
    "csat_min": "4.30",
    "csat_min_sample": 20,
    "coverage": {"hours": DEMO_HOURS, "holidays": "PR"},
    "credits": [
        {"below_pct": "90.00", "credit_pct": "5.00"},
        {"below_pct": "85.00", "credit_pct": "10.00"},
        {"below_pct": "75.00", "credit_pct": "20.00"},
    ],
    "csat_credit_pct": "5.00",
    "cap_pct": "25.00",
    "incentive": {"min_pct": "97.00", "csat_min": "4.70", "bonus_pct": "3.00"},
}
CHATS_PER_DAY = (8, 16)
# what visitors tell the pre-chat form or the bot: a name always, a phone or an e-mail often
GAVE_PHONE, GAVE_EMAIL = 0.85, 0.55


async def ensure_history(store: Store, tenant: Tenant, rule_ids: list[str]) -> None:
    """The agreement (from the first day of last month) and the history, once."""
    if await store.agreements.versions(tenant.id):
        return
    now = store.clock.now()
    zone = ZoneInfo(tenant.timezone)
    today = now.astimezone(zone).date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    agreement = parse_agreement({**DEMO_AGREEMENT, "effective_from": first.isoformat()})
    agents = [a for a in await store.list_agents(tenant.id) if a.role != "admin"]
    rows = _History(store, tenant, agents, rule_ids, random.Random(2026))  # noqa: S311
    day = first
    while day < today:
        if day.weekday() < 6:
            rows.day(day, zone)
        day += timedelta(days=1)
    async with store.engine.begin() as conn:
        for table, values in rows.tables():
            if values:
                await conn.execute(insert(table), values)
    await store.agreements.add_agreement(tenant.id, agreement)


class _History:
    def __init__(
        self,
        store: Store,
        tenant: Tenant,
        agents: list[Agent],
        rules: list[str],
        rng: random.Random,
    ) -> None:
        self.store, self.tenant, self.agents, self.rules, self.rng = (
            store,
            tenant,
            agents,
            rules,
            rng,
        )
        # its own generator, so that the chats' timings and ratings stay what they were
        self.people_rng = random.Random(787)  # noqa: S311
        self.people = demo_people(self.people_rng)
        self.visitors: list[dict[str, Any]] = []
        self.contact_keys: list[dict[str, Any]] = []
        self.chats: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.invitations: list[dict[str, Any]] = []
        self.leads: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.presence: list[dict[str, Any]] = []

    def tables(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        return [
            (VISITORS, self.visitors),
            (KEYS, self.contact_keys),
            (CHATS, self.chats),
            (MESSAGES, self.messages),
            (InvitationRow.__table__, self.invitations),
            (LeadRow.__table__, self.leads),
            (DeliveryRow.__table__, self.deliveries),
            (PresenceEventRow.__table__, self.presence),
        ]

    def day(self, day: date, zone: ZoneInfo) -> None:
        opening = local_midnight(day, zone) + timedelta(hours=9)
        for agent in self.agents:
            self.presence.append(self._presence(agent, "online", opening))
            self.presence.append(self._presence(agent, "offline", opening + timedelta(hours=9)))
        for _ in range(self.rng.randint(*CHATS_PER_DAY)):
            self.chat(opening + timedelta(seconds=self.rng.randint(0, 9 * 3600 - 900)))

    def _presence(self, agent: Agent, status: str, at: datetime) -> dict[str, Any]:
        return {"tenant_id": self.tenant.id, "agent_id": agent.id, "status": status, "at": at}

    def chat(self, start: datetime) -> None:
        rng = self.rng
        agent = rng.choice(self.agents)
        visitor_id, chat_id = new_id(), new_id()
        language = rng.choice([lang for lang in agent.languages if lang in ("es", "en")])
        told = self._visitor(visitor_id, start)
        invitation_id = None
        if self.rules and rng.random() < 0.4:
            invitation_id = new_id()
            self.invitations.append(
                {
                    "id": invitation_id,
                    "tenant_id": self.tenant.id,
                    "rule_id": rng.choice(self.rules),
                    "visitor_id": visitor_id,
                    "visit": 1,
                    "language": language,
                    "status": "accepted",
                    "chat_id": chat_id,
                    "shown_at": start - timedelta(seconds=20),
                    "responded_at": start,
                }
            )
        wait = rng.choice([4, 8, 12, 15, 18, 22, 25, 28, 35, 50]) + rng.random()
        abandoned = rng.random() < 0.05
        answered = None if abandoned else start + timedelta(seconds=wait)
        closed = start + timedelta(seconds=wait if abandoned else rng.randint(180, 1500))
        self.chats.append(
            {
                "id": chat_id,
                "tenant_id": self.tenant.id,
                "visitor_id": visitor_id,
                "status": "closed",
                "language": language,
                "agent_id": None if abandoned else agent.id,
                "priority": 0,
                "overflowed": False,
                "close_reason": "abandoned" if abandoned else "agent_closed",
                "created_at": start,
                "queued_at": start,
                "assigned_at": None if abandoned else start + timedelta(seconds=1),
                "first_agent_reply_at": answered,
                "closed_at": closed,
                "abandoned_at": closed if abandoned else None,
                "csat_score": None if abandoned or rng.random() < 0.4 else _score(rng),
                "invitation_id": invitation_id,
            }
        )
        hello = "Hola, busco información" if language == "es" else "Hi, I need some information"
        self._message(chat_id, "visitor", None, hello, start)
        if answered is not None:
            reply = "¡Con gusto le ayudo!" if language == "es" else "Happy to help!"
            self._message(chat_id, "agent", agent, reply, answered)
            if invitation_id is not None and rng.random() < 0.5:
                self._lead(chat_id, visitor_id, language, agent, closed, data=told)

    def _visitor(self, visitor_id: str, at: datetime) -> dict[str, str]:
        """A visitor row with what they told (a returning customer is a new visitor who
        gives the same details), and its keyed hashes, as live chats write them."""
        rng = self.people_rng
        who = rng.choice(self.people)
        phone = who.phone if rng.random() < GAVE_PHONE else None
        email = who.email if rng.random() < GAVE_EMAIL else None
        visitor, keys = visitor_rows(
            self.store, self.tenant.id, visitor_id, at, name=who.name, phone=phone, email=email
        )
        self.visitors.append(visitor)
        self.contact_keys += keys
        # what a lead taken in the chat says: the same details (a lead's are the visitor's)
        given, father, mother = who.name.rsplit(" ", 2)
        told = {"first_name": given, "last_name": f"{father} {mother}", "phone": phone}
        told["email"] = email
        return {key: value for key, value in told.items() if value}

    def _message(
        self, chat_id: str, author: str, agent: Agent | None, text: str, at: datetime
    ) -> None:
        self.messages.append(
            {
                "chat_id": chat_id,
                "author": author,
                "author_name": agent.name if agent else None,
                "agent_id": agent.id if agent else None,
                "sender": f"agent:{agent.id}" if agent else author,
                "text_enc": self.store.cipher.encrypt(text),
                "client_msg_id": None,
                "created_at": at,
            }
        )

    def _lead(
        self,
        chat_id: str,
        visitor_id: str,
        language: str,
        agent: Agent,
        at: datetime,
        *,
        data: dict[str, str],
    ) -> None:
        lead_id = new_id()
        self.leads.append(
            {
                "id": lead_id,
                "tenant_id": self.tenant.id,
                "chat_id": chat_id,
                "visitor_id": visitor_id,
                "language": language,
                "interest": "buy",
                "qualified": True,
                "source": "agent",
                "agent_id": agent.id,
                "data_enc": self.store.cipher.encrypt(json.dumps(data)),
                "created_at": at,
                "updated_at": at,
            }
        )
        self.deliveries.append(
            {
                "id": new_id(),
                "tenant_id": self.tenant.id,
                "lead_id": lead_id,
                "chat_id": chat_id,
                "event": "lead.qualified",
                "destination": "adf",
                "status": "delivered",
                "attempts": 1,
                "next_attempt_at": at,
                "created_at": at,
                "delivered_at": at + timedelta(seconds=3),
            }
        )


def visitor_rows(
    store: Store,
    tenant_id: str,
    visitor_id: str,
    at: datetime,
    *,
    name: str | None,
    phone: str | None,
    email: str | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A visitor's row (its details encrypted) and its contact keys (History's keyed hashes),
    as live chats write them, for a bulk insert of made-up history (also bench/)."""
    cipher = store.cipher
    visitor = {
        "id": visitor_id,
        "tenant_id": tenant_id,
        "name_enc": cipher.encrypt(name) if name else None,
        "phone_enc": cipher.encrypt(phone) if phone else None,
        "email_enc": cipher.encrypt(email) if email else None,
        "visits": 1,
        "first_seen_at": at,
        "last_seen_at": at,
    }
    found = store.history.hasher.keys(tenant_id, name=name, email=email, phone=phone)
    keys = [
        {"visitor_id": visitor_id, "tenant_id": tenant_id, "kind": kind, "hash": digest}
        for kind, digest in dict.fromkeys(found)
    ]
    return visitor, keys


def _score(rng: random.Random) -> int:
    return rng.choices([5, 4, 3, 2, 1], weights=[62, 25, 7, 4, 2])[0]
