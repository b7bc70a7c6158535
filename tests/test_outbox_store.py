"""The outbox's rows on SQLite and PostgreSQL: leases, outcomes, retries, tenant isolation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from console.domain.leads import LeadIn
from console.domain.types import Tenant
from console.store.repository import Store
from tests.support.store import new_chat, new_tenant

LEAD = {"first_name": "Ana", "phone": "787-555-0123", "interest": "buy"}


async def queued(store: Store, count: int = 1) -> tuple[Tenant, list[str]]:
    """A premium tenant with Salesforce configured and `count` qualified leads saved."""
    tenant = await new_tenant(store, languages=("es",))
    await store.integrations.put(tenant.id, "salesforce", {"login_url": "https://x"}, "secret")
    ids: list[str] = []
    for _ in range(count):
        chat = await new_chat(store, tenant)
        _lead, deliveries = await store.leads.save(
            tenant, chat, LeadIn.model_validate(LEAD), source="agent", agent_id=None
        )
        ids.extend(d.id for d in deliveries)
    return tenant, ids


async def test_concurrent_workers_never_hold_one_delivery_together(store: Store) -> None:
    _tenant, ids = await queued(store, 6)

    claims = await asyncio.gather(
        *(store.outbox.claim(f"w{n}", limit=6, lease_s=60) for n in range(4))
    )

    held = [c.id for claim in claims for c in claim]
    assert sorted(ids) == sorted(held)  # each delivery once, across all four workers
    assert [] == await store.outbox.claim("late", limit=6, lease_s=60)


async def test_an_expired_lease_is_claimed_again_and_only_the_holder_records(
    store: Store,
) -> None:
    _tenant, [delivery_id] = await queued(store)
    [first] = await store.outbox.claim("dead-worker", limit=5, lease_s=60)
    assert 1 == first.attempts

    later = store.clock.now() + timedelta(seconds=61)
    [second] = await store.outbox.claim("new-worker", limit=5, lease_s=60, now=later)
    assert (delivery_id, 2) == (second.id, second.attempts)
    # the dead worker's late answer is ignored; the holder's counts
    assert False is await store.outbox.delivered(delivery_id, "dead-worker", "00Q-stale")
    assert True is await store.outbox.delivered(delivery_id, "new-worker", "00Q-fresh")
    tenant_id = second.tenant_id
    done = await store.outbox.get(tenant_id, delivery_id)
    assert done is not None
    assert ("delivered", "00Q-fresh", 2) == (done.status, done.external_id, done.attempts)


async def test_retry_later_waits_and_failed_parks_until_a_person_retries(store: Store) -> None:
    tenant, [delivery_id] = await queued(store)
    [claimed] = await store.outbox.claim("w", limit=5, lease_s=60)
    soon = store.clock.now() + timedelta(seconds=30)
    assert await store.outbox.retry_later(delivery_id, "w", "HTTP 503", soon)
    assert [] == await store.outbox.claim("w", limit=5, lease_s=60)
    [again] = await store.outbox.claim("w", limit=5, lease_s=60, now=soon + timedelta(seconds=1))
    assert (claimed.id, 2) == (again.id, again.attempts)

    assert await store.outbox.failed(delivery_id, "w", "REQUIRED_FIELD_MISSING")
    assert [] == await store.outbox.claim("w", limit=5, lease_s=60, now=soon + timedelta(hours=1))
    [parked] = await store.outbox.search(tenant.id, status="failed")
    assert ("failed", "REQUIRED_FIELD_MISSING") == (parked.status, parked.last_error)

    assert (None, False) == await store.outbox.retry("another-tenant", delivery_id)
    retried, changed = await store.outbox.retry(tenant.id, delivery_id)
    assert retried is not None
    assert changed is True
    assert ("pending", 0) == (retried.status, retried.attempts)
    [back] = await store.outbox.claim("w", limit=5, lease_s=60)
    assert (delivery_id, 1) == (back.id, back.attempts)


async def test_chat_closed_rows_carry_their_body_encrypted_for_subscribed_webhooks(
    store: Store,
) -> None:
    tenant, _ = await queued(store, 0)
    hook = await store.integrations.add_webhook(
        tenant.id, url="https://crm.example/h", secret="s" * 16, events=["chat.closed"]
    )
    await store.integrations.add_webhook(
        tenant.id, url="https://crm.example/l", secret="s" * 16, events=["lead.qualified"]
    )
    chat = await new_chat(store, tenant)

    [row] = await store.outbox.chat_closed(tenant, chat, "agent_closed")

    assert ("webhook", hook.id, "chat.closed") == (row.destination, row.target_id, row.event)
    [claimed] = await store.outbox.claim("w", limit=5, lease_s=60)
    assert claimed.payload is not None
    assert (chat.id, "agent_closed") == (
        claimed.payload["chat"]["id"],
        claimed.payload["chat"]["reason"],
    )
    found = await store.integrations.webhook(tenant.id, hook.id)
    assert found is not None
    assert "s" * 16 == found[1]
    assert None is await store.integrations.webhook("another-tenant", hook.id)


async def test_a_basic_tenant_queues_no_chat_closed_rows(store: Store) -> None:
    tenant = await new_tenant(store, "basic", languages=("es",), allowed_origins=())
    await store.integrations.add_webhook(
        tenant.id, url="https://crm.example/h", secret="s" * 16, events=["chat.closed"]
    )
    assert [] == await store.outbox.chat_closed(tenant, await new_chat(store, tenant), "x")


async def test_a_close_whose_rows_a_crash_lost_is_queued_once_by_the_recovery_sweep(
    store: Store,
) -> None:
    tenant, _ = await queued(store, 0)
    before = await new_chat(store, tenant)
    await store.close_chat(before.id, "agent_closed")  # closed before the webhook existed
    hook = await store.integrations.add_webhook(
        tenant.id, url="https://crm.example/h", secret="s" * 16, events=["chat.closed"]
    )
    await store.integrations.add_webhook(
        tenant.id, url="https://crm.example/l", secret="s" * 16, events=["lead.qualified"]
    )
    chat = await new_chat(store, tenant)
    closed = await store.close_chat(chat.id, "visitor_ended")  # ...and the hub died here
    assert closed is not None

    assert 0 == await store.outbox.recover_chat_closed()  # too recent: the hub may be at it
    later = store.clock.now() + timedelta(minutes=1)
    assert 1 == await store.outbox.recover_chat_closed(now=later)
    assert 0 == await store.outbox.recover_chat_closed(now=later)
    # the hub's own hook, late, adds nothing either
    assert [] == await store.outbox.chat_closed(tenant, closed, "visitor_ended")

    [row] = await store.outbox.claim("w", limit=5, lease_s=60)
    assert (chat.id, hook.id) == (row.chat_id, row.target_id)
    assert row.payload is not None
    assert "visitor_ended" == row.payload["chat"]["reason"]
