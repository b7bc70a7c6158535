"""A tenant's signed webhook: where it posts, which events, and the HMAC secret."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints, field_validator

from integrations.schema import Strict, checked_url

WebhookEvent = Literal[
    "lead.qualified",
    "lead.updated",
    "chat.closed",
    "visitor.erased",
    "ticket.created",
    "sla.breached",
]
# Signs every delivery (HMAC-SHA256): long enough to resist guessing; never returned
Secret = Annotated[str, StringConstraints(min_length=16, max_length=500)]


class WebhookSettings(Strict):
    """`POST /api/webhooks`, and (as `ImportedWebhook`) a webhook of an imported file."""

    url: Annotated[str, StringConstraints(max_length=2000)]
    secret: Secret
    events: list[WebhookEvent]

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return checked_url(value, https_only=False, field="url")

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                "events must name at least one of lead.qualified, lead.updated, chat.closed, "
                "visitor.erased, ticket.created, sla.breached"
            )
        return list(dict.fromkeys(value))


class ImportedWebhook(WebhookSettings):
    """An export never carries secrets: an import may leave the secret out for a webhook
    that exists here already (a new one without it is skipped and reported)."""

    secret: Secret | None = None  # type: ignore[assignment]  # optional only here
