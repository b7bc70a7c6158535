"""The demo tenant: a Puerto Rico car dealership, premium, Spanish and English."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.demo_billing import ensure_billing
from console.demo_history import ensure_history
from console.domain.types import Tenant
from console.security.passwords import PasswordHasher
from console.store.repository import Store

DEMO_SITE_KEY = "sk_demo_autos_borinquen"
DEMO_NOTIFY = "ventas@autosborinquen.example"  # where the demo's ticket notices go
DEMO_PASSWORD = "charla-demo-2026"  # noqa: S105 - printed for the demo on purpose
DEMO_ORIGINS = ("http://127.0.0.1:8080", "http://localhost:8080")


@dataclass(frozen=True)
class DemoRule:
    name: str
    text: dict[str, str]
    conditions: dict[str, Any]


# The sample site's two invitation rules (the sample site itself: console/web/widget.py)
DEMO_RULES = (
    DemoRule(
        "Vehicle page, 20 s",
        {
            "es": "¿Le interesa este vehículo? Le contestamos ahora mismo.",
            "en": "Interested in this vehicle? We can answer right now.",
        },
        {"url_pattern": "/demo/vehicles/*", "min_seconds_on_page": 20},
    ),
    DemoRule(
        "Second page from a search engine",
        {
            "es": "¡Bienvenido! ¿Busca algo en particular? Estamos para ayudarle.",
            "en": "Welcome! Looking for something in particular? We are here to help.",
        },
        {"min_pages_viewed": 2, "referrer_contains": "google"},
    ),
)


# The demo tenant has no hours (open at all times, so that the demo answers whenever it is
# tried): its /horario says just that, never hours the tenant does not keep.
DEMO_CANNED: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "/horario",
        {
            "es": "Por este chat le atendemos todos los días, a cualquier hora.",
            "en": "We answer on this chat every day, at any hour.",
        },
    ),
    (
        "/prueba",
        {
            "es": "¿Le gustaría separar una prueba de manejo? ¿Qué día le conviene?",
            "en": "Would you like to book a test drive? Which day suits you?",
        },
    ),
)

OLD_HOURS_REPLY = {
    "es": "Estamos abiertos de lunes a sábado, de 9:00 a. m. a 6:00 p. m.",
    "en": "We are open Monday to Saturday, 9:00 a.m. to 6:00 p.m.",
}


@dataclass(frozen=True)
class DemoAgent:
    email: str
    name: str
    languages: tuple[str, ...]
    role: str
    max_chats: int = 3


DEMO_AGENTS = (
    DemoAgent("maria@autosborinquen.example", "María Rivera", ("es",), "agent"),
    DemoAgent("john@autosborinquen.example", "John Miller", ("en",), "agent"),
    DemoAgent("luis@autosborinquen.example", "Luis Ortiz", ("es", "en"), "supervisor", 4),
    DemoAgent("admin@autosborinquen.example", "Ana Torres", ("es", "en"), "admin", 2),
)


async def ensure_demo(store: Store, passwords: PasswordHasher, origins: tuple[str, ...]) -> Tenant:
    """Create what is missing and leave what exists: running the demo twice changes nothing."""
    tenant = await store.get_tenant_by_site_key(DEMO_SITE_KEY)
    if tenant is None:
        tenant = await store.create_tenant(
            name="Autos Borinquen (demo)",
            plan="premium",
            languages=("es", "en"),
            timezone="America/Puerto_Rico",
            allowed_origins=origins,
            holidays="PR",
            site_key=DEMO_SITE_KEY,
            bot_enabled=True,
        )
    elif not set(origins) <= set(tenant.allowed_origins):
        # served on another host or port this time: its sample site must still connect
        merged = sorted({*tenant.allowed_origins, *origins})
        tenant = await store.update_tenant(tenant.id, {"allowed_origins": merged}) or tenant
    existing = {a.email for a in await store.list_agents(tenant.id)}
    for agent in DEMO_AGENTS:
        if agent.email not in existing:
            await store.create_agent(
                tenant_id=tenant.id,
                email=agent.email,
                name=agent.name,
                password_hash=await passwords.hash(DEMO_PASSWORD),
                languages=agent.languages,
                max_chats=agent.max_chats,
                role=agent.role,
            )
    if not await store.engagement.list_rules(tenant.id):
        for rule in DEMO_RULES:
            await store.engagement.create_rule(
                tenant.id,
                name=rule.name,
                enabled=True,
                text=rule.text,
                conditions=rule.conditions,
                only_when_agents_available=True,
            )
    canned = await store.config.list_canned(tenant.id)
    if not canned:
        for shortcut, text in DEMO_CANNED:
            await store.config.create_canned(tenant.id, shortcut=shortcut, text=text)
    for old in canned:
        if old.shortcut == "/horario" and old.text == OLD_HOURS_REPLY:
            # an earlier demo's reply, Monday to Saturday 9 to 6: the tenant never kept those
            await store.config.delete_canned(tenant.id, old.id)
            await store.config.create_canned(
                tenant.id, shortcut=old.shortcut, text=DEMO_CANNED[0][1]
            )
    if await store.integrations.get(tenant.id, "notify") is None:
        # Ticket notices go to the dealer's sales desk (with no SMTP relay: ./var/mail)
        await store.integrations.put(tenant.id, "notify", {"to": DEMO_NOTIFY}, None)
    rules = [rule.id for rule in await store.engagement.list_rules(tenant.id)]
    await ensure_history(store, tenant, rules)
    await ensure_billing(store, tenant)
    return tenant
