"""The bot runner's store: a tenant's script and the bot's tickets, on SQLite and PostgreSQL."""

from __future__ import annotations

from bots.script import default_script, load_script
from console.store.repository import Store
from tests.support.store import new_chat, new_tenant


async def _chat(store: Store) -> tuple[str, str, str]:
    tenant = await new_tenant(store, bot_enabled=True)
    chat = await new_chat(store, tenant, status="bot")
    return tenant.id, chat.visitor_id, chat.id


async def test_a_tenants_script_is_stored_as_data_and_loads_back(store: Store) -> None:
    tenant_id, _visitor_id, _chat_id = await _chat(store)
    assert None is await store.bots.script_data(tenant_id)  # the default script
    custom = default_script().to_data()
    custom["settings"]["bot_name"] = "Lola"
    assert await store.bots.set_script_data(tenant_id, custom)
    stored = await store.bots.script_data(tenant_id)
    assert "Lola" == load_script(stored).settings.bot_name
    assert False is await store.bots.set_script_data("no-such-tenant", custom)


async def test_a_bot_ticket_is_listed_with_its_contact_details(store: Store) -> None:
    tenant_id, visitor_id, chat_id = await _chat(store)
    added = await store.add_ticket(
        tenant_id=tenant_id,
        chat_id=chat_id,
        visitor_id=visitor_id,
        language="es",
        reason="after_hours",
        text="Bot summary - interest: buy",
        name="Ana Rivera",
        email=None,
        phone="+17875550123",
    )
    ticket_id = added.id
    [ticket] = await store.list_tickets(tenant_id)
    assert (
        ticket_id,
        chat_id,
        "after_hours",
        "Ana Rivera",
        "+17875550123",
        None,
        "Bot summary - interest: buy",
    ) == (
        ticket.id,
        ticket.chat_id,
        ticket.reason,
        ticket.name,
        ticket.phone,
        ticket.email,
        ticket.text,
    )
    other_tenant, _v, _c = await _chat(store)
    assert [] == await store.list_tickets(other_tenant)
