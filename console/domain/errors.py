"""The one error type of the hub's boundary, and its mapping to the protocol's shape."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError

ErrorCode = Literal[
    "invalid_payload",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "too_large",
    "rate_limited",
    "plan_required",
    "closed",
    "unavailable",
    "mfa_required",
]

HTTP_STATUS: dict[str, int] = {
    "invalid_payload": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "too_large": 413,
    "rate_limited": 429,
    "plan_required": 403,
    "closed": 409,
    "unavailable": 503,
    # the password was right; the login needs the code of the agent's second factor too
    "mfa_required": 401,
}


class ProtocolError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}

    def ack(self) -> dict[str, Any]:
        return {"ok": False, **self.body()}


def from_validation(exc: ValidationError, *, max_text: int | None = None) -> ProtocolError:
    """A pydantic error, said as what to fix. Text over the limit is `too_large`."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "payload"
    if first["type"] == "string_too_long" and max_text is not None and where.endswith("text"):
        return ProtocolError(
            "too_large", f"{where}: at most {max_text} characters; send it in several messages"
        )
    message = first["msg"]
    if first["type"] == "missing":
        message = "is required"
    elif first["type"] in ("model_type", "dict_type"):
        message = "the payload must be a JSON object"
    return ProtocolError("invalid_payload", f"{where}: {message}")
