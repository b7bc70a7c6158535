"""Keep tenant-chosen URLs (webhooks, Salesforce login URLs) off the provider's own network.

A tenant admin types these URLs, and the hub calls them from inside the provider's network:
without this check a webhook could probe internal services or a cloud metadata endpoint.
Loopback, private, link-local and other non-public addresses are refused unless the
operator allows them (CHARLA_OUTBOX_ALLOW_PRIVATE, for on-premises CRMs and for tests).
The check resolves the name just before the call; a DNS answer that changes between the
check and the connection is not covered.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from integrations.base import PermanentError


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _refusal(host: str) -> PermanentError:
    return PermanentError(
        f"{host} is not a public address; the provider must allow private addresses "
        "(CHARLA_OUTBOX_ALLOW_PRIVATE) to deliver there",
        code="private_address",
    )


def literal_problem(host: str) -> str | None:
    """For settings checks: a host that is an IP literal or `localhost` and not public."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return f"{host} is not a public address"
    try:
        return None if is_public(host.strip("[]")) else f"{host} is not a public address"
    except ValueError:
        return None  # a name: checked when delivering


def check_sync(host: str, port: int) -> None:
    """In a worker thread (requests): resolve and refuse non-public addresses."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return  # the connection attempt reports it, as a retryable error
    if not infos or any(not is_public(str(info[4][0])) for info in infos):
        raise _refusal(host)


async def check(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return
    if not infos or any(not is_public(str(info[4][0])) for info in infos):
        raise _refusal(host)
