"""The agent console's page and assets, at /console/.

The page runs only its own script: the Content-Security-Policy forbids inline scripts and
handlers, so even a chat text that reached the DOM as HTML could not execute (the console
renders chat text as text nodes; this is the second wall).
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",  # blob: the attachments' thumbnails, fetched with the token
        "connect-src 'self' ws: wss:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
routes = web.RouteTableDef()


@routes.get("/console/")
async def console_page(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "console.html", headers={**HEADERS, "Cache-Control": "no-cache"}
    )


@routes.get("/console/console.js")
async def console_script(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "console.js",
        headers={
            **HEADERS,
            "Content-Type": "text/javascript; charset=utf-8",
            "Cache-Control": "no-cache",
        },
    )


@routes.get("/console/console.css")
async def console_style(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(
        STATIC / "console.css",
        headers={**HEADERS, "Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-cache"},
    )


@routes.get("/console/favicon.svg")
async def console_icon(_request: web.Request) -> web.FileResponse:
    """The console's tab icon: a speech bubble in the brand's blue (same origin, so the
    Content-Security-Policy's `img-src 'self'` allows it)."""
    return web.FileResponse(
        STATIC / "favicon.svg",
        headers={
            **HEADERS,
            "Content-Type": "image/svg+xml",
            "Cache-Control": "public, max-age=86400",
        },
    )
