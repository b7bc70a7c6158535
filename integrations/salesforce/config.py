"""A tenant's Salesforce connection as the admin gives it (the client secret is stored
apart, encrypted; `mapping.SalesforceConfig` is what the connector reads back)."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Annotated

from pydantic import StringConstraints, field_validator

from integrations.salesforce.mapping import field_map_problem
from integrations.schema import ShortText, Strict, checked_url

CA_MAX = 1024 * 1024
# The connected app's consumer secret, as Salesforce issues it; never returned
Secret = Annotated[str, StringConstraints(min_length=8, max_length=500)]


class SalesforceSettings(Strict):
    """`PUT /api/integrations/salesforce`, and an imported `salesforce` integration."""

    login_url: Annotated[str, StringConstraints(max_length=500)]
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    # omitted: keep the secret stored before (to change only the mapping)
    client_secret: Secret | None = None
    ca_bundle: Annotated[str, StringConstraints(max_length=500)] | None = None
    lead_source: ShortText | None = None
    default_company: ShortText | None = None
    field_map: dict[str, str] | None = None
    api_version: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}\.0$")] | None = None

    @field_validator("client_secret", mode="before")
    @classmethod
    def _blank_keeps(cls, value: object) -> object:
        """A form left blank (the console's) keeps the stored secret, like leaving it out."""
        return None if value == "" else value

    @field_validator("login_url")
    @classmethod
    def _login_url(cls, value: str) -> str:
        return checked_url(value, https_only=True, field="login_url").rstrip("/")

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            # a regular, small file: a device or a huge file would stall the hub
            path = Path(value)
            if not path.is_absolute() or not path.is_file() or path.stat().st_size > CA_MAX:
                raise ValueError(value)
            ssl.create_default_context(cafile=value)
        except (OSError, ssl.SSLError, ValueError):
            raise ValueError(
                "ca_bundle must be the path of a readable PEM file of CA certificates on the hub"
            ) from None
        return value

    @field_validator("field_map")
    @classmethod
    def _field_map(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is not None:
            problem = field_map_problem(value)
            if problem:
                raise ValueError(problem)
        return value
