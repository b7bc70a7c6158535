"""Agent session tokens: signed JWTs, so any hub process can check one without a lookup."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

ISSUER = "charla"
_ALGORITHM = "HS256"
_MIN_SECRET_BYTES = 32  # RFC 7518 3.2: an HS256 key at least as long as the hash
_REQUIRED = ("sub", "tid", "role", "iat", "exp", "iss")
FULL = "full"
# a token that reaches only /api/mfa/*: its agent must confirm a second factor first
ENROLMENT = "mfa_enrollment"
# a visitor's: uploads to and downloads from their own chats only (PROTOCOL 1.2)
UPLOAD = "upload"


class InvalidToken(Exception):  # noqa: N818 - the protocol's word for it
    """The token cannot be trusted; the message says what the agent should do."""


@dataclass(frozen=True)
class TokenClaims:
    agent_id: str
    tenant_id: str
    role: str
    expires_at: datetime
    scope: str = FULL


class TokenSigner:
    def __init__(self, secret: str, ttl_s: int) -> None:
        if len(secret.encode("utf-8")) < _MIN_SECRET_BYTES:
            raise ValueError(
                f"CHARLA_SECRET_KEY must be at least {_MIN_SECRET_BYTES} bytes long; "
                "unset it to have one generated in the data dir"
            )
        if ttl_s <= 0:
            raise ValueError(f"token lifetime must be a positive number of seconds, got {ttl_s}")
        self._secret = secret
        self._ttl_s = ttl_s

    def __repr__(self) -> str:
        return f"TokenSigner(ttl_s={self._ttl_s})"

    def issue(
        self,
        agent_id: str,
        tenant_id: str,
        role: str,
        now: float | None = None,
        *,
        scope: str = FULL,
    ) -> str:
        issued_at = int(time.time() if now is None else now)
        claims: dict[str, str | int] = {
            "sub": agent_id,
            "tid": tenant_id,
            "role": role,
            "iat": issued_at,
            "exp": issued_at + self._ttl_s,
            "iss": ISSUER,
        }
        if scope != FULL:
            claims["scp"] = scope
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def verify(self, token: object) -> TokenClaims:
        """A token good for everything an agent may do (not one limited to enrolment)."""
        claims = self.verify_any(token)
        if claims.scope != FULL:
            raise InvalidToken(
                "this token only sets up two-factor authentication: confirm a code at "
                "/api/mfa/confirm, then log in again"
            )
        return claims

    def verify_any(self, token: object) -> TokenClaims:
        """Check signature, issuer, expiry and claims; anything odd is `InvalidToken`.

        Takes any object because the token arrives in a client's JSON, where it may be a
        number, a list or missing; only HS256 is accepted, so a token that names another
        algorithm (or "none") is refused before its signature is looked at.
        """
        if not isinstance(token, str) or not token:
            raise InvalidToken("token is not valid")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                options={"require": list(_REQUIRED)},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("token expired: log in again") from None
        except jwt.PyJWTError:
            raise InvalidToken("token is not valid") from None
        agent_id, tenant_id, role = claims["sub"], claims["tid"], claims["role"]
        expires = claims["exp"]
        scope = claims.get("scp", FULL)
        if not all(
            isinstance(value, str) and value for value in (agent_id, tenant_id, role, scope)
        ):
            raise InvalidToken("token is not valid")
        return TokenClaims(
            agent_id=agent_id,
            tenant_id=tenant_id,
            role=role,
            expires_at=datetime.fromtimestamp(expires, tz=UTC),
            scope=scope,
        )
