"""Erasure by e-mail or phone (issue 22) finds the visitor through History's keyed hashes of
contact details, not by decrypting every visitor of the tenant: a wrapped cipher counts the
details decrypted. Only visitors whose details have no hashes yet are decrypted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from console.domain.leads import LeadIn
from console.domain.types import Tenant
from console.store.history_models import ContactKeyRow
from console.store.models import VisitorRow
from console.store.privacy import Policy
from console.store.repository import Store
from console.web.keys import STORE
from tests.support.harness import LiveHub
from tests.support.store import new_chat, new_tenant

VISITORS = 40


class Decrypts:
    """Counts the values the store's cipher decrypts (`decrypt_optional` goes through
    `decrypt` too)."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        monkeypatch.setattr(store.cipher, "decrypt", self._counting(store.cipher.decrypt))

    def _counting(self, real: Callable[[str], str]) -> Callable[[str], str]:
        def counted(token: str) -> str:
            self.count += 1
            return real(token)

        return counted


async def visitors_with_details(store: Store, tenant: Tenant, n: int = VISITORS) -> list[str]:
    """`n` visitors who gave a name, an e-mail and a phone (+1 787 555 0000 + i)."""
    ids = []
    for i in range(n):
        visitor = await store.visitor_arrives(tenant.id, None)
        await store.update_visitor_contact(
            visitor.id,
            name=f"Cliente Número {i}",
            email=f"cliente{i}@example.com",
            phone=f"+1787555{i:04d}",
            tenant_id=tenant.id,
        )
        ids.append(visitor.id)
    return ids


async def test_the_look_up_reads_hashes_and_decrypts_no_visitor(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await new_tenant(store)
    other = await new_tenant(store, name="Otro dealer")
    ours = await visitors_with_details(store, tenant)
    theirs = await visitors_with_details(store, other, 10)
    decrypts = Decrypts(store, monkeypatch)

    find = store.privacy.find_visitors
    assert [ours[7]] == await find(tenant.id, phone="(787) 555-0007", region="PR")
    assert [ours[12]] == await find(tenant.id, email="Cliente12@Example.COM")
    assert sorted([ours[3], ours[9]]) == sorted(
        await find(tenant.id, email="cliente3@example.com", phone="787 555 0009")
    )
    assert [] == await find(tenant.id, phone="787-555-9999")
    assert [theirs[7]] == await find(other.id, phone="+17875550007")
    assert 0 == decrypts.count


async def test_visitors_without_hashes_are_the_only_ones_decrypted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await new_tenant(store)
    ours = await visitors_with_details(store, tenant)
    # details written before the hashes existed (migration 0007): encrypted, no hash
    older = await store.visitor_arrives(tenant.id, None)
    await store.write(
        update(VisitorRow)
        .where(VisitorRow.id == older.id)
        .values(
            email_enc=store.cipher.encrypt("Antes@Example.com"),
            phone_enc=store.cipher.encrypt("+17875550007"),
        )
    )
    decrypts = Decrypts(store, monkeypatch)

    found = await store.privacy.find_visitors(tenant.id, phone="787-555-0007", region="PR")
    assert [ours[7], older.id] == found
    assert 2 == decrypts.count  # the older visitor's two details, of 41 visitors
    assert [older.id] == await store.privacy.find_visitors(tenant.id, email="antes@example.com")


async def test_an_erased_visitor_keeps_no_hashes_and_is_not_found_again(store: Store) -> None:
    tenant = await new_tenant(store)
    ours = await visitors_with_details(store, tenant, 5)
    erasure = await store.privacy.erase(tenant, [ours[2]])
    assert 1 == erasure.counts["visitors"]
    assert [] == await store.privacy.find_visitors(tenant.id, phone="+17875550002")
    async with store.reading() as s:
        left = await s.scalar(
            select(func.count())
            .select_from(ContactKeyRow)
            .where(ContactKeyRow.visitor_id == ours[2])
        )
    assert 0 == left
    assert [ours[3]] == await store.privacy.find_visitors(tenant.id, phone="+17875550003")


async def test_erasure_over_http_by_phone_and_by_email_spares_the_others(
    hub: LiveHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = hub.app[STORE]
    tenant = await hub.tenant()
    admin = await hub.agent(tenant, languages=["es"], role="admin")
    other = await hub.tenant()
    others_admin = await hub.agent(other, languages=["es"], role="admin")
    crowd = await visitors_with_details(store, await store.get_tenant(tenant["id"]) or _gone())
    theirs = await visitors_with_details(store, await store.get_tenant(other["id"]) or _gone(), 25)
    # one visitor who gave their details in the widget, as a visitor does
    caller = await hub.visitor_peer(tenant)
    ack = await caller.call(
        "start_chat",
        {"text": "Llámenme", "language": "es", "name": "Ana", "email": "Ana.R@Example.com"},
    )
    assert ack["ok"], ack
    session = await caller.wait_for("session")
    decrypts = Decrypts(store, monkeypatch)

    status, receipt = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"phone": "(787) 555-0021"}
    )
    assert (200, [crowd[21]]) == (status, receipt["visitor_ids"]), receipt
    status, receipt = await hub.request(
        "POST", "/api/visitors/erase", token=admin["token"], json={"email": "ana.r@example.com"}
    )
    assert (200, [session["visitor_id"]]) == (status, receipt["visitor_ids"]), receipt
    assert (1, 1) == (receipt["erased"]["visitors"], receipt["erased"]["chats"])
    assert 0 == decrypts.count

    gone = await store.get_visitor(crowd[21], pages=False)
    assert gone is not None
    assert (None, None) == (gone.phone, gone.email)
    # the neighbour and the other tenant's visitor with the very same phone are untouched
    for kept_id, phone in ((crowd[20], "+17875550020"), (theirs[21], "+17875550021")):
        kept = await store.get_visitor(kept_id, pages=False)
        assert kept is not None
        assert phone == kept.phone
    status, theirs_receipt = await hub.request(
        "POST", "/api/visitors/erase", token=others_admin["token"], json={"phone": "7875550021"}
    )
    assert (200, [theirs[21]]) == (status, theirs_receipt["visitor_ids"])


