"""A tenant's month as billing gathered it: the computed bill and where its figures came
from (usage, the SLA month, what it bills of earlier invoices)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from console.contract.billing import Bill
from console.contract.profile import Profile
from console.domain.types import Tenant


@dataclass(frozen=True)
class Month:
    """A tenant's month as billing reads it: the bill and where its figures came from."""

    tenant: Tenant
    profile: Profile
    period: str
    issued_on: date
    bill: Bill
    usage: dict[str, Any]
    sla: dict[str, Any] | None
    tax_status: str
    trace: dict[str, Any]
    fee_ids: tuple[int, ...]
    note_ids: tuple[str, ...]
