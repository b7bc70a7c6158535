"""The visitor's engagement events, validated strictly like every other payload."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from console.realtime.schemas import Id, Payload

MAX_COMMENT = 1000
PRECHAT_FIELDS = ("name", "phone", "email")


class InvitationResponseIn(Payload):
    invitation_id: Id
    accepted: bool


class RateIn(Payload):
    chat_id: Id
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, StringConstraints(max_length=MAX_COMMENT)] | None = None


class WidgetSettings(BaseModel):
    """The engagement keys of `tenants.settings`, as the provider admin API sets them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    prechat_fields: list[Literal["name", "phone", "email"]] | None = None
    invitation_cooldown_min: Annotated[int, Field(ge=0, le=7 * 24 * 60)] | None = None
    # the kinds of attachment the tenant takes (PROTOCOL 1.2): all of these unless narrowed
    attachment_types: (
        list[Literal["image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf"]]
        | None
    ) = None

    @field_validator("prechat_fields", "attachment_types")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a field is listed twice")
        return value


def prechat_fields(settings: dict[str, Any]) -> list[str]:
    """The pre-chat form's fields; all three unless the tenant chose."""
    chosen = settings.get("prechat_fields")
    return list(chosen) if isinstance(chosen, list) else list(PRECHAT_FIELDS)


def merge_settings(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A PATCH of `settings`: the keys given replace theirs, a null removes its key (back to
    the default), and keys not given are kept."""
    merged = dict(current)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


class WatchVisitorsIn(Payload):
    """`watch_visitors` on `/agent` (PROTOCOL 1.2, Visitors on site)."""

    watching: bool


class InviteIn(Payload):
    """`invite` on `/agent`: a personal invitation to one visitor on the site."""

    visitor_id: Id
    text: Annotated[str, StringConstraints(max_length=500)] | None = None
