"""Time-based one-time passwords (RFC 6238 through pyotp) and recovery codes.

A code is accepted for its 30-second step and one step either side (clock drift); the
caller keeps the last step accepted and refuses it and any older one, so a code seen over
someone's shoulder or replayed from a log cannot be used again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
import segno

STEP_S = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
ISSUER = "Charla"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed again


def new_secret() -> str:
    return pyotp.random_base32()


def otpauth_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    return pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=account, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an SVG QR code, for the console to show (no external service)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, border=2))


def matching_step(secret: str, code: str, at: datetime, *, after: int | None) -> int | None:
    """The step whose code this is (within the drift), if later than `after`; else None."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    now_step = int(at.timestamp()) // STEP_S
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.at(step * STEP_S), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 characters of 31 (49 bits each), grouped for reading aloud."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_hash(code: str) -> str:
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()


def is_recovery_code(code: str) -> bool:
    normal = code.strip().replace("-", "").replace(" ", "")
    return len(normal) == 10 and not normal.isdigit()
