"""Puerto Rico's IVU (impuesto sobre ventas y uso) on an invoice's taxable base.

The rates come from a table with effective dates (the store keeps it; `DEFAULT_IVU` is what
a new installation starts with): the state IVU and the municipal IVU on the standard
status, the 4% state IVU on services rendered to other merchants (B2B) when the buyer holds
a certificate valid on the invoice date, nothing for an exempt buyer with a valid
certificate. Each tax line is rounded half-up to the cent on its own. Pure: the invoice
date is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from console.contract.money import format_rate, share

TaxStatus = Literal["standard", "b2b", "exempt"]
TAX_STATUSES: tuple[TaxStatus, ...] = ("standard", "b2b", "exempt")
TaxKind = Literal["ivu_state", "ivu_municipal", "ivu_b2b"]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class TaxError(ValueError):
    """A tax status or certificate that cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class IvuRates:
    """The IVU in force from a day: rates in basis points (1050 = 10.5%)."""

    effective_from: date
    state_bp: int
    municipal_bp: int
    b2b_bp: int

    def to_wire(self) -> dict[str, str]:
        return {
            "effective_from": self.effective_from.isoformat(),
            "state_pct": _pct(self.state_bp),
            "municipal_pct": _pct(self.municipal_bp),
            "b2b_pct": _pct(self.b2b_bp),
        }


def _pct(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}"


# State 10.5% and municipal 1% since 2015-07-01; 4% on B2B services since 2015-10-01.
DEFAULT_IVU = (IvuRates(date(2015, 10, 1), state_bp=1050, municipal_bp=100, b2b_bp=400),)


def rates_on(table: Sequence[IvuRates], day: date) -> IvuRates:
    """The rates in force on a day: the latest row whose date is on or before it."""
    usable = [r for r in table if r.effective_from <= day]
    if not usable:
        raise LookupError(f"no IVU rates in force on {day.isoformat()}")
    return max(usable, key=lambda r: r.effective_from)


@dataclass(frozen=True)
class Certificate:
    """The buyer's certificate (B2B reseller or exemption): its number and last valid day."""

    number: str
    expires_on: date

    def valid_on(self, day: date) -> bool:
        return day <= self.expires_on


def parse_certificate(raw: object) -> Certificate | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"number", "expires_on"}:
        raise TaxError('certificate: an object like {"number": "B2B-12345", "expires_on": ...}')
    number, expires = raw["number"], raw["expires_on"]
    if not isinstance(number, str) or not 1 <= len(number.strip()) <= 60:
        raise TaxError("certificate.number: the certificate's number, 1 to 60 characters")
    if not isinstance(expires, str) or not _DATE.fullmatch(expires):
        raise TaxError('certificate.expires_on: a date written YYYY-MM-DD, like "2027-06-30"')
    try:
        day = date.fromisoformat(expires)
    except ValueError:
        raise TaxError(f"certificate.expires_on: {expires} is not a day of the calendar") from None
    return Certificate(number.strip(), day)


def check_status(status: TaxStatus, certificate: Certificate | None, on: date) -> None:
    """A b2b or exempt status needs a certificate valid on the day asked (TaxError if not)."""
    if status == "standard":
        return
    if certificate is None:
        raise TaxError(f"certificate: the {status} tax status needs the buyer's certificate")
    if not certificate.valid_on(on):
        raise TaxError(
            f"certificate: {certificate.number} expired on "
            f"{certificate.expires_on.isoformat()}; the {status} status needs a valid one"
        )


def status_on(status: TaxStatus, certificate: Certificate | None, day: date) -> TaxStatus:
    """The status an invoice dated `day` is taxed at: b2b and exempt only with a certificate
    valid that day, else the standard IVU."""
    if status != "standard" and (certificate is None or not certificate.valid_on(day)):
        return "standard"
    return status


@dataclass(frozen=True)
class TaxLine:
    kind: TaxKind
    rate_bp: int
    base: int
    amount: int


def ivu_lines(base: int, status: TaxStatus, rates: IvuRates) -> list[TaxLine]:
    """The IVU lines of a taxable base in cents, each rounded half-up on its own."""
    if base < 0:
        raise ValueError("a taxable base is never below zero")
    if status == "exempt":
        return []
    if status == "b2b":
        return [TaxLine("ivu_b2b", rates.b2b_bp, base, share(base, rates.b2b_bp))]
    return [
        TaxLine("ivu_state", rates.state_bp, base, share(base, rates.state_bp)),
        TaxLine("ivu_municipal", rates.municipal_bp, base, share(base, rates.municipal_bp)),
    ]


def tax_label(kind: TaxKind, rate_bp: int, lang: str = "es") -> str:
    """The line's name as the Departamento de Hacienda names it ("IVU estatal 10.5%")."""
    rate = format_rate(rate_bp)
    if lang == "es":
        return {
            "ivu_state": f"IVU estatal {rate}%",
            "ivu_municipal": f"IVU municipal {rate}%",
            "ivu_b2b": f"IVU {rate}% servicios rendidos a otros comerciantes (B2B)",
        }[kind]
    return {
        "ivu_state": f"IVU estatal {rate}% (state sales and use tax)",
        "ivu_municipal": f"IVU municipal {rate}% (municipal sales and use tax)",
        "ivu_b2b": f"IVU {rate}% on services to other merchants (B2B)",
    }[kind]
