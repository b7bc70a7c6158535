"""An invoice or credit note as a PDF (fpdf2, its core Helvetica: Latin-1 covers Spanish),
bilingual like the HTML page."""

from __future__ import annotations

from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from console.billing.documents import (
    STATUS_WORDS,
    TOTALS,
    money_text,
    tax_status_words,
    title_words,
)

WIDTHS = (100, 22, 30, 34)


def _text(value: object) -> str:
    """What the core font can print (Latin-1); anything else becomes '?'."""
    return str(value).encode("latin-1", "replace").decode("latin-1")


def render_pdf(wire: dict[str, Any]) -> bytes:
    es, en = title_words(wire)
    pdf = FPDF(format="letter")
    pdf.set_title(_text(f"{es} / {en} {wire['number'] or ''}"))
    pdf.set_author(_text(wire["issuer"]["name"]))
    pdf.add_page()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(
        0, 10, _text(f"{es} / {en} {wire['number'] or ''}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_font("Helvetica", size=9)

    def line(text: str) -> None:
        pdf.multi_cell(0, 5, _text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    if wire.get("corrects"):
        line(f"Anula la factura / Voids invoice {wire['corrects']}: {wire.get('reason', '')}")
    issuer, customer = wire["issuer"], wire["customer"]
    line(f"De / From: {issuer['name']}, {issuer['address']}")
    line(f"Registro de comerciante / Merchant registration: {issuer['tax_id'] or '-'}")
    line(f"Para / To: {customer['legal_name']}, {customer['address'] or ''}")
    line(
        f"Periodo / Period: {wire['period']}   Fecha / Date: {wire['issued_on']}   "
        f"Vence / Due: {wire['due_on']}"
    )
    status = STATUS_WORDS.get(wire.get("status", ""))
    if status:
        line(f"Estado / Status: {status[0]} / {status[1]}")
    line(f"Tributación / Tax status: {tax_status_words(wire)}")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 9)
    heads = ("Descripción / Description", "Cant. / Qty", "Precio / Price", "Importe / Amount")
    for width, head in zip(WIDTHS, heads, strict=True):
        pdf.cell(width, 7, _text(head), border="B")
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for item in wire["lines"]:
        cells = (
            f"{item['description']}",
            "" if item["quantity"] is None else str(item["quantity"]),
            "" if item["unit_price"] is None else money_text(item["unit_price"]),
            money_text(item["amount"]),
        )
        for index, (width, cell) in enumerate(zip(WIDTHS, cells, strict=True)):
            pdf.cell(width, 6, _text(cell)[:60], align="L" if index == 0 else "R")
        pdf.ln()
    pdf.ln(2)
    for key, label in TOTALS:
        pdf.set_font("Helvetica", "B" if key == "total" else "", 9)
        pdf.cell(sum(WIDTHS[:3]), 6, _text(label), align="R")
        pdf.cell(WIDTHS[3], 6, _text(money_text(wire[key])), align="R")
        pdf.ln()
    pdf.set_font("Helvetica", size=8)
    pdf.ln(3)
    terms = wire["terms"]
    line(
        f"Pago a {terms['terms_days']} días; cargo por demora de {terms['late_fee_pct']}% "
        f"mensual sobre el principal vencido tras {terms['grace_days']} días de gracia. / "
        f"Payment due in {terms['terms_days']} days; a late fee of {terms['late_fee_pct']}% "
        f"a month on the overdue principal after {terms['grace_days']} days of grace."
    )
    return bytes(pdf.output())
