"""Who is calling: the client's address behind the trusted proxies (CHARLA_TRUSTED_PROXIES),
for the limits counted per address (failed logins, chat starts, files) and the audit log."""

from __future__ import annotations

import ipaddress
from typing import Any


def client_address(remote: str | None, forwarded_for: str, trusted: tuple[str, ...]) -> str:
    """The peer's address, unless the peer is a trusted proxy; then the last address in
    X-Forwarded-For (`forwarded_for`) that is not one. A client can write anything into
    that header, so only what trusted proxies appended counts."""
    peer = remote or "unknown"
    if not trusted or not within(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",")]
    for hop in reversed([h for h in hops if h]):
        if not within(hop, trusted):
            return hop
    return peer


def request_address(request: Any, trusted: tuple[str, ...]) -> str:
    """`client_address` of an HTTP request (aiohttp's: its `remote` and its headers)."""
    return client_address(request.remote, request.headers.get("X-Forwarded-For", ""), trusted)


def within(address: str, networks: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net) for net in networks)
