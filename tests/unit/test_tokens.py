import base64
import json
import time
from datetime import UTC, datetime

import jwt
import pytest

from console.security.tokens import InvalidToken, TokenClaims, TokenSigner

SECRET = "s" * 32
OTHER_SECRET = "o" * 32


@pytest.fixture
def signer() -> TokenSigner:
    return TokenSigner(SECRET, ttl_s=3600)


def _forge(claims: dict[str, object], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _good_claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "agent-1",
        "tid": "tenant-1",
        "role": "agent",
        "iat": now,
        "exp": now + 60,
        "iss": "charla",
    }
    claims.update(changes)
    return claims


def test_issued_token_verifies_to_its_claims(signer: TokenSigner) -> None:
    now = time.time()
    token = signer.issue("agent-1", "tenant-1", "supervisor", now=now)
    expected = TokenClaims(
        agent_id="agent-1",
        tenant_id="tenant-1",
        role="supervisor",
        expires_at=datetime.fromtimestamp(int(now) + 3600, tz=UTC),
    )
    assert expected == signer.verify(token)


def test_token_carries_the_documented_claims(signer: TokenSigner) -> None:
    token = signer.issue("agent-1", "tenant-1", "admin", now=1_700_000_000)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    expected = {
        "sub": "agent-1",
        "tid": "tenant-1",
        "role": "admin",
        "iat": 1_700_000_000,
        "exp": 1_700_003_600,
        "iss": "charla",
    }
    assert expected == payload


def test_expired_token_says_log_in_again(signer: TokenSigner) -> None:
    token = signer.issue("agent-1", "tenant-1", "agent", now=time.time() - 3601)
    with pytest.raises(InvalidToken) as info:
        signer.verify(token)
    assert "token expired: log in again" == str(info.value)


def test_token_signed_with_another_secret_is_not_valid(signer: TokenSigner) -> None:
    token = TokenSigner(OTHER_SECRET, ttl_s=3600).issue("agent-1", "tenant-1", "admin")
    with pytest.raises(InvalidToken) as info:
        signer.verify(token)
    assert "token is not valid" == str(info.value)


def test_token_with_a_tampered_payload_is_not_valid(signer: TokenSigner) -> None:
    header, _, signature = signer.issue("agent-1", "tenant-1", "agent").split(".")
    escalated = _forge(_good_claims(role="admin")).split(".")[1]
    with pytest.raises(InvalidToken, match="token is not valid"):
        signer.verify(f"{header}.{escalated}.{signature}")


def test_unsigned_alg_none_token_is_not_valid(signer: TokenSigner) -> None:
    # no key: PyJWT takes "" for None, which its annotations do not admit
    unsigned = jwt.encode(_good_claims(), key="", algorithm="none")
    with pytest.raises(InvalidToken, match="token is not valid"):
        signer.verify(unsigned)


def test_token_from_another_issuer_is_not_valid(signer: TokenSigner) -> None:
    with pytest.raises(InvalidToken, match="token is not valid"):
        signer.verify(_forge(_good_claims(iss="someone-else")))


@pytest.mark.parametrize("missing", ["sub", "tid", "role", "iat", "exp", "iss"])
def test_token_missing_a_claim_is_not_valid(signer: TokenSigner, missing: str) -> None:
    claims = _good_claims()
    del claims[missing]
    with pytest.raises(InvalidToken, match="token is not valid"):
        signer.verify(_forge(claims))


@pytest.mark.parametrize(("claim", "value"), [("tid", 42), ("role", ""), ("tid", None)])
def test_token_with_a_claim_of_the_wrong_type_is_not_valid(
    signer: TokenSigner, claim: str, value: object
) -> None:
    with pytest.raises(InvalidToken, match="token is not valid"):
        signer.verify(_forge(_good_claims(**{claim: value})))


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.", "..", "x" * 5000, "ñ.ñ.ñ"],
)
def test_garbage_string_is_not_valid(signer: TokenSigner, garbage: str) -> None:
    with pytest.raises(InvalidToken, match="token is not valid"):
        signer.verify(garbage)


@pytest.mark.parametrize("not_a_string", [None, 123, b"bytes", ["a.b.c"], {"token": "x"}])
def test_non_string_input_is_not_valid(signer: TokenSigner, not_a_string: object) -> None:
    with pytest.raises(InvalidToken, match="token is not valid"):
        signer.verify(not_a_string)


def test_short_secret_is_refused_with_the_variable_to_fix() -> None:
    with pytest.raises(ValueError, match="CHARLA_SECRET_KEY must be at least 32 bytes"):
        TokenSigner("too-short", ttl_s=3600)


def test_non_positive_lifetime_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        TokenSigner(SECRET, ttl_s=0)


def test_repr_does_not_show_the_secret(signer: TokenSigner) -> None:
    assert "TokenSigner(ttl_s=3600)" == repr(signer)
