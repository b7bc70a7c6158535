"""From a Charla lead to Salesforce Lead and Task fields, and the SOQL that finds them.

Pure functions over the protocol's Lead shape (PROTOCOL.md, "Shapes") and the tenant's
settings, so the mapping is tested without a Salesforce and without a server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from simple_salesforce.format import format_soql

DEFAULT_API_VERSION = "59.0"
DEFAULT_LEAD_SOURCE = "Chat"
DEFAULT_COMPANY = "Not provided"
# Salesforce's own limits (Lead.Description and Task.Description are long text areas)
DESCRIPTION_MAX = 32000
NAME_MAX = 80

# What a tenant may map onto its own (custom) Lead fields: paths into the protocol's Lead.
FIELD_SOURCES: frozenset[str] = frozenset(
    {
        "id",
        "chat_id",
        "language",
        "interest",
        "timeframe",
        "notes",
        "first_name",
        "last_name",
        "email",
        "phone",
        "vehicle.year",
        "vehicle.make",
        "vehicle.model",
        "vehicle.vin",
        "vehicle.stock",
        "vehicle.condition",
        "trade_in.year",
        "trade_in.make",
        "trade_in.model",
        "trade_in.mileage",
        "appointment.kind",
        "appointment.at",
    }
)
APPOINTMENT_WORDS = {
    "test_drive": "Test drive",
    "service": "Service appointment",
    "order": "Order / reservation",
    "visit": "Visit",
}
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
# Fields Charla sets itself; a mapping may not overwrite them.
RESERVED_FIELDS = frozenset(
    {"Id", "FirstName", "LastName", "Company", "Email", "Phone", "LeadSource", "Description"}
)


@dataclass(frozen=True)
class SalesforceConfig:
    """The tenant's Salesforce settings (the client secret is kept apart, encrypted)."""

    login_url: str
    client_id: str
    ca_bundle: str | None = None
    api_version: str = DEFAULT_API_VERSION
    lead_source: str = DEFAULT_LEAD_SOURCE
    default_company: str = DEFAULT_COMPANY
    field_map: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, config: dict[str, Any]) -> SalesforceConfig:
        return cls(
            login_url=str(config["login_url"]).rstrip("/"),
            client_id=str(config["client_id"]),
            ca_bundle=config.get("ca_bundle") or None,
            api_version=str(config.get("api_version") or DEFAULT_API_VERSION),
            lead_source=str(config.get("lead_source") or DEFAULT_LEAD_SOURCE),
            default_company=str(config.get("default_company") or DEFAULT_COMPANY),
            field_map=dict(config.get("field_map") or {}),
        )


def field_map_problem(field_map: dict[str, str]) -> str | None:
    """Why a tenant's field mapping cannot be used, or None when it can."""
    for target, source in field_map.items():
        if not FIELD_NAME.match(target):
            return f"field_map: {target!r} is not a Salesforce field API name (e.g. Model__c)"
        if target in RESERVED_FIELDS:
            return f"field_map: {target} is set by Charla itself; map another field"
        if source not in FIELD_SOURCES:
            known = ", ".join(sorted(FIELD_SOURCES))
            return f"field_map: {target} maps {source!r}; use one of: {known}"
    return None


def pick(lead: dict[str, Any], path: str) -> Any:
    value: Any = lead
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def vehicle_line(vehicle: dict[str, Any] | None) -> str | None:
    if not vehicle:
        return None
    name = " ".join(str(vehicle[k]) for k in ("year", "make", "model") if vehicle.get(k))
    extras = [
        f"{vehicle['condition']}" if vehicle.get("condition") else None,
        f"VIN {vehicle['vin']}" if vehicle.get("vin") else None,
        f"stock {vehicle['stock']}" if vehicle.get("stock") else None,
    ]
    details = ", ".join(e for e in extras if e)
    text = f"{name} ({details})" if details and name else name or details
    return text or None


def trade_in_line(trade_in: dict[str, Any] | None) -> str | None:
    if not trade_in:
        return None
    name = " ".join(str(trade_in[k]) for k in ("year", "make", "model") if trade_in.get(k))
    mileage = trade_in.get("mileage")
    if mileage is not None:
        name = f"{name}, {mileage} mi" if name else f"{mileage} mi"
    return name or None


def appointment_line(appointment: dict[str, Any] | None, timezone: str | None = None) -> str | None:
    """ "Test drive: 2026-12-12 10:00 (America/Puerto_Rico)": the kind and the dealer's
    local date and time as the lead carries them."""
    if not appointment or not appointment.get("at"):
        return None
    kind = APPOINTMENT_WORDS.get(str(appointment.get("kind")), "Visit")
    when = str(appointment["at"]).replace("T", " ")
    zone = f" ({timezone})" if timezone else ""
    line = f"{kind}: {when}{zone}"
    if appointment.get("notes"):
        line += f" - {appointment['notes']}"
    return line


def description(lead: dict[str, Any]) -> str:
    """The Lead's Description: what a salesperson needs before calling back."""
    parts = [
        ("Interest", lead.get("interest")),
        ("Vehicle", vehicle_line(lead.get("vehicle"))),
        ("Trade-in", trade_in_line(lead.get("trade_in"))),
        ("Timeframe", lead.get("timeframe")),
        ("Appointment", appointment_line(lead.get("appointment"))),
        ("Language", lead.get("language")),
        ("Notes", lead.get("notes")),
        ("Charla chat", lead.get("chat_id")),
    ]
    return _clip("\n".join(f"{k}: {v}" for k, v in parts if v), DESCRIPTION_MAX)


