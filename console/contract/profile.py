"""A tenant's billing profile: who the dealer is on an invoice, its IVU status with the
buyer's certificate, payment terms and late fee terms."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from console.contract.agreement import AgreementError, format_hundredths, parse_pct
from console.contract.billing import BillingError, count_in
from console.contract.tax import Certificate, TaxError, TaxStatus, check_status, parse_certificate


@dataclass(frozen=True)
class Profile:
    legal_name: str
    address: str
    tax_status: TaxStatus
    certificate: Certificate | None
    terms_days: int
    grace_days: int
    late_fee_bp: int

    def to_wire(self) -> dict[str, Any]:
        return {
            "legal_name": self.legal_name,
            "address": self.address,
            "tax_status": self.tax_status,
            "certificate": None
            if self.certificate is None
            else {
                "number": self.certificate.number,
                "expires_on": self.certificate.expires_on.isoformat(),
            },
            "terms_days": self.terms_days,
            "late_fee": {
                "grace_days": self.grace_days,
                "monthly_pct": format_hundredths(self.late_fee_bp),
            },
        }


def parse_profile(raw: Mapping[str, Any], today: date | None) -> Profile:
    """A tenant's billing profile as the provider sent it; b2b and exempt need a
    certificate valid `today` (None: a stored profile, read back as it was accepted)."""
    name = raw.get("legal_name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
        raise BillingError("legal_name: the dealer's legal name, 1 to 200 characters")
    address = raw.get("address", "") or ""
    if not isinstance(address, str) or len(address) > 500:
        raise BillingError("address: the postal address, up to 500 characters")
    status = raw.get("tax_status")
    if status not in ("standard", "b2b", "exempt"):
        raise BillingError("tax_status: one of standard, b2b, exempt")
    try:
        certificate = parse_certificate(raw.get("certificate"))
        if today is not None:
            check_status(status, certificate, today)
    except TaxError as exc:
        raise BillingError(str(exc)) from None
    late = raw.get("late_fee", {"grace_days": 10, "monthly_pct": "1.50"})
    if not isinstance(late, Mapping) or set(late) != {"grace_days", "monthly_pct"}:
        raise BillingError('late_fee: an object like {"grace_days": 10, "monthly_pct": "1.50"}')
    try:
        late_bp = parse_pct(late["monthly_pct"], "late_fee.monthly_pct", allow_zero=True)
    except AgreementError as exc:
        raise BillingError(str(exc)) from None
    return Profile(
        legal_name=name.strip(),
        address=address.strip(),
        tax_status=status,
        certificate=certificate,
        terms_days=count_in(raw.get("terms_days", 15), "terms_days", low=0, high=365),
        grace_days=count_in(late["grace_days"], "late_fee.grace_days", low=0, high=365),
        late_fee_bp=late_bp,
    )
