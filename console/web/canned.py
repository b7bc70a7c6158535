"""Canned responses: every agent of a tenant reads them; its admins write them."""

from __future__ import annotations

import re
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from console.domain.errors import ProtocolError
from console.realtime.schemas import MAX_TEXT
from console.store.tenant_config import ConfigConflictError
from console.web.admin import check_languages
from console.web.http import read_json, require_agent, require_tenant_admin
from console.web.keys import STORE

SHORTCUT = re.compile(r"^/[\w\-.]{1,63}$")
LanguageTexts = Annotated[dict[str, str], Field(min_length=1, max_length=10)]
routes = web.RouteTableDef()


def check_texts(value: dict[str, str]) -> dict[str, str]:
    """Texts per language, e.g. {"es": "...", "en": "..."}: each a known tag, none empty."""
    check_languages(list(value))
    cleaned = {k.strip().lower(): v.strip() for k, v in value.items()}
    for lang, text in cleaned.items():
        if not text:
            raise ValueError(f"text.{lang} is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"text.{lang}: at most {MAX_TEXT} characters")
    return cleaned


class CannedIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    shortcut: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]
    text: LanguageTexts

    @field_validator("shortcut")
    @classmethod
    def _shortcut(cls, value: str) -> str:
        if not SHORTCUT.match(value):
            raise ValueError(
                "a shortcut starts with / and has letters, digits, - or . (e.g. /hours)"
            )
        return value.lower()

    _text = field_validator("text")(check_texts)


@routes.get("/api/canned-responses")
async def list_canned(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    canned = await request.app[STORE].config.list_canned(agent.tenant_id)
    return web.json_response({"canned_responses": [c.to_wire() for c in canned]})


@routes.post("/api/canned-responses")
async def create_canned(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    body = await read_json(request, CannedIn)
    try:
        canned = await request.app[STORE].config.create_canned(
            admin.tenant_id, shortcut=body.shortcut, text=body.text
        )
    except ConfigConflictError as exc:
        raise ProtocolError("conflict", f"{exc}; delete it first or pick another") from None
    return web.json_response(canned.to_wire(), status=201)


@routes.delete("/api/canned-responses/{canned_id}")
async def delete_canned(request: web.Request) -> web.Response:
    admin = await require_tenant_admin(request)
    canned_id = request.match_info["canned_id"]
    if not await request.app[STORE].config.delete_canned(admin.tenant_id, canned_id):
        raise ProtocolError("not_found", f"no canned response {canned_id} in your tenant")
    return web.Response(status=204)
