"""Billing arithmetic at fixed dates: money, IVU, proration, credits and balances, leads
counted once per visitor and 30 days, and late fees (the issue's worked figures exactly)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from console.contract.billing import (
    BillingError,
    BillInput,
    LateFeeCharge,
    PlanSpan,
    billable_leads,
    compute_bill,
    parse_price_book,
    plan_spans,
)
from console.contract.late_fees import invoice_status, late_fee_amount, late_fee_due
from console.contract.money import MoneyError, format_money, parse_money, share
from console.contract.profile import parse_profile
from console.contract.tax import (
    DEFAULT_IVU,
    Certificate,
    IvuRates,
    TaxStatus,
    ivu_lines,
    rates_on,
    status_on,
    tax_label,
)

RATES = DEFAULT_IVU[0]
BOOK = parse_price_book(
    {
        "effective_from": "2026-01-01",
        "plans": {
            "basic": {
                "monthly_fee": "500.00",
                "included_chats": 300,
                "per_chat": "1.50",
                "per_lead": "0.00",
            },
            "proactive": {
                "monthly_fee": "1500.00",
                "included_chats": 1000,
                "per_chat": "1.25",
                "per_lead": "12.00",
            },
            "premium": {
                "monthly_fee": "2500.00",
                "included_chats": 2000,
                "per_chat": "1.00",
                "per_lead": "10.00",
            },
        },
    }
)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.mark.parametrize(
    ("text", "cents"),
    [("0.00", 0), ("0.01", 1), ("12.00", 1200), ("1500.00", 150000), ("1234.56", 123456)],
)
def test_money_is_read_from_two_place_strings(text: str, cents: int) -> None:
    assert cents == parse_money(text, "amount")
    assert text == format_money(cents)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (12.5, "not the number 12.5"),
        (12, "not the number 12"),
        (True, "not the number True"),
        ("12.505", "not an amount with two decimals"),
        ("12.5", "not an amount with two decimals"),
        ("1,500.00", "not an amount with two decimals"),
        ("-1.00", "is negative"),
        (None, "must be a decimal string"),
    ],
)
def test_money_that_is_not_two_place_text_is_refused(value: Any, said: str) -> None:
    with pytest.raises(MoneyError, match="amount: ") as caught:
        parse_money(value, "amount")
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("base", "status", "expected"),
    [
        # the issue's figures
        (123456, "standard", [("ivu_state", 12963), ("ivu_municipal", 1235)]),
        (123456, "b2b", [("ivu_b2b", 4938)]),
        (183000, "b2b", [("ivu_b2b", 7320)]),
        (183000, "standard", [("ivu_state", 19215), ("ivu_municipal", 1830)]),
        (123456, "exempt", []),
        # half a cent goes up, on each line alone: 1.00 * 10.5% = 10.5 cents; 0.50 * 1% = 0.5
        (100, "standard", [("ivu_state", 11), ("ivu_municipal", 1)]),
        (50, "standard", [("ivu_state", 5), ("ivu_municipal", 1)]),
        (0, "standard", [("ivu_state", 0), ("ivu_municipal", 0)]),
    ],
)
def test_ivu_lines_round_half_up_each_on_its_own(
    base: int, status: TaxStatus, expected: list[tuple[str, int]]
) -> None:
    assert expected == [(t.kind, t.amount) for t in ivu_lines(base, status, RATES)]


def test_the_issue_figures_total_141_98_of_tax_on_1234_56() -> None:
    assert 14198 == sum(t.amount for t in ivu_lines(123456, "standard", RATES))


def test_ivu_rates_come_from_the_table_in_force_on_the_invoice_date() -> None:
    later = IvuRates(date(2027, 7, 1), state_bp=950, municipal_bp=100, b2b_bp=400)
    table = (*DEFAULT_IVU, later)
    assert RATES == rates_on(table, date(2027, 6, 30))
    assert later == rates_on(table, date(2027, 7, 1))
    assert [("ivu_state", 11728), ("ivu_municipal", 1235)] == [
        (t.kind, t.amount) for t in ivu_lines(123456, "standard", rates_on(table, date(2027, 8, 1)))
    ]
    with pytest.raises(LookupError):
        rates_on(table, date(2015, 9, 30))


@pytest.mark.parametrize(
    ("kind", "bp", "lang", "label"),
    [
        ("ivu_state", 1050, "es", "IVU estatal 10.5%"),
        ("ivu_municipal", 100, "es", "IVU municipal 1%"),
        ("ivu_b2b", 400, "es", "IVU 4% servicios rendidos a otros comerciantes (B2B)"),
        ("ivu_state", 1050, "en", "IVU estatal 10.5% (state sales and use tax)"),
    ],
)
def test_tax_lines_carry_hacienda_names(kind: Any, bp: int, lang: str, label: str) -> None:
    assert label == tax_label(kind, bp, lang)


@pytest.mark.parametrize(
    ("status", "expires_on", "invoice_day", "taxed_as"),
    [
        ("b2b", "2026-12-31", "2026-12-06", "b2b"),
        ("b2b", "2026-12-06", "2026-12-06", "b2b"),  # valid through its last day
        ("b2b", "2026-12-05", "2026-12-06", "standard"),
        ("exempt", "2027-06-30", "2026-12-06", "exempt"),
        ("exempt", "2026-11-30", "2026-12-06", "standard"),
        ("standard", None, "2026-12-06", "standard"),
    ],
)
def test_a_certificate_must_be_valid_on_the_invoice_date(
    status: TaxStatus, expires_on: str | None, invoice_day: str, taxed_as: str
) -> None:
    certificate = None if expires_on is None else Certificate("C-1", date.fromisoformat(expires_on))
    assert taxed_as == status_on(status, certificate, date.fromisoformat(invoice_day))


PROFILE: dict[str, Any] = {
    "legal_name": "Autos del Este LLC",
    "tax_status": "b2b",
    "certificate": {"number": "B2B-2291", "expires_on": "2027-06-30"},
    "terms_days": 15,
    "late_fee": {"grace_days": 10, "monthly_pct": "1.50"},
}


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"certificate": None}, "certificate: the b2b tax status needs the buyer's certificate"),
        (
            {"certificate": {"number": "B2B-2291", "expires_on": "2026-11-30"}},
            "certificate: B2B-2291 expired on 2026-11-30",
        ),
        ({"tax_status": "exempt", "certificate": None}, "the exempt tax status needs"),
        ({"tax_status": "zero"}, "tax_status: one of standard, b2b, exempt"),
        ({"late_fee": {"grace_days": 10, "monthly_pct": 1.5}}, "not the number 1.5"),
        ({"terms_days": -1}, "terms_days: a whole number from 0 to 365"),
        ({"legal_name": " "}, "legal_name"),
    ],
)
def test_a_profile_without_what_its_status_needs_is_refused(
    changes: dict[str, Any], said: str
) -> None:
    with pytest.raises(BillingError) as caught:
        parse_profile({**PROFILE, **changes}, date(2026, 12, 6))
    assert said in str(caught.value)


def test_a_valid_b2b_profile_reads_back_as_sent() -> None:
    profile = parse_profile(PROFILE, date(2026, 12, 6))
    assert {**PROFILE, "address": ""} == profile.to_wire()


@pytest.mark.parametrize(
    ("price", "said"),
    [
        ({"per_lead": "-12.00"}, "plans.proactive.per_lead: -12.00 is negative"),
        ({"per_lead": 12.0}, "plans.proactive.per_lead: write money"),
        ({"monthly_fee": "1500.001"}, "plans.proactive.monthly_fee: '1500.001' is not"),
        ({"included_chats": -5}, "plans.proactive.included_chats: a whole number"),
    ],
)
def test_a_bad_price_is_refused_naming_it(price: dict[str, Any], said: str) -> None:
    plan = {**BOOK.plans["proactive"].to_wire(), **price}
    with pytest.raises(BillingError) as caught:
        parse_price_book({"effective_from": "2026-12-01", "plans": {"proactive": plan}})
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "spans"),
    [
        ([(date(2026, 1, 5), "basic")], [("basic", 1, 30)]),
        ([(date(2026, 1, 5), "basic"), (date(2026, 11, 11), "premium")], [
            ("basic", 1, 10),
            ("premium", 11, 30),
        ]),
        # a change on the first day covers the whole month; back and forth splits in three
        ([(date(2026, 1, 5), "basic"), (date(2026, 11, 1), "proactive")], [("proactive", 1, 30)]),
        (
            [(date(2026, 1, 5), "basic"), (date(2026, 11, 11), "premium"),
             (date(2026, 11, 21), "basic")],
            [("basic", 1, 10), ("premium", 11, 20), ("basic", 21, 30)],
        ),
        # a tenant created mid-month is on its first plan from the month's start
        ([(date(2026, 11, 20), "premium")], [("premium", 1, 30)]),
    ],
)  # fmt: skip
def test_plan_history_splits_the_month_by_day(
    changes: list[tuple[date, str]], spans: list[tuple[str, int, int]]
) -> None:
    assert spans == [(s.plan, s.first.day, s.last.day) for s in plan_spans(changes, *NOVEMBER)]


def bill(**changes: Any) -> BillInput:
    base: dict[str, Any] = {
        "first": NOVEMBER[0],
        "last": NOVEMBER[1],
        "spans": [PlanSpan("proactive", *NOVEMBER)],
        "books": [BOOK],
        "human_chats": 0,
        "lead_days": [date(2026, 11, 10)] * 40,
        "tax_status": "b2b",
        "rates": RATES,
        "credit_bp": 1000,
    }
    return BillInput(**(base | changes))


def money_lines(result: Any) -> list[tuple[str, str]]:
    return [(line.kind, format_money(line.amount)) for line in result.lines]


def test_the_issue_invoice_fee_leads_credit_and_b2b_ivu() -> None:
    result = compute_bill(bill())
    assert [
        ("subscription", "1500.00"),
        ("lead", "480.00"),
        ("sla_credit", "-150.00"),
        ("ivu_b2b", "73.20"),
    ] == money_lines(result)
    assert (198000, 15000, 183000, 7320, 190320, 0) == (
        result.subtotal,
        result.credits,
        result.taxable_base,
        result.tax,
        result.total,
        result.carried_out,
    )


def test_the_issue_invoice_at_the_standard_status() -> None:
    result = compute_bill(bill(tax_status="standard"))
    assert [("ivu_state", "192.15"), ("ivu_municipal", "18.30")] == money_lines(result)[-2:]
    assert "2040.45" == format_money(result.total)


def test_a_plan_change_mid_month_prorates_each_fee_by_day() -> None:
    spans = [PlanSpan("basic", date(2026, 11, 1), date(2026, 11, 10))]
    spans.append(PlanSpan("premium", date(2026, 11, 11), date(2026, 11, 30)))
    result = compute_bill(bill(spans=spans, lead_days=[], credit_bp=0, human_chats=1500))
    # 500.00 x 10/30 = 166.666... -> 166.67; 2500.00 x 20/30 = 1666.666... -> 1666.67;
    # allowance 300 x 10/30 + 2000 x 20/30 = 100 + 1333 = 1433 chats; 67 over at 1.00
    assert [
        ("subscription", "166.67"),
        ("subscription", "1666.67"),
        ("overage", "67.00"),
        ("ivu_b2b", "76.01"),
    ] == money_lines(result)
    assert [1433, 10, 20] == [result.allowance, result.lines[0].quantity, result.lines[1].quantity]


def test_an_incentive_is_its_own_taxed_line() -> None:
    result = compute_bill(bill(lead_days=[], credit_bp=0, incentive_bp=300))
    assert [("subscription", "1500.00"), ("incentive", "45.00"), ("ivu_b2b", "61.80")] == (
        money_lines(result)
    )


def test_a_credit_balance_never_takes_the_base_below_zero_and_the_rest_carries() -> None:
    result = compute_bill(bill(lead_days=[], credit_bp=2500, carried_in=150000))
    # 1500.00 less the 25% credit (375.00) leaves 1125.00 of the 1500.00 balance to use
    assert [
        ("subscription", "1500.00"),
        ("sla_credit", "-375.00"),
        ("sla_credit", "-1125.00"),
        ("ivu_b2b", "0.00"),
    ] == money_lines(result)
    assert (0, 0, 37500) == (result.taxable_base, result.total, result.carried_out)


def test_late_fees_are_billed_after_tax_and_untaxed() -> None:
    fee = LateFeeCharge("CH-000001", date(2026, 11, 26), 2855)
    result = compute_bill(bill(late_fees=[fee]))
    assert ("late_fee", "28.55") == money_lines(result)[-2]
    assert (183000, 7320, 193175) == (result.taxable_base, result.tax, result.total)


def test_leads_count_once_per_visitor_in_30_days() -> None:
    leads = [
        ("before", "v1", date(2026, 10, 20)),  # counted in October
        ("v1-a", "v1", date(2026, 11, 10)),  # 21 days later: not again
        ("v1-b", "v1", date(2026, 11, 19)),  # 30 days after the 20th: counts
        ("v2-a", "v2", date(2026, 11, 1)),
        ("v2-b", "v2", date(2026, 11, 30)),  # 29 days: not again
        ("v3-a", "v3", date(2026, 12, 1)),  # December's
    ]
    assert [("v2-a", date(2026, 11, 1)), ("v1-b", date(2026, 11, 19))] == billable_leads(
        leads, *NOVEMBER
    )


DUE = date(2027, 1, 15)  # grace 10 days: overdue from 2027-01-26


@pytest.mark.parametrize(
    ("last_fee", "today", "disputed", "expected"),
    [
        (None, "2027-01-25", False, None),
        (None, "2027-01-26", False, "2027-01-26"),
        ("2027-01-26", "2027-02-24", False, None),
        ("2027-01-26", "2027-02-25", False, "2027-02-25"),
        (None, "2027-02-01", True, None),
        # a job that did not run for months charges one fee, not the ones it missed
        ("2027-01-26", "2027-04-30", False, "2027-04-26"),
        ("2027-04-26", "2027-04-30", False, None),
    ],
)
def test_a_late_fee_is_owed_once_per_30_days_and_never_while_disputed(
    last_fee: str | None, today: str, disputed: bool, expected: str | None
) -> None:
    last = None if last_fee is None else date.fromisoformat(last_fee)
    due = late_fee_due(DUE, 10, last, date.fromisoformat(today), disputed=disputed)
    assert expected == (None if due is None else due.isoformat())


def test_a_late_fee_is_on_the_overdue_principal_only() -> None:
    assert 2855 == late_fee_amount(190320, 150)  # 1.5% of 1,903.20 = 28.548
    assert 1355 == late_fee_amount(90320, 150)  # after a 1,000.00 payment
    assert 0 == late_fee_amount(-100, 150)
    assert 12963 == share(123456, 1050)


@pytest.mark.parametrize(
    ("paid", "today", "void", "status"),
    [
        (0, "2027-01-25", False, "issued"),
        (0, "2027-01-26", False, "overdue"),
        (190320, "2027-01-26", False, "paid"),
        (0, "2027-01-10", True, "void"),
    ],
)
def test_an_invoice_status_follows_payments_and_the_grace(
    paid: int, today: str, void: bool, status: str
) -> None:
    assert status == invoice_status(190320, paid, DUE, 10, date.fromisoformat(today), void=void)
