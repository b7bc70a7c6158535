"""The ADF connector against a real SMTP server (aiosmtpd): what each answer means."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from integrations.adf.config import Smtp
from integrations.adf.connector import AdfConnector
from integrations.base import PermanentError, RetryableError
from tests.support.connectors import job
from tests.support.harness import free_port
from tests.support.smtp import smtp_server


class Relay:
    """Accepts mail, except for addresses it was told to refuse."""

    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if address.startswith("gone@"):
            return "550 5.1.1 no such mailbox"
        if address.startswith("busy@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.received.append(envelope)
        return "250 queued"


@pytest.fixture
async def relay() -> AsyncIterator[tuple[Relay, int]]:
    handler = Relay()
    async with smtp_server(handler) as port:
        yield handler, port


def adf_job(to: str) -> Any:
    return job(destination="adf", config={"to": to, "vendor_name": "Autos PR"}, delivery_id="d-7")


async def test_the_message_id_comes_from_the_delivery(relay: tuple[Relay, int]) -> None:
    handler, port = relay
    connector = AdfConnector(
        Smtp(host="127.0.0.1", port=port, starttls=False, sender="l@c.example")
    )
    done = await connector.deliver(adf_job("leads@crm.example"))
    assert "<adf.d-7@c.example>" == done.external_id
    [envelope] = handler.received
    assert (["leads@crm.example"], "l@c.example") == (envelope.rcpt_tos, envelope.mail_from)


@pytest.mark.parametrize(
    ("to", "kind", "code"),
    [("gone@crm.example", PermanentError, "550"), ("busy@crm.example", RetryableError, "451")],
)
async def test_a_refused_recipient_is_parked_and_a_busy_one_retried(
    relay: tuple[Relay, int], to: str, kind: type[Exception], code: str
) -> None:
    _handler, port = relay
    connector = AdfConnector(Smtp(host="127.0.0.1", port=port, starttls=False))
    with pytest.raises(kind) as raised:
        await connector.deliver(adf_job(to))
    assert code == raised.value.code  # type: ignore[attr-defined]


async def test_a_relay_that_is_down_is_retried_and_a_missing_relay_is_parked() -> None:
    down = AdfConnector(Smtp(host="127.0.0.1", port=free_port(), starttls=False, timeout_s=2))
    with pytest.raises(RetryableError):
        await down.deliver(adf_job("leads@crm.example"))
    unset = AdfConnector(Smtp(host=None))
    with pytest.raises(PermanentError) as raised:
        await unset.deliver(adf_job("leads@crm.example"))
    assert "CHARLA_SMTP_HOST" in raised.value.message
