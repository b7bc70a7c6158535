"""Invoices as the tenant's admins read them (`GET /api/invoices`, `/api/invoices/{id}`),
and the answer shared with the provider's side: JSON, or the bilingual HTML or PDF
document as the Accept header asks."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web

from console.billing.documents import invoice_wire, render_html
from console.billing.pdf import render_pdf
from console.billing.service import local_today
from console.domain.errors import ProtocolError
from console.store.invoices import Invoice
from console.web.http import admins_tenant
from console.web.keys import CLOCK, STORE

routes = web.RouteTableDef()
IMMUTABLE = "an issued invoice never changes; the provider voids it and issues a credit note"


async def document_response(request: web.Request, invoice: Invoice) -> web.Response:
    tenant = await request.app[STORE].get_tenant(invoice.tenant_id)
    now: datetime = request.app[CLOCK].now()
    today = local_today(tenant, now) if tenant is not None else now.date()
    wire = invoice_wire(invoice, today, trace=True)
    accept = request.headers.get("Accept", "")
    name = f"{invoice.number}"
    if "application/pdf" in accept or request.query.get("format") == "pdf":
        pdf = await asyncio.to_thread(render_pdf, wire)
        return web.Response(
            body=pdf,
            content_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
        )
    if "text/html" in accept or request.query.get("format") == "html":
        return web.Response(text=render_html(wire), content_type="text/html")
    return web.json_response(wire)


@routes.get("/api/invoices")
async def list_invoices(request: web.Request) -> web.Response:
    _, tenant = await admins_tenant(request)
    today = local_today(tenant, request.app[CLOCK].now())
    invoices = await request.app[STORE].invoices.listed(tenant_id=tenant.id)
    return web.json_response({"invoices": [invoice_wire(i, today) for i in invoices]})


@routes.get("/api/invoices/{invoice_id}")
async def get_invoice(request: web.Request) -> web.Response:
    _, tenant = await admins_tenant(request)
    invoice = await request.app[STORE].invoices.get(request.match_info["invoice_id"], tenant.id)
    if invoice is None:
        raise ProtocolError("not_found", "no such invoice")
    return await document_response(request, invoice)


@routes.route("PATCH", "/api/invoices/{invoice_id}")
@routes.route("PUT", "/api/invoices/{invoice_id}")
@routes.route("DELETE", "/api/invoices/{invoice_id}")
async def change_invoice(request: web.Request) -> web.Response:
    _, tenant = await admins_tenant(request)
    if await request.app[STORE].invoices.get(request.match_info["invoice_id"], tenant.id) is None:
        raise ProtocolError("not_found", "no such invoice")
    raise ProtocolError("conflict", IMMUTABLE)
