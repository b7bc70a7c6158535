"""What tests share besides fixtures (those stay in the conftests): live hubs and protocol
peers, real deployments, fakes of outside services, the tools a test needs.

bench/ measures the same real deployments the tests run (Redis, `charla serve` processes, a
throwaway PostgreSQL, the fake Salesforce), so it imports them from here rather than keep
copies: the names below are the ones it uses, and importing them needs no pytest.
"""

from tests.support.cluster import HubProcess, RedisServer, migrate
from tests.support.fakes.salesforce import FakeSalesforce, running_fake_salesforce
from tests.support.harness import (
    ADMIN_TOKEN,
    ORIGIN,
    PASSWORD,
    LiveHub,
    Peer,
    eventually,
    free_port,
)
from tests.support.postgres import PostgresCluster

__all__ = [
    "ADMIN_TOKEN",
    "ORIGIN",
    "PASSWORD",
    "FakeSalesforce",
    "HubProcess",
    "LiveHub",
    "Peer",
    "PostgresCluster",
    "RedisServer",
    "eventually",
    "free_port",
    "migrate",
    "running_fake_salesforce",
]
