"""Building blocks for connector tests: a tenant, a lead and a job, as the worker makes them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from console.domain.leads import Destination
from console.domain.types import Tenant
from integrations.base import DeliveryJob, Event, TranscriptLine
from tests.support.leads import LEAD
from tests.support.tools import ROOT

STARTED = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
# The ADF 1.0 DTD, which every document the ADF connector writes must validate against
ADF_DTD = ROOT.parent / "shared" / "data" / "adf-1.0.dtd"


def tenant(plan: str = "premium", name: str = "Toyota de Bayamón") -> Tenant:
    return Tenant(
        id="t-1",
        name=name,
        plan=plan,  # type: ignore[arg-type]
        languages=("es", "en"),
        timezone="America/Puerto_Rico",
        allowed_origins=("https://dealer.example",),
        hours=None,
        holidays=None,
        bot_enabled=False,
        overflow_after_s=None,
        site_key="sk",
        created_at=STARTED,
    )


def lead(**changes: Any) -> dict[str, Any]:
    """The agent's LEAD as the hub hands it to a connector: stored, its phone in E.164."""
    base: dict[str, Any] = {
        "id": "lead-1",
        "chat_id": "chat-1",
        **copy.deepcopy(LEAD),
        "phone": "+17875550123",
        "language": "es",
        "notes": "Prefers a call after 5 pm",
        "qualified": True,
        "created_at": "2026-11-24T14:05:00.000Z",
    }
    base.update(changes)
    return base


TRANSCRIPT = (
    TranscriptLine(STARTED, "visitor", None, "Hola, busco una Tacoma 2022"),
    TranscriptLine(STARTED + timedelta(seconds=20), "agent", "Ana", "¡Hola! Tenemos dos."),
    TranscriptLine(STARTED + timedelta(seconds=50), "visitor", None, "Mi número es 787-555-0123"),
)


def job(
    *,
    destination: Destination = "salesforce",
    event: Event = "lead.qualified",
    config: dict[str, Any] | None = None,
    secret: str | None = None,
    payload: dict[str, Any] | None = None,
    delivery_id: str = "d-1",
    plan: str = "premium",
) -> DeliveryJob:
    return DeliveryJob(
        delivery_id=delivery_id,
        tenant=tenant(plan),
        event=event,
        destination=destination,
        payload=payload if payload is not None else {"lead": lead()},
        config=config or {},
        secret=secret,
        attempt=1,
        transcript=TRANSCRIPT,
        created_at=STARTED,
    )
