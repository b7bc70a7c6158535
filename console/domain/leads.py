"""Leads: what a visitor wants and how to reach them, as agents and bots capture it.

A lead is valid when it names the person (first or last name) and can reach them (a phone
or an e-mail); phones are kept in E.164 and e-mails normalised (console/domain/contact.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    field_validator,
    model_validator,
)

from console.domain.contact import normalize_email, normalize_phone
from console.domain.types import as_wire, iso, known

Interest = Literal["buy", "lease", "service", "parts", "finance", "other"]
AppointmentKind = Literal["test_drive", "service", "order", "visit"]
APPOINTMENT_KINDS: tuple[str, ...] = ("test_drive", "service", "order", "visit")
# the dealer's local date and time, to the minute: "2026-12-12T10:00"
APPOINTMENT_AT = "%Y-%m-%dT%H:%M"
Destination = Literal["salesforce", "adf", "webhook", "notify", "email"]
DeliveryStatus = Literal["pending", "delivered", "failed"]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def _between(low: int, high: int, problem: str) -> AfterValidator:
    """A check that a number is from `low` to `high`, or says `problem`."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


Year = Annotated[int, _between(1900, 2100, "a vehicle year is between 1900 and 2100")]
Miles = Annotated[
    int, _between(0, 2_000_000, "mileage is a number of miles between 0 and 2,000,000")
]


class VehicleIn(_Shape):
    year: Year | None = None
    make: ShortText | None = None
    model: ShortText | None = None
    vin: Annotated[str, StringConstraints(pattern=r"^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")] | None = None
    stock: Annotated[str, StringConstraints(max_length=40)] | None = None
    condition: Literal["new", "used"] | None = None


class TradeInIn(_Shape):
    year: int | None = None
    make: ShortText | None = None
    model: ShortText | None = None
    mileage: Miles | None = None


class AppointmentIn(_Shape):
    """A requested visit: a test drive, a service slot, an order to sign, or a visit. `at`
    is the dealer's local wall-clock time; whether the dealer is open then is the
    contract's question (console/contract/hours.py, `appointment_problem`), asked by the
    hub with the tenant's hours and the clock."""

    kind: str
    at: str
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in APPOINTMENT_KINDS:
            shown = value if len(value) <= 30 else value[:27] + "..."
            raise ValueError(
                f"unknown appointment kind {shown!r}; use one of {', '.join(APPOINTMENT_KINDS)}"
            )
        return value

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        try:
            parsed = datetime.strptime(value.strip(), APPOINTMENT_AT)
        except ValueError:
            raise ValueError(
                'write the dealer\'s local date and time as "YYYY-MM-DDTHH:MM", like '
                '"2026-12-12T10:00" (no seconds, no time zone)'
            ) from None
        return parsed.strftime(APPOINTMENT_AT)

    def local_time(self) -> datetime:
        """`at` as a naive datetime: the wall-clock time in the tenant's zone."""
        return datetime.strptime(self.at, APPOINTMENT_AT)


class LeadIn(_Shape):
    """A lead as `save_lead` takes it; normalises contact details or says what to fix."""

    first_name: Name | None = None
    last_name: Name | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-zA-Z]{2,3}$")] | None = None
    interest: Interest = "other"
    vehicle: VehicleIn | None = None
    trade_in: TradeInIn | None = None
    timeframe: Annotated[str, StringConstraints(max_length=100)] | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None
    appointment: AppointmentIn | None = None
    qualified: bool = True

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return normalize_email(value.strip())
        except ValueError as exc:
            raise ValueError(f"not a valid e-mail address: {exc}") from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return normalize_phone(value.strip())

    @model_validator(mode="after")
    def _reachable(self) -> LeadIn:
        if not (self.first_name or self.last_name):
            raise ValueError("a lead needs a first_name or a last_name")
        if not (self.phone or self.email):
            raise ValueError("a lead needs a phone or an e-mail")
        return self


@dataclass(frozen=True)
class Delivery:
    id: str
    lead_id: str | None
    destination: str
    event: str
    status: str
    attempts: int
    target_id: str | None = None
    external_id: str | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    delivered_at: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            **as_wire(self, "id", "destination", "event", "status", "attempts"),
            **known(self, "target_id", "external_id", "last_error", "delivered_at"),
        }


@dataclass(frozen=True)
class Lead:
    id: str
    tenant_id: str
    chat_id: str
    visitor_id: str | None
    language: str
    interest: str
    qualified: bool
    source: str
    agent_id: str | None
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    deliveries: tuple[Delivery, ...] = field(default=())

    @property
    def email(self) -> str | None:
        value = self.data.get("email")
        return value if isinstance(value, str) else None

    @property
    def phone(self) -> str | None:
        value = self.data.get("phone")
        return value if isinstance(value, str) else None

    def to_wire(self, *, with_deliveries: bool = True) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "id": self.id,
            "chat_id": self.chat_id,
            **{key: value for key, value in self.data.items() if value is not None},
            "language": self.language,
            "interest": self.interest,
            "qualified": self.qualified,
            "source": self.source,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        if with_deliveries:
            wire["deliveries"] = [delivery.to_wire() for delivery in self.deliveries]
        return wire


def same_lead(stored: Lead, lead: LeadIn, chat_language: str) -> bool:
    """Whether saving `lead` would change nothing of `stored` (a bot turn that learned
    nothing new saves nothing)."""
    return (
        stored.language == (lead.language or chat_language).lower()
        and stored.interest == lead.interest
        and stored.qualified == lead.qualified
        and stored.data == lead_data(lead)
    )


def lead_data(lead: LeadIn) -> dict[str, Any]:
    """The part of a lead stored encrypted: who the person is and what they want."""
    return lead.model_dump(
        exclude={"language", "interest", "qualified"}, exclude_none=True, mode="json"
    )
