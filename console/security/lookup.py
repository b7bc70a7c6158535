"""Keyed hashes of contact details, so that History finds a chat by phone, e-mail or a
word of the visitor's name while the details themselves stay encrypted at rest.

HMAC-SHA256 with a key derived from the data key (`DataCipher.derive`), over the tenant's
id, the kind of detail and its normalised value: equal values of one tenant give equal
hashes; nothing can be read back, nor matched across tenants.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

PURPOSE = b"charla contact lookup v1"
KINDS = ("phone", "email", "name")
_WORD = re.compile(r"[^\W_]+")


def name_words(name: str) -> set[str]:
    """The words of a name, lower-cased and without accents: "José  Pérez-Ruiz" ->
    {"jose", "perez", "ruiz"}."""
    bare = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in bare if not unicodedata.combining(c)).casefold()
    return set(_WORD.findall(bare))


class ContactHasher:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, tenant_id: str, kind: str, value: str) -> str:
        message = f"{tenant_id}\x1f{kind}\x1f{value}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def keys(
        self, tenant_id: str, *, name: str | None, email: str | None, phone: str | None
    ) -> list[tuple[str, str]]:
        """(kind, hash) of each detail given: a normalised phone and e-mail (the whole
        address lower-cased), each word of the name."""
        found: list[tuple[str, str]] = []
        if phone:
            found.append(("phone", self.digest(tenant_id, "phone", phone)))
        if email:
            found.append(("email", self.digest(tenant_id, "email", email.strip().lower())))
        for word in sorted(name_words(name or "")):
            found.append(("name", self.digest(tenant_id, "name", word)))
        return found
