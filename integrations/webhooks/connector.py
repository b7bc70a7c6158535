"""Signed webhooks: an HTTP POST of the event as JSON, signed as Standard Webhooks
(standardwebhooks.com) sign: `webhook-id`, `webhook-timestamp` (Unix seconds) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the key being
the secret's UTF-8 bytes (a `whsec_` secret: its base64 part, decoded). A receiver refuses
a timestamp more than five minutes off and an id it has seen: a replayed delivery fails.

`X-Charla-Signature: sha256=<hex of the body's HMAC>` stays for receivers written before
(it has no timestamp: it cannot stop a replay). `X-Charla-Delivery` equals `webhook-id`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from console.domain.types import iso
from integrations import netguard
from integrations.base import (
    Connector,
    Delivered,
    DeliveryJob,
    PermanentError,
    RetryableError,
)

SIGNATURE_HEADER = "X-Charla-Signature"
RETRY_STATUSES = frozenset({408, 425, 429})
USER_AGENT = "Charla-Webhooks/1"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and what the tests do): compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature)


TOLERANCE_S = 300


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            pass
    return secret.encode()


def sign_standard(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value (Standard Webhooks, version 1)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_standard(
    secret: str, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (it must
    also remember `webhook-id`s it processed, to refuse the same one twice)."""
    try:
        message_id = headers["webhook-id"]
        timestamp = int(headers["webhook-timestamp"])
        signatures = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_S:
        return False
    expected = sign_standard(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def envelope(job: DeliveryJob) -> dict[str, Any]:
    data = dict(job.payload)
    if "lead" in data:
        data["lead"] = {k: v for k, v in job.lead.items() if k != "deliveries"}
    return {
        "id": job.delivery_id,
        "event": job.event,
        "tenant_id": job.tenant.id,
        "created_at": iso(job.created_at),
        "data": data,
    }


def _seconds(header: str | None) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare for webhooks: ignored)."""
    if header and header.strip().isdigit():
        return float(header.strip())
    return None


class WebhookConnector(Connector):
    destination = "webhook"

    def __init__(self, *, timeout_s: float = 10.0, allow_private: bool = False) -> None:
        self.timeout_s = timeout_s
        self.allow_private = allow_private
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers={"User-Agent": USER_AGENT},
            )
        return self._http

    async def deliver(self, job: DeliveryJob) -> Delivered:
        url = str(job.config.get("url") or "")
        if not url or not job.secret:
            raise PermanentError("the webhook has no URL or secret: add it again")
        if not self.allow_private:
            parts = urlsplit(url)
            default_port = 443 if parts.scheme == "https" else 80
            await netguard.check(parts.hostname or "", parts.port or default_port)
        body = json.dumps(envelope(job), ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Charla-Event": job.event,
            "X-Charla-Delivery": job.delivery_id,
            SIGNATURE_HEADER: sign(job.secret, body),
            "webhook-id": job.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign_standard(job.secret, job.delivery_id, timestamp, body),
        }
        try:
            async with self._session().post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                retry_after = _seconds(response.headers.get("Retry-After"))
        except TimeoutError as exc:
            raise RetryableError("the webhook did not answer in time", code="timeout") from exc
        except aiohttp.ClientError as exc:
            raise RetryableError(
                f"cannot reach the webhook: {type(exc).__name__}", code="connection"
            ) from exc
        if 200 <= status < 300:
            return Delivered(external_id=None, detail={"status": status})
        if status >= 500 or status in RETRY_STATUSES:
            raise RetryableError(
                f"the webhook answered HTTP {status}",
                code=str(status),
                throttled=status == 429,
                retry_after_s=retry_after,
            )
        raise PermanentError(
            f"the webhook answered HTTP {status}; fix the receiver or its URL, then retry",
            code=str(status),
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
