"""The ADF connector's settings: the provider's SMTP relay (deployment configuration) and a
tenant's destination (the dealer CRM's lead address)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import StringConstraints, field_validator

from console.domain.contact import normalize_email
from integrations.schema import ShortText, Strict


@dataclass(frozen=True)
class Smtp:
    """The provider's SMTP relay, through which ADF/XML lead e-mails leave."""

    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "leads@charla.invalid"
    starttls: bool = True
    timeout_s: float = 20.0
    # With no relay: each e-mail written as a .eml file into this directory (the demo's)
    pickup_dir: str | None = None


class AdfSettings(Strict):
    """`PUT /api/integrations/adf`, and an imported `adf` integration's config."""

    to: Annotated[str, StringConstraints(max_length=254)]
    vendor_name: ShortText

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        try:
            return normalize_email(value.strip())
        except ValueError as exc:
            raise ValueError(f"to: not a valid e-mail address: {exc}") from None
