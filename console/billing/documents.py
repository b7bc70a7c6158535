"""An invoice as a document: the JSON written once at issue, the API's view of it (with
its payments and status), and the bilingual HTML page. The PDF is in pdf.py."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import Any

from console.billing.month import Month
from console.contract.agreement import format_hundredths
from console.contract.late_fees import invoice_status
from console.contract.money import format_grouped, format_money, signed_cents
from console.settings import Issuer
from console.store.invoices import Invoice

CURRENCY = "USD"
# An invoice's totals, in the order both documents (HTML and PDF) show them
TOTALS = (
    ("subtotal", "Subtotal"),
    ("credits", "Créditos / Credits"),
    ("taxable_base", "Base imponible / Taxable base"),
    ("tax", "IVU / Sales and use tax"),
    ("late_fees", "Cargos por demora / Late fees"),
    ("total", "Total (USD)"),
)
STATUS_WORDS = {
    "issued": ("Emitida", "Issued"),
    "paid": ("Pagada", "Paid"),
    "overdue": ("Vencida", "Overdue"),
    "void": ("Anulada", "Void"),
}


def invoice_document(month: Month, issuer: Issuer, *, due_on: date) -> dict[str, Any]:
    """What an invoice says, fixed at issue (its number is added as it is written)."""
    bill, profile = month.bill, month.profile
    customer = profile.to_wire()
    return {
        "kind": "invoice",
        "number": None,
        "tenant_id": month.tenant.id,
        "period": month.period,
        "issued_on": month.issued_on.isoformat(),
        "due_on": due_on.isoformat(),
        "currency": CURRENCY,
        "issuer": {
            "name": issuer.name,
            "address": issuer.address,
            "tax_id": issuer.tax_id,
            "email": issuer.email,
        },
        "customer": {
            "legal_name": customer["legal_name"],
            "address": customer["address"],
            "tax_status": customer["tax_status"],
            "certificate": customer["certificate"],
        },
        "tax_status": month.tax_status,
        "terms": {
            "terms_days": profile.terms_days,
            "grace_days": profile.grace_days,
            "late_fee_pct": format_hundredths(profile.late_fee_bp),
        },
        "lines": [line.to_wire() for line in bill.lines],
        "subtotal": format_money(bill.subtotal),
        "credits": format_money(bill.credits),
        "taxable_base": format_money(bill.taxable_base),
        "tax": format_money(bill.tax),
        "late_fees": format_money(sum(ln.amount for ln in bill.lines if ln.kind == "late_fee")),
        "total": format_money(bill.total),
        "carried_credit": format_money(bill.carried_out),
        "usage": month.usage,
        "sla": month.sla,
    }


def credit_note_document(voided: Invoice, reason: str, today: date) -> dict[str, Any]:
    """A credit note for the whole of a voided invoice: its lines with the sign turned."""
    doc = voided.document
    lines = [
        {**line, "amount": format_money(-signed_cents(line["amount"]))} for line in doc["lines"]
    ]
    return {
        **doc,
        "kind": "credit_note",
        "number": None,
        "corrects": voided.number,
        "reason": reason,
        "issued_on": today.isoformat(),
        "due_on": today.isoformat(),
        "lines": lines,
        **{
            key: format_money(-signed_cents(doc[key]))
            for key in ("subtotal", "credits", "taxable_base", "tax", "late_fees", "total")
        },
        "carried_credit": "0.00",
    }


def status_of(invoice: Invoice, today: date) -> str:
    if invoice.kind == "credit_note":
        return "issued"
    grace = int(invoice.document.get("terms", {}).get("grace_days", 0))
    return invoice_status(
        invoice.total, invoice.paid, invoice.due_on, grace, today, void=invoice.void
    )


def invoice_wire(invoice: Invoice, today: date, *, trace: bool = False) -> dict[str, Any]:
    """The API's view: the document as issued, and the account's state today."""
    wire: dict[str, Any] = {
        **invoice.document,
        "id": invoice.id,
        "number": invoice.number,
        "status": status_of(invoice, today),
        "paid": format_money(invoice.paid),
        "balance_due": format_money(max(invoice.total - invoice.paid, 0))
        if not invoice.void and invoice.kind == "invoice"
        else "0.00",
        "disputed": invoice.disputed,
        "voided_at": None
        if invoice.voided_at is None
        else invoice.voided_at.isoformat().replace("+00:00", "Z"),
        "void_reason": invoice.void_reason,
        "late_fees_charged": [
            {
                "charged_on": fee.charged_on.isoformat(),
                "principal": format_money(fee.principal),
                "amount": format_money(fee.amount),
                "billed": fee.billed_in_id is not None,
            }
            for fee in invoice.fees
        ],
    }
    if invoice.kind == "credit_note":
        wire["credit_balance"] = format_money(invoice.balance)
    if trace:
        wire["trace"] = invoice.trace
    return wire


def title_words(doc: dict[str, Any]) -> tuple[str, str]:
    return (
        ("Nota de crédito", "Credit note")
        if doc["kind"] == "credit_note"
        else (
            "Factura",
            "Invoice",
        )
    )


def money_text(value: str) -> str:
    return f"${format_grouped(signed_cents(value))}"


def tax_status_words(doc: dict[str, Any]) -> str:
    status = doc["tax_status"]
    words = {
        "standard": "IVU estatal y municipal / state and municipal IVU",
        "b2b": "Servicios a otros comerciantes (B2B) / Business-to-business services",
        "exempt": "Exento / Exempt",
    }[status]
    certificate = doc["customer"].get("certificate")
    if status != "standard" and certificate:
        words += (
            f" - Certificado / Certificate {certificate['number']}, "
            f"vence / expires {certificate['expires_on']}"
        )
    return words


def render_html(wire: dict[str, Any]) -> str:
    """The bilingual page of an invoice or credit note (Spanish first, English beside)."""
    es, en = title_words(wire)
    e = escape
    issuer, customer = wire["issuer"], wire["customer"]
    rows = "".join(
        f'<tr data-kind="{e(line["kind"])}"><td>{e(line["description"])}'
        f'<br><small lang="en">{e(line.get("description_en", ""))}</small></td>'
        f'<td class="n">{"" if line["quantity"] is None else line["quantity"]}</td>'
        f'<td class="n">{"" if line["unit_price"] is None else money_text(line["unit_price"])}'
        f'</td><td class="n">{money_text(line["amount"])}</td></tr>'
        for line in wire["lines"]
    )
    totals = "".join(
        f'<tr><th colspan="3">{label}</th><td class="n">{money_text(wire[key])}</td></tr>'
        for key, label in TOTALS
    )
    corrects = (
        f"<p>Anula la factura / Voids invoice {e(wire['corrects'])}: {e(wire['reason'])}</p>"
        if wire.get("corrects")
        else ""
    )
    status = STATUS_WORDS.get(wire.get("status", ""), ("", ""))
    return f"""<!doctype html>
