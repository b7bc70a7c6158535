"""What a dealer's website loads: `/widget.js`, the widget's public configuration (what a
new chat would get now), and the sample dealer website of `charla demo` (under `/demo/`,
with the widget embedded)."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Literal

from aiohttp import web

from console.contract.plans import allows, bot_takes
from console.demo import DEMO_SITE_KEY
from console.domain.errors import ProtocolError
from console.domain.types import Tenant, iso
from console.engagement.payloads import prechat_fields
from console.hub import Hub
from console.web.keys import HUB, STORE

STATIC = Path(__file__).parent / "static"
DEMO_SITE = Path(__file__).parent / "demo_site"
# Not versioned in its URL (dealers paste one tag once): cache briefly, revalidate by ETag.
WIDGET_CACHE = "public, max-age=300, stale-while-revalidate=3600"
SITE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
DEMO_COOKIE = "charla_demo_site_key"
routes = web.RouteTableDef()


@functools.cache
def _widget() -> tuple[bytes, str]:
    """The bundle and its ETag, read once: it is requested on every page of every dealer."""
    body = (STATIC / "widget.js").read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@routes.get("/widget.js")
async def widget_js(request: web.Request) -> web.StreamResponse:
    body, etag = _widget()
    headers = {
        "Content-Type": "application/javascript; charset=utf-8",
        "Cache-Control": WIDGET_CACHE,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Allow-Origin": "*",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers=headers)


@routes.get("/api/widget/config")
async def widget_config(request: web.Request) -> web.Response:
    """Public (the site key is public): what the widget shows before anyone chats, and
    what a new chat would get now, so that it promises nothing the hub will not keep.

    Readable cross-origin only from the tenant's own allowed origins. Fetched on every page
    of every dealer: the tenant's row and its privacy policy's, then Redis once per language
    an agent would need (not at all while closed), and the bot's script only for a tenant
    whose bot can run."""
    site_key = request.query.get("site_key", "")
    tenant = await request.app[STORE].get_tenant_by_site_key(site_key) if site_key else None
    if tenant is None:
        raise ProtocolError("not_found", "unknown site_key: copy it from your embed tag")
    hub = request.app[HUB]
    now = hub.ctx.clock.now()
    schedule = hub.ctx.schedule(tenant)
    closed = schedule.closed_reason(now)
    opening = schedule.next_opening(now) if closed else None  # None: not within 400 days
    body = {
        "name": tenant.name,
        "languages": list(tenant.languages),
        "primary_language": tenant.primary_language,
        "prechat_fields": prechat_fields(tenant.settings),
        "open": closed is None,
        "availability": await availability(hub, tenant, closed),
        "closed_reason": closed,
        "next_opening": iso(opening),  # UTC, as every time; `timezone` shows it locally
        "timezone": tenant.timezone,
        "bot": await bot_face(hub, tenant),
        # the tenant's own words by language ({} or a language missing: the widget's own)
        "privacy_notice": (await request.app[STORE].privacy.policy(tenant.id)).privacy_notice,
    }
    headers = {"Cache-Control": "no-store", "Vary": "Origin"}
    origin = request.headers.get("Origin")
    if origin and origin in tenant.allowed_origins:
        headers["Access-Control-Allow-Origin"] = origin
    return web.json_response(body, headers=headers)


Availability = Literal["agents", "bot", "offline"]


async def availability(hub: Hub, tenant: Tenant, closed: str | None) -> dict[str, Availability]:
    """What a new chat in each of the tenant's languages would get now, by the rules
    start_chat follows: a person ("agents"), the bot although no person can ("bot"), or
    the leave-a-message form that files a ticket ("offline")."""
    served = frozenset() if closed else await hub.chats.served_languages(tenant)
    found: dict[str, Availability] = {}
    for language in tenant.languages:
        reason = closed or (None if language in served else "no_agents")
        if reason is None:
            found[language] = "agents"
        else:
            found[language] = "bot" if bot_takes(tenant, reason) else "offline"
    return found


async def bot_face(hub: Hub, tenant: Tenant) -> dict[str, Any] | None:
    """Who the bot speaks as (the dealer's name unless its script names it) and its
    picture, for a tenant whose bot may take chats; None otherwise."""
    if not tenant.bot_enabled or not allows(tenant.plan, "lead_capture"):
        return None
    settings = (await hub.bots.script(tenant)).settings
    return {"name": settings.speaker(tenant.name), "avatar_url": settings.bot_avatar_url}


# -- the sample dealer website -------------------------------------------------------------


@dataclass(frozen=True)
class Vehicle:
    slug: str
    year: int
    make: str
    model: str
    price: str
    es: str
    en: str


VEHICLES = (
    Vehicle(
        "2024-toyota-tacoma",
        2024,
        "Toyota",
        "Tacoma TRD",
        "$42,900",
        "Pickup 4x4, 3,200 millas, garantía de fábrica.",
        "4x4 pickup, 3,200 miles, factory warranty.",
    ),
    Vehicle(
        "2023-honda-cr-v",
        2023,
        "Honda",
        "CR-V EX",
        "$31,500",
        "SUV familiar, un dueño, cámara de reversa.",
        "Family SUV, one owner, backup camera.",
    ),
    Vehicle(
        "2022-hyundai-elantra",
        2022,
        "Hyundai",
        "Elantra SEL",
        "$19,800",
        "Sedán económico, 38 mpg en carretera.",
        "Economical sedan, 38 mpg highway.",
    ),
)


def demo_site_key(request: web.Request) -> str:
    """The demo tenant's key, or another tenant's given once as `?site_key=` (kept in a
    cookie while browsing), so that the sample site can show any tenant's widget."""
    for candidate in (request.query.get("site_key"), request.cookies.get(DEMO_COOKIE)):
        if candidate and SITE_KEY.match(candidate):
            return candidate
    return DEMO_SITE_KEY


DEMO_DEALER = "Autos Borinquen"


def page_title(title: str | None) -> str:
    """A sample page's title and then the dealer's ("Inventario · Inventory · Autos
    Borinquen"); the home page's is the dealer's name alone, never said twice."""
    if not title or title == DEMO_DEALER:
        return DEMO_DEALER
    return f"{title} · {DEMO_DEALER}"


def render(page_name: str, site_key: str, **values: str) -> str:
    page = Template((DEMO_SITE / page_name).read_text(encoding="utf-8"))
    body = page.substitute(**values)
    layout = Template((DEMO_SITE / "layout.html").read_text(encoding="utf-8"))
    return layout.substitute(
        title=page_title(values.get("title")),
        body=body,
        site_key=html.escape(site_key, quote=True),
    )


def demo_response(request: web.Request, page: str, **values: str) -> web.Response:
    site_key = demo_site_key(request)
    response = web.Response(
        text=render(page, site_key, **values),
        content_type="text/html",
        headers={"Cache-Control": "no-store"},
    )
    if request.query.get("site_key") == site_key:
        response.set_cookie(DEMO_COOKIE, site_key, path="/demo", samesite="Lax", httponly=True)
    return response


def vehicle_card(vehicle: Vehicle) -> str:
    name = html.escape(f"{vehicle.year} {vehicle.make} {vehicle.model}")
    return (
        f'<li class="card"><a href="/demo/vehicles/{vehicle.slug}">{name}</a>'
        f'<span class="price">{html.escape(vehicle.price)}</span>'
        f'<span lang="es">{html.escape(vehicle.es)}</span></li>'
    )


@routes.get("/demo")
async def demo_root(_request: web.Request) -> web.Response:
    raise web.HTTPFound("/demo/")


@routes.get("/demo/")
async def demo_home(request: web.Request) -> web.Response:
    return demo_response(request, "home.html", title=DEMO_DEALER)


@routes.get("/demo/inventory")
async def demo_inventory(request: web.Request) -> web.Response:
    cards = "\n".join(vehicle_card(v) for v in VEHICLES)
    return demo_response(request, "inventory.html", title="Inventario · Inventory", cards=cards)


@routes.get("/demo/vehicles/{slug}")
async def demo_vehicle(request: web.Request) -> web.Response:
    slug = request.match_info["slug"]
    vehicle = next((v for v in VEHICLES if v.slug == slug), None)
    if vehicle is None:
        raise ProtocolError("not_found", f"no vehicle {slug} in the sample inventory")
    name = html.escape(f"{vehicle.year} {vehicle.make} {vehicle.model}")
    return demo_response(
        request,
        "vehicle.html",
        title=name,
        name=name,
        price=html.escape(vehicle.price),
        es=html.escape(vehicle.es),
        en=html.escape(vehicle.en),
    )


@routes.get("/demo/financing")
async def demo_financing(request: web.Request) -> web.Response:
    return demo_response(request, "financing.html", title="Financiamiento · Financing")


@routes.get("/demo/style.css")
async def demo_style(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(DEMO_SITE / "style.css", headers={"Cache-Control": "no-cache"})