def _gone() -> Tenant:
    raise AssertionError("the tenant was just created")


class Later:
    """The store's clock, 800 days on: every visitor is past the default retention."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC) + timedelta(days=800)

    def now(self) -> datetime:
        return self.at


async def test_the_retention_purge_takes_the_hashes_with_the_details(store: Store) -> None:
    tenant = await new_tenant(store)
    ours = await visitors_with_details(store, tenant, 3)
    assert [ours[1]] == await store.privacy.find_visitors(tenant.id, phone="+17875550001")
    store.clock = Later()
    run = await store.retention.purge(tenant.id, Policy())
    assert 3 == run.counts["visitors"]
    assert [] == await store.privacy.find_visitors(tenant.id, phone="+17875550001")
    async with store.reading() as s:
        left = await s.scalar(
            select(func.count())
            .select_from(ContactKeyRow)
            .where(ContactKeyRow.tenant_id == tenant.id)
        )
    assert 0 == left


async def test_a_lead_s_phone_is_found_and_an_erased_lead_is_not_decrypted_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await new_tenant(store)
    crowd = await visitors_with_details(store, tenant, 10)
    chat = await new_chat(store, tenant)
    lead = {"first_name": "Ana", "phone": "787-555-0777", "interest": "buy", "qualified": True}
    await store.leads.save(tenant, chat, LeadIn.model_validate(lead), source="agent", agent_id=None)
    decrypts = Decrypts(store, monkeypatch)
    assert [chat.visitor_id] == await store.privacy.find_visitors(
        tenant.id, phone="(787) 555-0777", region="PR"
    )
    await store.privacy.erase(tenant, [chat.visitor_id])
    assert [] == await store.privacy.find_visitors(tenant.id, phone="(787) 555-0777")
    assert [crowd[4]] == await store.privacy.find_visitors(tenant.id, phone="(787) 555-0004")
    assert 0 == decrypts.count
