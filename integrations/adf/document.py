"""A lead as an ADF 1.0 (Auto-Lead Data Format) document, the format dealer CRMs import.

Built with the standard library's ElementTree, which escapes every text and attribute, so a
visitor's "<script>" or "&" arrives as text. Element order follows the DTD's content models
(prospect: id*, requestdate, vehicle+, customer, vendor, provider?), which a validating
parser checks in the tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

ADF_INTEREST = {"buy": "buy", "lease": "lease"}  # the rest: "buy", with the interest in comments
PROVIDER_NAME = "Charla"
# ADF 1.0 has no appointment element: a test drive is the wanted vehicle's own interest
# ("test-drive"), and every kind is a line of the vehicle's and the customer's comments
APPOINTMENT_WORDS = {
    "test_drive": "Test drive",
    "service": "Service appointment",
    "order": "Order / reservation",
    "visit": "Visit",
}


def _add(parent: ET.Element, tag: str, text: Any = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = str(text)
    return element


def appointment_line(lead: dict[str, Any], timezone: str) -> str | None:
    """ "Appointment requested: Test drive, 2026-12-12 10:00 (America/Puerto_Rico)"."""
    appointment = lead.get("appointment") or {}
    if not appointment.get("at"):
        return None
    kind = APPOINTMENT_WORDS.get(str(appointment.get("kind")), "Visit")
    when = str(appointment["at"]).replace("T", " ")
    line = f"Appointment requested: {kind}, {when} ({timezone})"
    if appointment.get("notes"):
        line += f". {appointment['notes']}"
    return line


def _vehicle(
    prospect: ET.Element,
    vehicle: dict[str, Any],
    *,
    interest: str,
    status: str,
    comments: str | None = None,
) -> None:
    element = _add(prospect, "vehicle", interest=interest, status=status)
    # year, make and model are required by the DTD; unknown ones stay empty
    for tag in ("year", "make", "model"):
        _add(element, tag, vehicle.get(tag) if vehicle.get(tag) is not None else "")
    for tag in ("vin", "stock"):
        if vehicle.get(tag):
            _add(element, tag, vehicle[tag])
    if vehicle.get("mileage") is not None:
        _add(element, "odometer", vehicle["mileage"], units="mi")
    if comments:
        _add(element, "comments", comments)


def _contact(parent: ET.Element, lead: dict[str, Any]) -> None:
    contact = _add(parent, "contact")
    first, last = lead.get("first_name"), lead.get("last_name")
    if first:
        _add(contact, "name", first, part="first")
    if last:
        _add(contact, "name", last, part="last")
    if lead.get("email"):
        _add(contact, "email", lead["email"])
    if lead.get("phone"):
        _add(contact, "phone", lead["phone"], type="voice")


def comments(lead: dict[str, Any], transcript_summary: str, timezone: str = "") -> str:
    parts = [
        appointment_line(lead, timezone) if timezone else None,
        f"Interest: {lead.get('interest')}" if lead.get("interest") else None,
        f"Language: {lead.get('language')}" if lead.get("language") else None,
        f"Notes: {lead['notes']}" if lead.get("notes") else None,
        f"Visitor said: {transcript_summary}" if transcript_summary else None,
        f"Charla chat: {lead.get('chat_id')}",
    ]
    return "\n".join(p for p in parts if p)


def build(
    lead: dict[str, Any],
    *,
    vendor_name: str,
    vendor_email: str,
    requested_at: datetime,
    timezone: str,
    transcript_summary: str,
    provider_email: str | None = None,
    resend: bool = False,
) -> bytes:
    """The ADF document for one lead, UTF-8, with the XML and `adf` processing instructions.
    A later change of the same lead is `resend`, with the same prospect id: the CRM updates
    the lead it has."""
    adf = ET.Element("adf")
    prospect = _add(adf, "prospect", status="resend" if resend else "new")
    _add(prospect, "id", lead.get("id"), sequence="1", source=PROVIDER_NAME)
    _add(prospect, "requestdate", requested_at.astimezone(ZoneInfo(timezone)).isoformat())
    interest = ADF_INTEREST.get(str(lead.get("interest")), "buy")
    appointment = lead.get("appointment") or {}
    if appointment.get("kind") == "test_drive":
        interest = "test-drive"
    vehicle = lead.get("vehicle") or {}
    _vehicle(
        prospect,
        vehicle,
        interest=interest,
        status="used" if vehicle.get("condition") == "used" else "new",
        comments=appointment_line(lead, timezone),
    )
    if lead.get("trade_in"):
        _vehicle(prospect, lead["trade_in"], interest="trade-in", status="used")
    customer = _add(prospect, "customer")
    _contact(customer, lead)
    if lead.get("timeframe"):
        _add(customer, "timeframe", lead["timeframe"])
    _add(customer, "comments", comments(lead, transcript_summary, timezone))
    vendor = _add(prospect, "vendor")
    _add(vendor, "vendorname", vendor_name)
    vendor_contact = _add(vendor, "contact")
    _add(vendor_contact, "name", vendor_name, part="full", type="business")
    _add(vendor_contact, "email", vendor_email)
    provider = _add(prospect, "provider")
    _add(provider, "name", PROVIDER_NAME, part="full", type="business")
    _add(provider, "service", "Live chat")
    if provider_email:
        _add(provider, "email", provider_email)
    body = ET.tostring(adf, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>\n' + body).encode()