<html lang="es"><head><meta charset="utf-8">
<title>{es} / {en} {e(wire["number"] or "")}</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;max-width:52rem;margin:2rem auto;color:#111}}
table{{width:100%;border-collapse:collapse}}td,th{{padding:.3rem;border-bottom:1px solid #ddd;
text-align:left;vertical-align:top}}.n{{text-align:right;white-space:nowrap}}
.parties{{display:flex;gap:2rem}}.parties div{{flex:1}}small{{color:#555}}</style></head>
<body><h1>{es} / {en} {e(wire["number"] or "")}</h1>{corrects}
<div class="parties"><div><h2>De / From</h2><p>{e(issuer["name"])}<br>{e(issuer["address"])}
<br>Registro de comerciante / Merchant registration: {e(issuer["tax_id"] or "-")}</p></div>
<div><h2>Para / To</h2><p>{e(customer["legal_name"])}<br>{e(customer["address"] or "")}</p>
</div></div>
<p>Periodo / Period: {e(wire["period"])} &middot; Fecha / Date: {e(wire["issued_on"])}
&middot; Vence / Due: <strong>{e(wire["due_on"])}</strong>
{f"&middot; Estado / Status: {status[0]} / {status[1]}" if status[0] else ""}</p>
<p>Tributación / Tax status: {e(tax_status_words(wire))}</p>
<table><thead><tr><th>Descripción / Description</th><th class="n">Cantidad / Qty</th>
<th class="n">Precio / Price</th><th class="n">Importe / Amount</th></tr></thead>
<tbody>{rows}</tbody><tfoot>{totals}</tfoot></table>
<p>Saldo a favor para la próxima factura / Credit carried to the next invoice:
{money_text(wire["carried_credit"])}</p>
<p><small>Pago a {wire["terms"]["terms_days"]} días; cargo por demora de
{e(wire["terms"]["late_fee_pct"])}% mensual sobre el principal vencido tras
{wire["terms"]["grace_days"]} días de gracia. / Payment due in {wire["terms"]["terms_days"]}
days; a late fee of {e(wire["terms"]["late_fee_pct"])}% a month on the overdue principal
after {wire["terms"]["grace_days"]} days of grace.</small></p></body></html>
"""
