"""Salesforce: OAuth 2.0 client credentials, then find-or-create the Lead and its Task.

simple-salesforce and requests are synchronous, so one delivery runs as one function in a
worker thread (`asyncio.to_thread`). Every step is safe to repeat: the Lead is found by
e-mail or phone before anything is created, and the Task by the chat id in its Subject, so a
delivery cut short by a crash and delivered again leaves one Lead and one Task.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
import structlog
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from integrations import netguard
from integrations.base import (
    LEAD_EVENTS,
    Connector,
    Delivered,
    DeliveryError,
    DeliveryJob,
    PermanentError,
    RetryableError,
)
from integrations.salesforce import mapping
from integrations.salesforce.mapping import SalesforceConfig
from integrations.transcript import render

log = structlog.get_logger("charla.salesforce")
DEFAULT_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str


class _Adapter(HTTPAdapter):
    """Every request gets a timeout and the tenant's CA bundle, whatever the caller (or the
    REQUESTS_CA_BUNDLE variable) says: simple-salesforce passes neither."""

    def __init__(self, timeout_s: float, ca_bundle: str | None) -> None:
        super().__init__(max_retries=0)
        self.timeout_s = timeout_s
        self.ca_bundle = ca_bundle

    def send(  # noqa: PLR0917 - the signature of requests' HTTPAdapter.send
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout_s,
            verify=self.ca_bundle or True,
            cert=cert,
            proxies=proxies,
        )


def _session(timeout_s: float, ca_bundle: str | None) -> requests.Session:
    """Shared by tenants with the same CA bundle: it keeps no cookies, so nothing one org
    sets travels with another org's calls (authentication is the Bearer header)."""
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = _Adapter(timeout_s, ca_bundle)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _sobject(sf: Salesforce, name: str) -> SFType:
    """`sf.Lead`, typed: simple-salesforce's attribute access may also mean bulk handlers."""
    return SFType(name, sf.session_id, sf.sf_instance, sf.sf_version, session=sf.session)


def _first_code(exc: SalesforceError) -> str:
    codes = mapping.error_codes(exc.content)
    return codes[0][0] if codes else ""


def _refusal(what: str, exc: SalesforceError) -> PermanentError:
    """A clear, final error from Salesforce's own codes, messages and field names."""
    codes = mapping.error_codes(exc.content)
    if not codes:
        return PermanentError(f"Salesforce refused the {what} (HTTP {exc.status})")
    parts = []
    for code, message, fields in codes:
        named = f" (fields: {', '.join(fields)})" if fields else ""
        parts.append(f"{code}: {message}{named}")
    return PermanentError(f"Salesforce refused the {what}: " + "; ".join(parts), code=codes[0][0])


