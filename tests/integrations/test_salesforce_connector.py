"""The Salesforce connector against the fake Salesforce over real TLS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from integrations.base import PermanentError, RetryableError
from integrations.salesforce.connector import SalesforceConnector
from tests.support.connectors import job, lead
from tests.support.fakes.salesforce import FakeSalesforce

SHOWN = ("FirstName", "LastName", "Company", "Email", "Phone", "LeadSource")


def config(fake: FakeSalesforce, **changes: Any) -> dict[str, Any]:
    base = {
        "login_url": fake.base_url,
        "client_id": fake.client_id,
        "ca_bundle": str(fake.certificates.ca_pem),
    }
    base.update(changes)
    return base


@pytest.fixture
async def connector() -> AsyncIterator[SalesforceConnector]:
    made = SalesforceConnector(timeout_s=2, allow_private=True)  # the fake is on 127.0.0.1
    yield made
    await made.close()


async def test_a_new_lead_is_created_with_its_transcript_task(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    done = await connector.deliver(job(config=config(salesforce), secret=salesforce.client_secret))

    [created] = salesforce.leads
    assert done.external_id == created["Id"]
    assert {
        "FirstName": "María",
        "LastName": "Rivera",
        "Company": "Not provided",
        "Email": "maria.rivera@example.com",
        "Phone": "+17875550123",
        "LeadSource": "Chat",
    } == {
        k: created[k] for k in ("FirstName", "LastName", "Company", "Email", "Phone", "LeadSource")
    }
    assert (
        "Interest: buy\n"
        "Vehicle: 2022 Toyota Tacoma (used, VIN 3TMCZ5AN1NM123456, stock T1234)\n"
        "Trade-in: 2015 Honda Civic, 82000 mi\n"
        "Timeframe: this week\n"
        "Language: es\n"
        "Notes: Prefers a call after 5 pm\n"
        "Charla chat: chat-1"
    ) == created["Description"]
    [task] = salesforce.tasks
    assert (created["Id"], "Completed", "Chat transcript (Charla chat-1)") == (
        task["WhoId"],
        task["Status"],
        task["Subject"],
    )
    assert (
        "[2026-11-24 10:00] Visitor: Hola, busco una Tacoma 2022\n"
        "[2026-11-24 10:00] Agent (Ana): ¡Hola! Tenemos dos.\n"
        "[2026-11-24 10:00] Visitor: Mi número es 787-555-0123"
    ) == task["Description"]


async def test_a_returning_visitor_updates_the_same_lead_and_delivering_again_is_idempotent(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    cfg = config(salesforce)
    first = await connector.deliver(job(config=cfg, secret=salesforce.client_secret))
    again = await connector.deliver(job(config=cfg, secret=salesforce.client_secret))
    assert (1, 1) == (len(salesforce.leads), len(salesforce.tasks))

    # Same phone, new e-mail, a new chat: the Lead is updated, the new chat gets its Task
    returning = lead(chat_id="chat-2", email=None, timeframe="today")
    later = await connector.deliver(
        job(config=cfg, secret=salesforce.client_secret, payload={"lead": returning})
    )
    assert first.external_id == again.external_id == later.external_id
    [only] = salesforce.leads
    assert "Timeframe: today" in only["Description"]
    assert ["Chat transcript (Charla chat-1)", "Chat transcript (Charla chat-2)"] == sorted(
        t["Subject"] for t in salesforce.tasks
    )
    assert 1 == salesforce.token_requests  # the session is reused


async def test_soql_values_are_escaped(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    tricky = lead(email="o'brien\\x@example.com", phone=None, chat_id="c' OR Id != '")
    cfg = config(salesforce)
    await connector.deliver(
        job(config=cfg, secret=salesforce.client_secret, payload={"lead": tricky})
    )
    await connector.deliver(
        job(config=cfg, secret=salesforce.client_secret, payload={"lead": tricky})
    )
    assert ["o'brien\\x@example.com"] == [r["Email"] for r in salesforce.leads]
    assert 1 == len(salesforce.tasks)


async def test_an_expired_session_signs_in_again_once_and_retries(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    cfg = config(salesforce)
    await connector.deliver(job(config=cfg, secret=salesforce.client_secret))
    salesforce.expire_sessions()
    await connector.deliver(
        job(config=cfg, secret=salesforce.client_secret, payload={"lead": lead(chat_id="c2")})
    )
    assert 2 == salesforce.token_requests
    assert (1, 2) == (len(salesforce.leads), len(salesforce.tasks))


async def test_a_session_refused_twice_is_retryable(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    salesforce.fail_next("expired_session", on="query")
    salesforce.fail_next("expired_session", on="query")
    with pytest.raises(RetryableError) as raised:
        await connector.deliver(job(config=config(salesforce), secret=salesforce.client_secret))
    assert "INVALID_SESSION_ID" == raised.value.code
    assert [] == salesforce.leads


@pytest.mark.parametrize(
    ("kind", "code"), [("rate_limit", "REQUEST_LIMIT_EXCEEDED"), ("unavailable", "503")]
)
async def test_rate_limits_and_outages_are_retryable(
    salesforce: FakeSalesforce, connector: SalesforceConnector, kind: str, code: str
) -> None:
    salesforce.fail_next(kind, on="create:Lead")
    cfg = config(salesforce)
    with pytest.raises(RetryableError) as raised:
        await connector.deliver(job(config=cfg, secret=salesforce.client_secret))
    assert code == raised.value.code
    await connector.deliver(job(config=cfg, secret=salesforce.client_secret))
    assert (1, 1) == (len(salesforce.leads), len(salesforce.tasks))


async def test_a_duplicate_rule_match_updates_the_matched_lead(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    cfg = config(salesforce)
    # A Lead the dealer typed by hand, whose e-mail and phone our search cannot match
    existing = await connector.deliver(
        job(
            config=cfg,
            secret=salesforce.client_secret,
            payload={"lead": lead(email="x@y.com", phone=None)},
        )
    )
    salesforce.fail_next("duplicates", on="create:Lead", detail=existing.external_id)
    done = await connector.deliver(
        job(config=cfg, secret=salesforce.client_secret, payload={"lead": lead(chat_id="c2")})
    )
    assert existing.external_id == done.external_id
    [only] = salesforce.leads
    assert "maria.rivera@example.com" == only["Email"]
    assert 2 == len(salesforce.tasks)


async def test_a_required_field_missing_fails_clearly_without_retry(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    salesforce.custom_fields["Lead"].add("Dealer_Code__c")
    salesforce.required["Lead"].append("Dealer_Code__c")
    with pytest.raises(PermanentError) as raised:
        await connector.deliver(job(config=config(salesforce), secret=salesforce.client_secret))
    assert (
        "Salesforce refused the Lead: REQUIRED_FIELD_MISSING: Required fields are missing: "
        "[Dealer_Code__c] (fields: Dealer_Code__c)"
    ) == raised.value.message
    assert 1 == sum(1 for r in salesforce.requests if r[1] == "create:Lead")


async def test_custom_field_mapping_fills_the_tenants_fields(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    salesforce.custom_fields["Lead"].update({"Vehicle_VIN__c", "Preferred_Language__c"})
    cfg = config(
        salesforce,
        lead_source="Website Chat",
        default_company="Particular",
        field_map={"Vehicle_VIN__c": "vehicle.vin", "Preferred_Language__c": "language"},
    )
    await connector.deliver(job(config=cfg, secret=salesforce.client_secret))
    [created] = salesforce.leads
    assert ("3TMCZ5AN1NM123456", "es", "Website Chat", "Particular") == (
        created["Vehicle_VIN__c"],
        created["Preferred_Language__c"],
        created["LeadSource"],
        created["Company"],
    )


async def test_refused_credentials_fail_without_retry(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    with pytest.raises(PermanentError) as raised:
        await connector.deliver(job(config=config(salesforce), secret="wrong-secret"))
    assert "invalid_client" == raised.value.code
    assert "wrong-secret" not in raised.value.message


async def test_a_slow_salesforce_times_out_as_retryable(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    salesforce.fail_next("slow", on="query", detail=3)
    with pytest.raises(RetryableError) as raised:
        await connector.deliver(job(config=config(salesforce), secret=salesforce.client_secret))
    assert "timeout" == raised.value.code


async def test_a_certificate_from_another_ca_is_refused(
    salesforce: FakeSalesforce, connector: SalesforceConnector
) -> None:
    with pytest.raises(PermanentError) as raised:
        await connector.deliver(
            job(config=config(salesforce, ca_bundle=None), secret=salesforce.client_secret)
        )
    assert "tls" == raised.value.code


async def test_a_login_url_on_the_providers_network_is_refused(
    salesforce: FakeSalesforce,
) -> None:
    guarded = SalesforceConnector(timeout_s=2)
    try:
        with pytest.raises(PermanentError) as raised:
            await guarded.deliver(job(config=config(salesforce), secret=salesforce.client_secret))
    finally:
        await guarded.close()
    assert "private_address" == raised.value.code
    assert [] == salesforce.requests


async def test_incomplete_settings_fail_clearly(connector: SalesforceConnector) -> None:
    with pytest.raises(PermanentError) as raised:
        await connector.deliver(job(config={}, secret="x"))
    assert "settings are incomplete" in raised.value.message
