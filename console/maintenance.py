"""Operator commands on the store, run by `charla` (console/cli.py): check the audit
log's hash chains, re-encrypt everything with a new data key, rebuild History's keyed
hashes of contact details, purge now."""

from __future__ import annotations

from console.domain.clock import SystemClock
from console.files.local import LocalStorage
from console.hub.retention import ACTOR
from console.settings import Settings
from console.store.db import open_store
from console.store.history import Progress
from console.store.privacy import Policy
from console.store.rotation import rotate_all


async def audit_check(settings: Settings) -> tuple[bool, list[str]]:
    """(intact, lines to print)."""
    store = await open_store(settings, SystemClock())
    try:
        checked, broken = await store.audit.check()
    finally:
        await store.close()
    lines = [f"charla: {checked} audit events checked"]
    lines += [f"charla: chain {b.chain} breaks at event {b.seq}: it {b.problem}" for b in broken]
    lines.append("charla: the audit log is intact" if not broken else "charla: AUDIT LOG BROKEN")
    return not broken, lines


async def rotate_keys(settings: Settings, progress: Progress | None = None) -> list[str]:
    store = await open_store(settings, SystemClock())
    try:
        if store.cipher.key_count < 2:
            return [
                "charla: CHARLA_DATA_KEY holds one key: put the new key first, the old one "
                "after it (comma-separated), restart the hubs, then run this again"
            ]
        counts = await rotate_all(store)
        # History's keyed hashes are keyed from the data key: made again with the new one
        _read, rebuilt = await store.history.rebuild(progress=progress)
        # attachments in the data dir: each file's own key, wrapped with the data key
        files = 0
        if settings.files.storage_url is None:
            files = await LocalStorage(settings.data_dir / "files", store.cipher).rewrap()
        await store.audit.record(None, "system:cli", "data_key.rotated", detail=counts)
    finally:
        await store.close()
    total = sum(counts.values())
    return [
        f"charla: {total} values re-encrypted with the first key "
        f"({', '.join(f'{t} {n}' for t, n in counts.items() if n)})",
        f"charla: the History look-up keys of {rebuilt} visitors made again",
        f"charla: the keys of {files} attachment files in the data dir wrapped again",
        "charla: now drop the old key from CHARLA_DATA_KEY and restart the hubs",
    ]


async def rebuild_lookups(
    settings: Settings, tenant_id: str | None = None, progress: Progress | None = None
) -> tuple[bool, list[str]]:
    """History's keyed hashes made again from the visitors' encrypted details, of one tenant
    or all: for details stored before the hashes existed, or hashes lost. (done, lines)."""
    store = await open_store(settings, SystemClock())
    try:
        tenant = await store.get_tenant(tenant_id) if tenant_id is not None else None
        if tenant_id is not None and tenant is None:
            return False, [
                f"charla: no tenant {tenant_id!r}: pass a tenant's id (see /api/admin/tenants)"
            ]
        read, rebuilt = await store.history.rebuild(tenant_id, progress)
        await store.audit.record(
            tenant_id, "system:cli", "contact_keys.rebuilt", detail={"visitors": read}
        )
    finally:
        await store.close()
    whose = f"{tenant.name}'s" if tenant is not None else "every tenant's"
    return True, [
        f"charla: the History look-up keys of {rebuilt:,} of {whose} {read:,} visitors made again "
        "(the others gave no name, phone or e-mail)"
    ]


async def purge_now(settings: Settings) -> list[str]:
    """Purge every tenant at once (the daily purge does the same, once a day)."""
    store = await open_store(settings, SystemClock())
    lines = []
    try:
        policies = await store.privacy.policies()
        for tenant in await store.list_tenants():
            run = await store.retention.purge(tenant.id, policies.get(tenant.id, Policy()))
            await store.audit.record(
                tenant.id, ACTOR, "retention.purged", run.id, detail={"counts": run.counts}
            )
            counts = ", ".join(f"{k} {v}" for k, v in run.counts.items())
            lines.append(f"charla: {tenant.name}: {counts}")
    finally:
        await store.close()
    return lines
