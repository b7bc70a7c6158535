"""Store-level set-up shared by the tests that work below the hub: a tenant, an agent, a chat."""

from __future__ import annotations

from typing import Any

from console.domain.types import Agent, Chat, Tenant
from console.store.repository import Store


async def new_tenant(store: Store, plan: str = "premium", **fields: Any) -> Tenant:
    """A Spanish-first dealership on `plan`; `fields` override any create_tenant argument."""
    values: dict[str, Any] = {
        "name": f"Autos {plan}",
        "plan": plan,
        "languages": ("es", "en"),
        "timezone": "America/Puerto_Rico",
        "allowed_origins": ("https://dealer.example",),
    }
    values.update(fields)
    return await store.create_tenant(**values)


async def new_chat(
    store: Store,
    tenant: Tenant,
    *,
    status: str = "queued",
    language: str = "es",
    text: str = "Hola",
) -> Chat:
    """A new visitor's chat, opened with one message."""
    visitor = await store.visitor_arrives(tenant.id, None)
    chat, _message, _ticket = await store.start_chat(
        tenant_id=tenant.id,
        visitor_id=visitor.id,
        language=language,
        status=status,
        text=text,
        client_msg_id=None,
    )
    return chat


async def new_agent(store: Store, tenant: Tenant, **fields: Any) -> Agent:
    """A Spanish-speaking agent of `tenant` with 5 slots; `fields` override any argument."""
    values: dict[str, Any] = {
        "email": "ana@dealer.example",
        "name": "Ana",
        "password_hash": "-",
        "languages": ["es"],
        "max_chats": 5,
        "role": "agent",
    }
    values.update(fields)
    return await store.create_agent(tenant_id=tenant.id, **values)
