"""What every connector's settings schema shares: strict validation, URLs, secrets.

Each connector keeps its own schema beside it (`integrations/<connector>/config.py`); the
tenant admin's integrations API and the import of an exported configuration both validate
with it, so a setting means the same thing whichever way it arrives.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, StringConstraints

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]


class Strict(BaseModel):
    """Wrongly typed fields are errors, and unknown ones too (a typo is never kept)."""

    model_config = ConfigDict(strict=True, extra="forbid")


def checked_url(value: str, *, https_only: bool, field: str) -> str:
    """An absolute http(s) URL with a host and no credentials in it."""
    parts = urlsplit(value)
    schemes = ("https",) if https_only else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname:
        wanted = "an https:// URL" if https_only else "an http:// or https:// URL"
        raise ValueError(f"{field} must be {wanted}")
    if parts.username or parts.password:
        raise ValueError(f"{field} must not carry a user or password")
    return value
