"""What a file is, decided from its first bytes (the `filetype` library's signatures), never
from its name or the header the client sent; and which kinds a tenant takes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import filetype

from console.domain.errors import ProtocolError

JPEG, PNG, WEBP, HEIC, PDF = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "application/pdf",
)
KINDS: tuple[str, ...] = (JPEG, PNG, WEBP, HEIC, PDF)
IMAGES = frozenset({JPEG, PNG, WEBP, HEIC})
SNIFF_BYTES = 262  # what filetype reads of a file's start
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", WEBP: ".webp", HEIC: ".heic", PDF: ".pdf"}
_ALIASES = {"image/heif": HEIC}
# `tenants.settings` key: a tenant's narrower list of the kinds above
TENANT_SETTING = "attachment_types"


class UnsupportedTypeError(ProtocolError):
    """`415 invalid_payload`: the bytes are not a kind this chat takes."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_payload", message)

    @property
    def status(self) -> int:
        return 415


def sniff(head: bytes) -> str | None:
    """The kind of a file from its first bytes, or None when it is none Charla knows."""
    mime = filetype.guess_mime(head)
    return None if mime is None else _ALIASES.get(mime, mime)


def allowed_kinds(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The kinds a tenant takes: all of KINDS unless it chose fewer."""
    chosen = settings.get(TENANT_SETTING)
    if isinstance(chosen, list):
        return tuple(kind for kind in KINDS if kind in chosen)
    return KINDS


def check_kind(head: bytes, allowed: Collection[str]) -> str:
    kind = sniff(head)
    if kind is None or kind not in allowed:
        named = ", ".join(EXTENSIONS[k].lstrip(".").upper() for k in KINDS if k in allowed)
        what = f"a {kind} file" if kind else "a file of unknown type"
        raise UnsupportedTypeError(
            f"this is {what} (read from its bytes, not its name); send one of: {named or 'none'}"
        )
    return kind
