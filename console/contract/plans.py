"""What each plan of the agreement allows (clause 1, scope of services by tier).

- basic: chat, queue and routing in the tenant's primary language, canned responses,
  tickets, transcripts, CSAT;
- proactive: basic, plus invitation rules, the bot's lead capture and lead delivery by ADF
  e-mail and signed webhooks;
- premium: proactive, plus Salesforce, routing in every language the tenant serves (with
  overflow), the bot after hours, and supervisors' live analytics.

Pure: every rule takes the plan (or a tenant) and answers; the hub, the store, the web API
and the outbox ask here instead of comparing plan names themselves.
"""

from __future__ import annotations

from typing import Literal

from console.domain.types import PLANS, Plan, Tenant

Feature = Literal[
    "invitation_rules",
    "lead_capture",
    "adf",
    "webhook",
    "salesforce",
    "multilingual",
    "after_hours",
    "analytics",
]

REQUIRED: dict[Feature, Plan] = {
    "invitation_rules": "proactive",
    "lead_capture": "proactive",
    "adf": "proactive",
    "webhook": "proactive",
    "salesforce": "premium",
    "multilingual": "premium",
    "after_hours": "premium",
    "analytics": "premium",
}


def plan_allows(plan: str, needed: Plan) -> bool:
    """`plan` is `needed` or above it (an unknown plan allows nothing)."""
    return plan in PLANS and PLANS.index(plan) >= PLANS.index(needed)


def allows(plan: str, feature: Feature) -> bool:
    return plan_allows(plan, REQUIRED[feature])


DESTINATIONS: dict[str, Feature] = {"salesforce": "salesforce", "adf": "adf", "webhook": "webhook"}


def delivers_to(plan: str, destination: str) -> bool:
    """Whether leads and events may go to `destination` (salesforce, adf, webhook; the
    tenant's own notification e-mail, `notify`, and a visitor's transcript by e-mail,
    `email`, on every plan)."""
    if destination in ("notify", "email"):
        return plan in PLANS
    feature = DESTINATIONS.get(destination)
    return feature is not None and allows(plan, feature)


def routing_language(tenant: Tenant, wanted: str) -> str:
    """The language a chat queues in: the visitor's on premium, else the primary one."""
    return wanted if allows(tenant.plan, "multilingual") else tenant.primary_language


def agent_language(tenant: Tenant, language: str) -> str | None:
    """The language an agent must speak to take the chat of a visitor in `language`: the
    one the chat routes in, or None (any agent) when premium overflow lets any take it."""
    return None if overflows(tenant) else routing_language(tenant, language)


def overflows(tenant: Tenant) -> bool:
    """A chat that waits too long may go to an agent of another language (premium)."""
    return allows(tenant.plan, "multilingual") and tenant.overflow_after_s is not None


def overflow_after_ms(tenant: Tenant) -> int:
    """How long a chat waits for its language before overflowing; 0 for never."""
    if not overflows(tenant):
        return 0
    return (tenant.overflow_after_s or 0) * 1000


def bot_takes(tenant: Tenant, closed_reason: str | None) -> bool:
    """Whether a new chat of this tenant starts with its bot.

    Lead capture starts at the proactive plan; outside opening hours only premium has
    after-hours coverage, and other plans keep the offline form.
    """
    if not tenant.bot_enabled or not allows(tenant.plan, "lead_capture"):
        return False
    if closed_reason in (None, "no_agents"):
        return True
    return allows(tenant.plan, "after_hours")
