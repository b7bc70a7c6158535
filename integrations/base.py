"""The one interface every destination implements, and what the outbox hands it.

A connector turns one outbox row into one delivery. It never touches the store: the worker
reads everything the connector needs (the event's body, the tenant's settings and secret,
the transcript) and records the outcome. A connector says how a failure should be treated by
the exception it raises, so that the retry policy lives in one place (the worker).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from console.domain.leads import Destination
from console.domain.types import Tenant

Event = Literal[
    "lead.qualified",
    "lead.updated",
    "chat.closed",
    "visitor.erased",
    "ticket.created",
    "sla.breached",
    "transcript.email",
]
# a lead's first delivery to a destination, then each later change of the same lead
LEAD_EVENTS: tuple[Event, ...] = ("lead.qualified", "lead.updated")


@dataclass(frozen=True)
class TranscriptLine:
    """One stored message, as a CRM shows it: no ids, no client bookkeeping."""

    at: datetime
    author: str
    author_name: str | None
    text: str
    # the attached file's name, for a message that carries one (PROTOCOL 1.2, Attachments)
    attachment: str | None = None


@dataclass(frozen=True)
class DeliveryJob:
    """Everything one delivery needs, read by the worker before the connector runs."""

    delivery_id: str
    tenant: Tenant
    event: Event
    destination: Destination
    # The event's body as the protocol shows it: {"lead": Lead} or {"chat": {...}}
    payload: dict[str, Any]
    config: dict[str, Any]
    secret: str | None
    attempt: int
    # when the event happened (the delivery row was written): ADF's requestdate, the webhook's
    created_at: datetime
    transcript: tuple[TranscriptLine, ...] = ()
    # the destination's id for this lead from an earlier delivery (a Salesforce Lead Id):
    # `lead.updated` changes that record rather than making another
    external_id: str | None = None

    @property
    def lead(self) -> dict[str, Any]:
        lead = self.payload.get("lead")
        return lead if isinstance(lead, dict) else {}


@dataclass(frozen=True)
class Delivered:
    """Success, with the destination's own id for what it created (a Salesforce Lead Id)."""

    external_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class DeliveryError(Exception):
    """A delivery did not happen. The message is for the dealer's supervisor: it says what
    failed and, where it can, what to fix. It never carries contact details."""

    retryable: ClassVar[bool] = True

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        throttled: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        # the destination asked us to slow down (a rate limit), possibly saying how long
        self.throttled = throttled
        self.retry_after_s = retry_after_s


class RetryableError(DeliveryError):
    """Worth trying again later: timeouts, 5xx, rate limits, connection failures."""

    retryable = True


class PermanentError(DeliveryError):
    """Trying again without a human changing something would fail the same way (a required
    field missing, credentials refused): park the delivery at once, no retry storm."""

    retryable = False


class Connector(ABC):
    """A destination for the outbox's events."""

    destination: ClassVar[Destination]

    @abstractmethod
    async def deliver(self, job: DeliveryJob) -> Delivered:
        """Deliver `job` or raise a DeliveryError; must be safe to call again for the same
        job after a crash (find-then-update, an idempotency key, or a header the receiver
        can deduplicate on)."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the connector holds (HTTP sessions)."""
