"""Where a tenant's ticket notices go: one address of the dealer's (every plan)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints, field_validator

from console.domain.contact import normalize_email
from integrations.schema import Strict


class NotifySettings(Strict):
    """`PUT /api/integrations/notify`: the address that hears of every new ticket."""

    to: Annotated[str, StringConstraints(max_length=254)]

    @field_validator("to")
    @classmethod
    def _to(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("to: one address, without line breaks")
        try:
            return normalize_email(value.strip())
        except ValueError as exc:
            raise ValueError(f"to: not a valid e-mail address: {exc}") from None