def classify(what: str, exc: Exception) -> DeliveryError:
    """Which failures are worth retrying. Anything a human must fix is permanent."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, requests.exceptions.SSLError):
        return PermanentError(
            "TLS verification of Salesforce failed: check login_url and ca_bundle",
            code="tls",
        )
    if isinstance(exc, requests.Timeout):
        return RetryableError(f"Salesforce did not answer the {what} in time", code="timeout")
    if isinstance(exc, requests.ConnectionError):
        return RetryableError(f"cannot connect to Salesforce for the {what}", code="connection")
    if isinstance(exc, SalesforceRefusedRequest) and _first_code(exc) == "REQUEST_LIMIT_EXCEEDED":
        return RetryableError(
            "Salesforce's API request limit is exhausted; retrying later",
            code="REQUEST_LIMIT_EXCEEDED",
            throttled=True,
        )
    if isinstance(exc, SalesforceGeneralError) and exc.status >= 500:
        return RetryableError(
            f"Salesforce is unavailable (HTTP {exc.status}) for the {what}", code=str(exc.status)
        )
    if isinstance(exc, SalesforceError):
        return _refusal(what, exc)
    if isinstance(exc, requests.RequestException):
        return RetryableError(f"the {what} request to Salesforce failed", code="request")
    raise exc


class SalesforceConnector(Connector):
    destination = "salesforce"

    def __init__(
        self, *, timeout_s: float = DEFAULT_TIMEOUT_S, allow_private: bool = False
    ) -> None:
        self.timeout_s = timeout_s
        self.allow_private = allow_private
        self._tokens: dict[str, Token] = {}
        self._sessions: dict[tuple[str | None, float], requests.Session] = {}
        self._lock = threading.Lock()

    async def deliver(self, job: DeliveryJob) -> Delivered:
        if job.event not in LEAD_EVENTS:
            raise PermanentError(f"Salesforce does not take {job.event} events")
        if not job.secret:
            raise PermanentError("the Salesforce client secret is missing: set it again")
        try:
            config = SalesforceConfig.from_stored(job.config)
        except (KeyError, TypeError, ValueError):
            raise PermanentError(
                "the Salesforce settings are incomplete: PUT /api/integrations/salesforce again"
            ) from None
        transcript = render(job.transcript, job.tenant.timezone, max_chars=mapping.DESCRIPTION_MAX)
        today = datetime.now(ZoneInfo(job.tenant.timezone)).date().isoformat()
        return await asyncio.to_thread(
            functools.partial(
                self._deliver,
                tenant_id=job.tenant.id,
                config=config,
                secret=job.secret,
                lead=job.lead,
                transcript=transcript,
                today=today,
                known_id=job.external_id,
                timezone=job.tenant.timezone,
            )
        )

    async def close(self) -> None:
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        for session in sessions:
            session.close()

    # -- in the worker thread ------------------------------------------------------------

    def _session_for(self, config: SalesforceConfig) -> requests.Session:
        key = (config.ca_bundle, self.timeout_s)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = _session(self.timeout_s, config.ca_bundle)
            return session

    @staticmethod
    def _token_key(tenant_id: str, config: SalesforceConfig, secret: str) -> str:
        digest = hashlib.sha256(secret.encode()).hexdigest()[:16]
        return f"{tenant_id}|{config.login_url}|{config.client_id}|{digest}"

    def _deliver(
        self,
        *,
        tenant_id: str,
        config: SalesforceConfig,
        secret: str,
        lead: dict[str, Any],
        transcript: str,
        today: str,
        known_id: str | None = None,
        timezone: str = "UTC",
    ) -> Delivered:
        key = self._token_key(tenant_id, config, secret)
        with self._lock:
            token = self._tokens.get(key)
        for attempt in (1, 2):
            if token is None:
                token = self._authenticate(config, secret)
                with self._lock:
                    self._tokens[key] = token
            try:
                return self._push(
                    token,
                    config=config,
                    lead=lead,
                    transcript=transcript,
                    today=today,
                    known_id=known_id,
                    timezone=timezone,
                )
            except SalesforceExpiredSession as exc:
                with self._lock:
                    self._tokens.pop(key, None)
                token = None
                if attempt == 2:
                    raise RetryableError(
                        "Salesforce refused a fresh session (INVALID_SESSION_ID)",
                        code="INVALID_SESSION_ID",
                    ) from exc
                log.info("salesforce_session_expired", tenant_id=tenant_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _guard(self, url: str) -> None:
        if not self.allow_private:
            parts = urlsplit(url)
            netguard.check_sync(parts.hostname or "", parts.port or 443)

    def _authenticate(self, config: SalesforceConfig, secret: str) -> Token:
        """OAuth 2.0 client-credentials flow against the tenant's own login URL."""
        url = f"{config.login_url}/services/oauth2/token"
        self._guard(url)
        body = {
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": secret,
        }
        try:
            response = self._session_for(config).post(
                url, data=body, headers={"Accept": "application/json"}
            )
        except requests.RequestException as exc:
            raise classify("sign-in", exc) from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 500:
            raise RetryableError(
                f"Salesforce's sign-in is unavailable (HTTP {response.status_code})",
                code=str(response.status_code),
            )
        if response.status_code != 200 or not isinstance(answer, dict):
            error = answer.get("error") if isinstance(answer, dict) else None
            detail = answer.get("error_description") if isinstance(answer, dict) else None
            raise PermanentError(
                f"Salesforce refused the sign-in: {error or response.status_code}"
                + (f" ({detail})" if detail else "")
                + "; check client_id and client_secret of the connected app",
                code=str(error or response.status_code),
            )
        access_token = answer.get("access_token")
        instance_url = answer.get("instance_url")
        if not access_token or not instance_url:
            raise PermanentError("Salesforce's sign-in answer has no access_token/instance_url")
        return Token(str(access_token), str(instance_url))

    def _push(
        self,
        token: Token,
        *,
        config: SalesforceConfig,
        lead: dict[str, Any],
        transcript: str,
        today: str,
        known_id: str | None,
        timezone: str,
    ) -> Delivered:
        self._guard(token.instance_url)
        sf = Salesforce(
            instance_url=token.instance_url,
            session_id=token.access_token,
            session=self._session_for(config),
            version=config.api_version,
        )
        lead_id, created = self._upsert_lead(sf, config, lead, known_id)
        subject = mapping.task_subject(lead)
        try:
            found = sf.query(mapping.find_task_soql(lead_id, subject))["records"]
            if found:
                task_id = str(found[0]["Id"])
                _sobject(sf, "Task").update(task_id, {"Description": transcript})
            else:
                task = _sobject(sf, "Task").create(
                    mapping.task_fields(lead_id, subject, transcript, today)
                )
                task_id = str(task["id"])
        except SalesforceExpiredSession:
            raise
        except (SalesforceError, requests.RequestException) as exc:
            raise classify("Task", exc) from exc
        detail: dict[str, Any] = {"task_id": task_id, "created": created}
        if lead.get("appointment"):
            detail["appointment_task_id"] = self._appointment_task(sf, lead_id, lead, timezone)
        return Delivered(external_id=lead_id, detail=detail)

    def _appointment_task(
        self, sf: Salesforce, lead_id: str, lead: dict[str, Any], timezone: str
    ) -> str:
        """The requested visit as a Task due that day: created once, then updated when the
        appointment changes (found by its Subject, like the transcript's)."""
        try:
            soql = mapping.find_task_soql(lead_id, mapping.appointment_subject(lead))
            found = sf.query(soql)["records"]
            tasks = _sobject(sf, "Task")
            if found:
                task_id = str(found[0]["Id"])
                tasks.update(task_id, mapping.appointment_task_update(lead_id, lead, timezone))
                return task_id
            return str(tasks.create(mapping.appointment_task(lead_id, lead, timezone))["id"])
        except SalesforceExpiredSession:
            raise
        except (SalesforceError, requests.RequestException) as exc:
            raise classify("appointment Task", exc) from exc

    def _upsert_lead(
        self,
        sf: Salesforce,
        config: SalesforceConfig,
        lead: dict[str, Any],
        known_id: str | None = None,
    ) -> tuple[str, bool]:
        """(Lead Id, created?): update the Lead an earlier delivery of this lead made (by its
        Id), else the person's open Lead, else create one."""
        try:
            if known_id:
                try:
                    _sobject(sf, "Lead").update(known_id, mapping.lead_update(lead, config))
                    return known_id, False
                except SalesforceResourceNotFound:
                    log.info("salesforce_lead_gone", lead_id=known_id)  # deleted or merged
            soql = mapping.find_lead_soql(lead)
            records = sf.query(soql)["records"] if soql else []
            if records:
                lead_id = str(records[0]["Id"])
                _sobject(sf, "Lead").update(lead_id, mapping.lead_update(lead, config))
                return lead_id, False
            try:
                created = _sobject(sf, "Lead").create(mapping.lead_fields(lead, config))
                return str(created["id"]), True
            except SalesforceMalformedRequest as exc:
                matches = mapping.duplicate_ids(exc.content)
                if not matches:
                    raise
                # A duplicate rule matched a record our search did not (e.g. a fuzzy
                # name match): Salesforce says which; use it.
                _sobject(sf, "Lead").update(matches[0], mapping.lead_update(lead, config))
                return matches[0], False
        except SalesforceExpiredSession:
            raise
        except (SalesforceError, requests.RequestException) as exc:
            raise classify("Lead", exc) from exc
