"""The connectors' pure parts, without a server: ADF documents, signatures, backoff, mapping,
transcripts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from console.outbox.backoff import RetryPolicy
from console.settings import ConfigError, Settings
from integrations.adf.document import build
from integrations.base import PermanentError, TranscriptLine
from integrations.netguard import is_public, literal_problem
from integrations.salesforce import mapping
from integrations.salesforce.mapping import SalesforceConfig
from integrations.transcript import render, summary
from integrations.webhooks.connector import WebhookConnector, envelope, sign, verify
from tests.support.connectors import ADF_DTD, STARTED, TRANSCRIPT, job, lead

DTD = etree.DTD(str(ADF_DTD))


def adf(lead_wire: dict[str, object]) -> etree._Element:
    document = build(
        lead_wire,
        vendor_name="Autos & Co <PR>",
        vendor_email="leads@dealer.example",
        requested_at=STARTED,
        timezone="America/Puerto_Rico",
        transcript_summary=summary(TRANSCRIPT),
    )
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>')
    root = etree.fromstring(document)
    assert DTD.validate(root), DTD.error_log.filter_from_errors()
    return root


def test_a_full_lead_is_a_valid_adf_document() -> None:
    root = adf(lead())
    assert "2026-11-24T10:00:00-04:00" == root.findtext("prospect/requestdate")
    assert ["buy", "trade-in"] == [v.get("interest") for v in root.findall("prospect/vehicle")]
    assert "this week" == root.findtext("prospect/customer/timeframe")
    assert "Autos & Co <PR>" == root.findtext("prospect/vendor/vendorname")


def test_a_lead_with_only_a_first_name_a_phone_and_no_vehicle_is_still_valid() -> None:
    root = adf(
        {
            "id": "l",
            "chat_id": "c",
            "first_name": "Ana",
            "phone": "+17875550123",
            "interest": "service",
        }
    )
    [vehicle] = root.findall("prospect/vehicle")
    assert ("buy", "new", "", "", "") == (
        vehicle.get("interest"),
        vehicle.get("status"),
        vehicle.findtext("year"),
        vehicle.findtext("make"),
        vehicle.findtext("model"),
    )
    assert None is root.find("prospect/customer/contact/email")
    assert "Interest: service" in (root.findtext("prospect/customer/comments") or "")


def test_lease_interest_is_kept_and_markup_in_text_stays_text() -> None:
    root = adf(lead(interest="lease", notes="</comments><script>x</script>"))
    vehicle = root.find("prospect/vehicle")
    assert vehicle is not None
    assert "lease" == vehicle.get("interest")
    assert "Notes: </comments><script>x</script>" in (
        root.findtext("prospect/customer/comments") or ""
    )


def test_a_signature_verifies_only_the_exact_body_with_the_right_secret() -> None:
    body = b'{"event":"lead.qualified"}'
    signature = sign("secret-0123456789", body)
    assert signature.startswith("sha256=")
    assert verify("secret-0123456789", body, signature)
    assert not verify("secret-0123456789", body + b" ", signature)
    assert not verify("another-secret-000", body, signature)


def test_a_webhook_body_is_the_event_with_the_lead_without_its_deliveries() -> None:
    wire = {**lead(), "deliveries": [{"id": "d"}]}
    body = envelope(job(destination="webhook", payload={"lead": wire}, delivery_id="d-9"))
    assert ("d-9", "lead.qualified", "t-1", "2026-11-24T14:00:00.000Z") == (
        body["id"],
        body["event"],
        body["tenant_id"],
        body["created_at"],
    )
    assert "deliveries" not in body["data"]["lead"]
    assert "maria.rivera@example.com" == body["data"]["lead"]["email"]


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=2, cap_s=60, max_attempts=5)
    rng = random.Random(7)
    delays = [policy.delay_s(n, rng) for n in range(1, 8)]
    ceilings = [2, 4, 8, 16, 32, 60, 60]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True)), delays
    assert len({round(policy.delay_s(3), 6) for _ in range(20)}) > 1  # jittered
    assert (False, True) == (policy.exhausted(4), policy.exhausted(5))


def test_soql_quotes_what_the_visitor_typed() -> None:
    soql = mapping.find_lead_soql(lead(email="a'b@x.com", phone="+1787\\"))
    assert (
        "SELECT Id FROM Lead WHERE IsConverted = false AND "
        "(Email = 'a\\'b@x.com' OR Phone = '+1787\\\\') ORDER BY CreatedDate DESC LIMIT 1"
    ) == soql
    assert None is mapping.find_lead_soql(lead(email=None, phone=None))


def test_names_fill_salesforces_required_last_name() -> None:
    assert (None, "Ana") == mapping.names({"first_name": "Ana"})
    assert ("Ana", "Rivera") == mapping.names({"first_name": "Ana", "last_name": "Rivera"})
    assert (None, "Rivera") == mapping.names({"last_name": "Rivera"})


def test_an_existing_lead_keeps_the_dealers_company_and_source() -> None:
    update = mapping.lead_update(
        lead(), SalesforceConfig.from_stored({"login_url": "https://x", "client_id": "c"})
    )
    assert "Company" not in update
    assert "LeadSource" not in update
    assert "Rivera" == update["LastName"]


@pytest.mark.parametrize(
    ("field_map", "problem"),
    [
        ({"Model__c": "vehicle.model"}, None),
        ({"LeadSource": "language"}, "LeadSource is set by Charla"),
        ({"1bad": "language"}, "not a Salesforce field API name"),
        ({"Foo__c": "visitor.ip"}, "maps 'visitor.ip'"),
    ],
)
def test_field_maps_are_checked(field_map: dict[str, str], problem: str | None) -> None:
    found = mapping.field_map_problem(field_map)
    assert (problem is None) == (found is None), found
    if problem is not None:
        assert found is not None
        assert problem in found


def test_duplicate_matches_are_read_best_first() -> None:
    errors = [
        {
            "errorCode": "DUPLICATES_DETECTED",
            "duplicateResult": {
                "matchResults": [
                    {
                        "matchRecords": [
                            {"matchConfidence": 80.0, "record": {"Id": "00Qb"}},
                            {"matchConfidence": 100.0, "record": {"Id": "00Qa"}},
                        ]
                    }
                ]
            },
        }
    ]
    assert ["00Qa", "00Qb"] == mapping.duplicate_ids(errors)
    assert [] == mapping.duplicate_ids([{"errorCode": "REQUIRED_FIELD_MISSING"}])
    assert [] == mapping.duplicate_ids("<html>")


def test_a_long_transcript_keeps_its_newest_messages() -> None:
    lines = [
        TranscriptLine(
            datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n), "visitor", None, f"m{n:03d}"
        )
        for n in range(100)
    ]
    text = render(lines, "America/Puerto_Rico", max_chars=200)
    assert len(text) <= 200
    assert text.startswith("[... earlier messages left out ...]")
    assert text.endswith("Visitor: m099")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("::ffff:192.168.1.1", False),
        ("fd00::1", False),
        ("2606:4700:4700::1111", True),
    ],
)
def test_only_public_addresses_are_public(address: str, public: bool) -> None:
    assert public == is_public(address)


def test_settings_refuse_literal_private_hosts_and_leave_names_for_delivery() -> None:
    assert "localhost is not a public address" == literal_problem("localhost")
    assert "10.0.0.5 is not a public address" == literal_problem("10.0.0.5")
    assert None is literal_problem("crm.example.com")


async def test_a_webhook_on_the_providers_network_is_refused_before_any_request() -> None:
    connector = WebhookConnector(timeout_s=1)
    try:
        with pytest.raises(PermanentError) as raised:
            await connector.deliver(
                job(
                    destination="webhook",
                    config={"url": "http://127.0.0.1:9/hook"},
                    secret="s" * 16,
                )
            )
    finally:
        await connector.close()
    assert "private_address" == raised.value.code


def test_smtp_and_outbox_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "CHARLA_SMTP_HOST": "smtp.provider.example",
            "CHARLA_SMTP_PORT": "2525",
            "CHARLA_SMTP_PASSWORD": "relay-password",
            "CHARLA_SMTP_STARTTLS": "false",
            "CHARLA_OUTBOX_WORKER": "off",
            "CHARLA_OUTBOX_LEASE_S": "30",
            "CHARLA_OUTBOX_MAX_ATTEMPTS": "3",
        }
    )
    assert ("smtp.provider.example", 2525, False) == (
        settings.smtp.host,
        settings.smtp.port,
        settings.smtp.starttls,
    )
    assert (False, 30.0, 15.0, 3, False) == (
        settings.outbox.in_process,
        settings.outbox.lease_s,
        settings.outbox.delivery_timeout_s,
        settings.outbox.max_attempts,
        settings.outbox.allow_private,
    )
    assert "relay-password" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHARLA_SMTP_STARTTLS", "maybe"),
        ("CHARLA_OUTBOX_LEASE_S", "1"),
        ("CHARLA_OUTBOX_POLL_S", "0"),
        ("CHARLA_OUTBOX_MAX_ATTEMPTS", "0"),
    ],
)
def test_unusable_outbox_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({name: value})
    assert name in str(raised.value)


def test_a_rate_limit_waits_at_least_the_pause_or_what_the_destination_asked() -> None:
    policy = RetryPolicy(base_s=2, cap_s=600, max_attempts=8)
    rng = random.Random(1)
    assert 300 == policy.after_failure(1, throttled=True, throttle_pause_s=300, rng=rng)
    assert 120 == policy.after_failure(1, throttled=True, retry_after_s=120, rng=rng)
    assert 600 == policy.after_failure(1, retry_after_s=86400, rng=rng)  # capped
    assert 1 <= policy.after_failure(1, throttle_pause_s=300, rng=rng) <= 2  # not throttled
