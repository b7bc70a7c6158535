"""Which connector delivers to which destination, chosen by configuration."""

from __future__ import annotations

from collections.abc import Iterable

from integrations.adf.config import Smtp
from integrations.adf.connector import AdfConnector
from integrations.base import Connector
from integrations.email_transcript.connector import EmailTranscriptConnector
from integrations.notify.connector import NotifyConnector
from integrations.salesforce.connector import SalesforceConnector
from integrations.webhooks.connector import WebhookConnector


class Registry:
    def __init__(self, connectors: Iterable[Connector]) -> None:
        self._by_destination: dict[str, Connector] = {c.destination: c for c in connectors}

    def get(self, destination: str) -> Connector | None:
        return self._by_destination.get(destination)

    async def close(self) -> None:
        for connector in self._by_destination.values():
            await connector.close()


def default_registry(*, smtp: Smtp, delivery_timeout_s: float, allow_private: bool) -> Registry:
    """Every built-in connector. `allow_private` lets deliveries reach loopback and private
    addresses (on-premises CRMs, tests); off, they are refused (SSRF guard)."""
    # several requests make one delivery; they must all fit in its time limit, or a thread
    # could still be writing to Salesforce after the lease has passed to another worker
    timeout_s = min(20.0, delivery_timeout_s / 4)
    return Registry(
        [
            SalesforceConnector(timeout_s=timeout_s, allow_private=allow_private),
            AdfConnector(smtp),
            NotifyConnector(smtp),
            EmailTranscriptConnector(smtp),
            WebhookConnector(timeout_s=timeout_s, allow_private=allow_private),
        ]
    )
