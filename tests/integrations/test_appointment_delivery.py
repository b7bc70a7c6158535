"""A lead's requested appointment as each destination gets it: ADF 1.0 (which has no
appointment element: the vehicle's interest "test-drive" and a comments line), Salesforce's
Task fields, and the webhook body as is."""

from __future__ import annotations

from lxml import etree

from integrations.adf.document import build
from integrations.salesforce import mapping
from integrations.transcript import summary
from integrations.webhooks.connector import envelope
from tests.support.connectors import ADF_DTD, STARTED, TRANSCRIPT, job, lead

DTD = etree.DTD(str(ADF_DTD))
TEST_DRIVE = {"kind": "test_drive", "at": "2026-11-28T10:00", "notes": "la roja"}


def adf(lead_wire: dict[str, object]) -> etree._Element:
    document = build(
        lead_wire,
        vendor_name="Autos PR",
        vendor_email="leads@dealer.example",
        requested_at=STARTED,
        timezone="America/Puerto_Rico",
        transcript_summary=summary(TRANSCRIPT),
    )
    root = etree.fromstring(document)
    assert DTD.validate(root), DTD.error_log.filter_from_errors()
    return root


def test_a_test_drive_is_the_wanted_vehicles_interest_with_its_time_in_comments() -> None:
    root = adf(lead(appointment=TEST_DRIVE))

    wanted, trade_in = root.findall("prospect/vehicle")
    line = "Appointment requested: Test drive, 2026-11-28 10:00 (America/Puerto_Rico). la roja"
    assert ("test-drive", line) == (wanted.get("interest"), wanted.findtext("comments"))
    assert ("trade-in", None) == (trade_in.get("interest"), trade_in.find("comments"))
    assert (root.findtext("prospect/customer/comments") or "").startswith(line + "\n")


def test_other_kinds_keep_the_leads_interest_and_say_the_kind() -> None:
    root = adf(lead(appointment={"kind": "service", "at": "2026-11-30T09:00"}))

    wanted = root.findall("prospect/vehicle")[0]
    assert "buy" == wanted.get("interest")
    assert "Appointment requested: Service appointment, 2026-11-30 09:00 (America/Puerto_Rico)" == (
        wanted.findtext("comments")
    )


def test_a_lead_without_an_appointment_has_no_appointment_line() -> None:
    root = adf(lead())
    assert None is root.find("prospect/vehicle/comments")
    assert "Appointment" not in (root.findtext("prospect/customer/comments") or "")


def test_salesforces_task_is_due_on_the_appointments_day() -> None:
    wire = lead(appointment=TEST_DRIVE)

    fields = mapping.appointment_task("00Q1", wire, "America/Puerto_Rico")

    assert {
        "WhoId": "00Q1",
        "Subject": "Appointment request (Charla chat-1)",
        "Status": "Not Started",
        "Priority": "High",
        "ActivityDate": "2026-11-28",
        "Description": "Test drive: 2026-11-28 10:00 (America/Puerto_Rico) - la roja\n"
        "Vehicle: 2022 Toyota Tacoma (used, VIN 3TMCZ5AN1NM123456, stock T1234)\n"
        "Phone: +17875550123\n"
        "E-mail: maria.rivera@example.com\n"
        "Charla chat: chat-1",
    } == fields
    # a changed appointment moves the day and the text, not what the dealer set
    assert {"ActivityDate", "Description"} == set(
        mapping.appointment_task_update("00Q1", wire, "America/Puerto_Rico")
    )
    assert "Appointment: Test drive: 2026-11-28 10:00 - la roja" in mapping.description(wire)


def test_a_tenant_may_map_the_appointment_onto_its_own_lead_fields() -> None:
    assert None is mapping.field_map_problem(
        {"Test_Drive_At__c": "appointment.at", "Visit_Kind__c": "appointment.kind"}
    )
    config = mapping.SalesforceConfig(
        login_url="https://login.example",
        client_id="c",
        field_map={"Visit_At__c": "appointment.at"},
    )
    assert (
        "2026-11-28T10:00"
        == mapping.lead_fields(lead(appointment=TEST_DRIVE), config)["Visit_At__c"]
    )


def test_a_webhook_gets_the_appointment_as_the_lead_has_it() -> None:
    wire = lead(appointment=TEST_DRIVE)
    body = envelope(job(destination="webhook", payload={"lead": wire}, delivery_id="d-9"))
    assert TEST_DRIVE == body["data"]["lead"]["appointment"]
