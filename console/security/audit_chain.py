"""The audit log's hash chain: each event's hash covers its fields and the hash before it,
so that a changed, removed or reordered event breaks every hash after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
# Words that must never reach the audit log: what a visitor or an agent wrote, secrets
FORBIDDEN_KEYS = frozenset(
    {"text", "message", "messages", "password", "secret", "otp", "token", "client_secret"}
)


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 of the previous hash and the event's fields as canonical JSON."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def clean_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """The detail without anything that could carry conversation text or a secret."""
    return {
        key: clean_detail(value) if isinstance(value, Mapping) else value
        for key, value in detail.items()
        if key not in FORBIDDEN_KEYS
    }


@dataclass(frozen=True)
class ChainBreak:
    """Where a chain stops holding: the sequence number and what is wrong there."""

    chain: str
    seq: int
    problem: str


def check_chain(
    chain: str, events: Iterable[tuple[int, str, str, Mapping[str, Any]]]
) -> ChainBreak | None:
    """Walk one chain's events (seq, prev_hash, hash, hashed fields) in order of seq."""
    expected_prev = GENESIS
    expected_seq = 1
    for seq, prev_hash, stored, fields in events:
        if seq != expected_seq:
            return ChainBreak(chain, expected_seq, f"event {expected_seq} is missing")
        if prev_hash != expected_prev:
            return ChainBreak(chain, seq, "does not follow the event before it")
        if event_hash(prev_hash, fields) != stored:
            return ChainBreak(chain, seq, "was changed after it was written")
        expected_prev = stored
        expected_seq += 1
    return None