def names(lead: dict[str, Any]) -> tuple[str | None, str]:
    """(FirstName, LastName): Salesforce requires LastName, a lead may only have one name."""
    first = (lead.get("first_name") or "").strip() or None
    last = (lead.get("last_name") or "").strip() or None
    if last is None:
        return None, _clip(first or "", NAME_MAX)
    return (_clip(first, NAME_MAX) if first else None), _clip(last, NAME_MAX)


def lead_fields(lead: dict[str, Any], config: SalesforceConfig) -> dict[str, Any]:
    """The fields of a new Lead."""
    first, last = names(lead)
    fields: dict[str, Any] = {
        "LastName": last,
        "Company": _clip(str(lead.get("company") or config.default_company), 255),
        "LeadSource": config.lead_source,
        "Description": description(lead),
    }
    if first:
        fields["FirstName"] = first
    if lead.get("email"):
        fields["Email"] = lead["email"]
    if lead.get("phone"):
        fields["Phone"] = lead["phone"]
    for target, source in config.field_map.items():
        value = pick(lead, source)
        if value is not None:
            fields[target] = value
    return fields


def lead_update(lead: dict[str, Any], config: SalesforceConfig) -> dict[str, Any]:
    """The fields to refresh on a Lead that exists: what the visitor told us now, but not
    Company or LeadSource, which the dealer may have corrected by hand."""
    fields = lead_fields(lead, config)
    fields.pop("Company")
    fields.pop("LeadSource")
    return fields


def find_lead_soql(lead: dict[str, Any]) -> str | None:
    """The open Lead for this person (same e-mail or phone), newest first; values escaped."""
    conditions = []
    values = []
    if lead.get("email"):
        conditions.append("Email = {}")
        values.append(lead["email"])
    if lead.get("phone"):
        conditions.append("Phone = {}")
        values.append(lead["phone"])
    if not conditions:
        return None
    where = " OR ".join(conditions)
    return str(
        format_soql(
            f"SELECT Id FROM Lead WHERE IsConverted = false AND ({where}) "  # noqa: S608 - {} placeholders only: format_soql quotes the values
            "ORDER BY CreatedDate DESC LIMIT 1",
            *values,
        )
    )


def task_subject(lead: dict[str, Any]) -> str:
    """One Task per chat; the chat id in the Subject makes a redelivery find it again."""
    return f"Chat transcript (Charla {lead.get('chat_id')})"


def find_task_soql(lead_id: str, subject: str) -> str:
    return str(
        format_soql(
            "SELECT Id FROM Task WHERE WhoId = {} AND Subject = {} LIMIT 1", lead_id, subject
        )
    )


def task_fields(lead_id: str, subject: str, transcript: str, activity_date: str) -> dict[str, Any]:
    return {
        "WhoId": lead_id,
        "Subject": subject,
        "Status": "Completed",
        "Priority": "Normal",
        "ActivityDate": activity_date,
        "Description": _clip(transcript, DESCRIPTION_MAX),
    }


def appointment_subject(lead: dict[str, Any]) -> str:
    """One appointment Task per chat, found again by this Subject when the time changes."""
    return f"Appointment request (Charla {lead.get('chat_id')})"


def appointment_task(lead_id: str, lead: dict[str, Any], timezone: str) -> dict[str, Any]:
    """A Task due on the appointment's local day (ActivityDate is a date: the time goes
    first in the Description), for the salesperson to confirm."""
    appointment = lead["appointment"]
    parts = [
        appointment_line(appointment, timezone),
        f"Vehicle: {vehicle_line(lead.get('vehicle'))}" if lead.get("vehicle") else None,
        f"Phone: {lead['phone']}" if lead.get("phone") else None,
        f"E-mail: {lead['email']}" if lead.get("email") else None,
        f"Charla chat: {lead.get('chat_id')}",
    ]
    return {
        "WhoId": lead_id,
        "Subject": appointment_subject(lead),
        "Status": "Not Started",
        "Priority": "High",
        "ActivityDate": str(appointment["at"])[:10],
        "Description": _clip("\n".join(p for p in parts if p), DESCRIPTION_MAX),
    }


def appointment_task_update(lead_id: str, lead: dict[str, Any], timezone: str) -> dict[str, Any]:
    """A changed appointment: its day and text, not the Status the dealer may have set."""
    fields = appointment_task(lead_id, lead, timezone)
    return {key: fields[key] for key in ("ActivityDate", "Description")}


def duplicate_ids(errors: Any) -> list[str]:
    """The records a DUPLICATES_DETECTED error matched, best match first."""
    found: list[tuple[float, str]] = []
    if not isinstance(errors, list):
        return []
    for error in errors:
        if not isinstance(error, dict) or error.get("errorCode") != "DUPLICATES_DETECTED":
            continue
        result = error.get("duplicateResult") or {}
        for match in result.get("matchResults") or []:
            for record in match.get("matchRecords") or []:
                record_id = (record.get("record") or {}).get("Id")
                if record_id:
                    found.append((float(record.get("matchConfidence") or 0), str(record_id)))
    found.sort(key=lambda pair: -pair[0])
    return list(dict.fromkeys(record_id for _, record_id in found))


def error_codes(errors: Any) -> list[tuple[str, str, list[str]]]:
    """(errorCode, message, fields) of a Salesforce error body (a JSON array)."""
    if not isinstance(errors, list):
        return []
    return [
        (str(e.get("errorCode")), str(e.get("message") or ""), list(e.get("fields") or []))
        for e in errors
        if isinstance(e, dict)
    ]
