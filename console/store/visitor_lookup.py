"""Finding a tenant's visitors by e-mail or phone for erasure, without decrypting them.

History keeps keyed hashes of each visitor's phone, e-mail and name words
(`contact_keys`, console/security/lookup.py), written whenever those details are. A look-up
hashes the normalised value asked for (the whole e-mail lower-cased; the phone in E.164,
read in the tenant's country) and reads the matching rows. Only visitors a hash cannot
find are decrypted and compared: those stored before the hashes existed (migration 0007)
and not rebuilt since, and any with a detail but no hash of its kind. Once the hashes are
rebuilt there are none.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from console.domain.contact import normalize_email, normalize_phone
from console.security.lookup import PURPOSE, ContactHasher
from console.store.base import StoreBase
from console.store.history_models import ContactKeyRow
from console.store.models import LeadRow, VisitorRow

Unhashed = tuple[str, str | None, str | None]  # a visitor's id, email_enc, phone_enc


async def find_by_contact(
    store: StoreBase,
    tenant_id: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    region: str = "US",
) -> list[str]:
    """Ids of the tenant's visitors with this e-mail or phone (their own, or a lead's)."""
    wanted: dict[str, str] = {}
    if email:
        wanted["email"] = normalize_email(email).lower()
    if phone:
        wanted["phone"] = normalize_phone(phone, region)
    if not wanted:
        return []
    hasher = ContactHasher(store.cipher.derive(PURPOSE))
    keys = ContactKeyRow
    by_hash = (
        select(keys.visitor_id)
        .where(
            keys.tenant_id == tenant_id,
            or_(
                *(
                    (keys.kind == kind) & (keys.hash == hasher.digest(tenant_id, kind, value))
                    for kind, value in wanted.items()
                )
            ),
        )
        .order_by(keys.visitor_id)
    )
    async with store.reading() as s:
        found = list(dict.fromkeys(await s.scalars(by_hash)))
        unhashed = await _unhashed(s, tenant_id, wanted.keys())
    for visitor_id in await _compare(store, unhashed, wanted, region):
        if visitor_id not in found:
            found.append(visitor_id)
    return found


async def _unhashed(s: AsyncSession, tenant_id: str, kinds: Iterable[str]) -> list[Unhashed]:
    """The tenant's visitors a hash look-up would miss: one with no hash at all but an
    e-mail or phone, or one with a detail of a kind asked for but no hash of that kind. (A
    lead's details are written on its visitor too; an erased or purged visitor, with no
    details left, is not among them, however many leads it had.)"""
    keys = ContactKeyRow
    v = VisitorRow

    def hashed(kind: str | None = None) -> Any:
        query = select(keys.visitor_id).where(keys.visitor_id == v.id)
        return exists(query.where(keys.kind == kind) if kind else query)

    column = {"email": v.email_enc, "phone": v.phone_enc}
    never = ~hashed() & (v.email_enc.is_not(None) | v.phone_enc.is_not(None))
    missing = [column[kind].is_not(None) & ~hashed(kind) for kind in kinds]
    rows = await s.execute(
        select(v.id, v.email_enc, v.phone_enc)
        .where(v.tenant_id == tenant_id, or_(never, *missing))
        .order_by(v.id)
    )
    return [(r.id, r.email_enc, r.phone_enc) for r in rows]


async def _compare(
    store: StoreBase, rows: Sequence[Unhashed], wanted: dict[str, str], region: str
) -> list[str]:
    """Which of these visitors (or their leads) have a wanted detail: decrypted."""
    if not rows:
        return []
    cipher = store.cipher

    def by_email(value: str) -> str:
        return normalize_email(value).lower()

    def by_phone(value: str) -> str:
        return normalize_phone(value, region)

    normalizers: dict[str, Callable[[str], str]] = {"email": by_email, "phone": by_phone}

    def matches(**details: str | None) -> bool:
        for kind, value in details.items():
            if value and kind in wanted:
                with contextlib.suppress(ValueError):
                    if normalizers[kind](value) == wanted[kind]:
                        return True
        return False

    found = [
        visitor_id
        for visitor_id, mail, tel in rows
        if matches(email=cipher.decrypt_optional(mail), phone=cipher.decrypt_optional(tel))
    ]
    async with store.reading() as s:
        leads = await s.execute(
            select(LeadRow.visitor_id, LeadRow.data_enc).where(
                LeadRow.visitor_id.in_([r[0] for r in rows])
            )
        )
        for visitor_id, data_enc in leads:
            data = json.loads(cipher.decrypt(data_enc))
            if visitor_id not in found and matches(
                email=data.get("email"), phone=data.get("phone")
            ):
                found.append(str(visitor_id))
    return found
