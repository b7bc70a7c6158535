"""The SLA clock, a month's attainment and its credits and incentive, at fixed dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from console.contract.agreement import AgreementError, agreement_for, parse_agreement
from console.contract.hours import Schedule
from console.contract.sla import (
    ChatTimes,
    Coverage,
    Measured,
    figures_sha256,
    freeze_at,
    measure,
    month_bounds,
    month_figures,
    parse_month,
)

PR = ZoneInfo("America/Puerto_Rico")
WEEKDAYS = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
DEALER = Coverage(Schedule("America/Puerto_Rico", WEEKDAYS, "PR"))
TERMS: dict[str, Any] = {
    "effective_from": "2026-11-01",
    "answer_s": 30,
    "target_pct": "90.00",
    "max_abandon_pct": "10.00",
    "csat_min": "4.30",
    "csat_min_sample": 20,
    "credits": [
        {"below_pct": "90.00", "credit_pct": "5.00"},
        {"below_pct": "80.00", "credit_pct": "10.00"},
    ],
    "csat_credit_pct": "5.00",
    "cap_pct": "12.00",
    "incentive": {"min_pct": "97.00", "csat_min": "4.70", "bonus_pct": "3.00"},
}
AGREEMENT = parse_agreement(TERMS)


def pr(text: str) -> datetime:
    """A Puerto Rico wall-clock time, as the aware UTC instant it is."""
    return datetime.fromisoformat(text).replace(tzinfo=PR).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected_s"),
    [
        # Friday 17:55 to Monday 09:05, Memorial Day (a PR holiday) on the Monday: only
        # Friday's five minutes count
        ("2026-05-22 17:55", "2026-05-25 09:05", 300),
        # ... and to Tuesday 09:05: Friday's five minutes and Tuesday's five
        ("2026-05-22 17:55", "2026-05-26 09:05", 600),
        # the same weekend without a holiday: Friday 5 min + Monday 5 min
        ("2026-05-15 17:55", "2026-05-18 09:05", 600),
        # all inside one open day
        ("2026-05-19 10:00", "2026-05-19 10:00:30", 30),
        # queued at night, answered 12 s after opening
        ("2026-05-19 22:00", "2026-05-20 09:00:12", 12),
        # a Saturday: closed all day
        ("2026-05-23 10:00", "2026-05-23 16:00", 0),
        # end before start
        ("2026-05-19 10:00", "2026-05-19 09:00", 0),
    ],
)
def test_coverage_counts_only_open_seconds(start: str, end: str, expected_s: float) -> None:
    assert expected_s == DEALER.open_seconds(pr(start), pr(end))


def test_a_one_off_closure_stops_the_clock_for_that_day() -> None:
    hurricane = Coverage(DEALER.schedule, frozenset({date(2026, 5, 19)}))
    # Monday's last five minutes and Wednesday's first five; all of Tuesday without it
    assert 600 == hurricane.open_seconds(pr("2026-05-18 17:55"), pr("2026-05-20 09:05"))
    assert 600 + 9 * 3600 == DEALER.open_seconds(pr("2026-05-18 17:55"), pr("2026-05-20 09:05"))


def test_the_deadline_is_where_the_open_seconds_run_out() -> None:
    assert pr("2026-05-26 09:00:25") == DEALER.deadline(pr("2026-05-22 17:59:55"), 30)
    assert pr("2026-05-19 10:00:30") == DEALER.deadline(pr("2026-05-19 10:00"), 30)


NOW = pr("2026-05-29 12:00")


@pytest.mark.parametrize(
    ("entered", "first_response", "ended", "outcome", "abandoned"),
    [
        ("2026-05-19 10:00", "2026-05-19 10:00:30", None, "hit", False),  # exactly the target
        ("2026-05-19 10:00", "2026-05-19 10:00:31", None, "miss", False),
        ("2026-05-19 17:59:50", "2026-05-20 09:00:20", None, "hit", False),  # 10 + 20 s
        ("2026-05-19 10:00", None, "2026-05-19 10:00:20", "not_counted", True),
        ("2026-05-19 10:00", None, "2026-05-19 10:00:31", "miss", True),
        ("2026-05-19 10:00", None, "2026-05-19 10:00:30", "not_counted", True),
        ("2026-05-29 11:59:45", None, None, "pending", False),  # still waiting, 15 s in
        ("2026-05-29 11:59:00", None, None, "miss", False),  # still waiting, a minute in
        (None, None, "2026-05-19 10:00", "none", False),  # never reached the human queue
    ],
)
def test_each_chat_is_a_hit_a_miss_or_not_counted(
    entered: str | None,
    first_response: str | None,
    ended: str | None,
    outcome: str,
    abandoned: bool,
) -> None:
    def at(text: str | None) -> datetime | None:
        return None if text is None else pr(text)

    found = measure(ChatTimes(at(entered), at(first_response), at(ended)), DEALER, 30, NOW)
    assert (outcome, abandoned) == (found.outcome, found.abandoned)


def test_first_response_is_given_in_coverage_and_wall_seconds() -> None:
    found = measure(
        ChatTimes(pr("2026-05-22 17:59:50"), pr("2026-05-26 09:00:05"), None), DEALER, 30, NOW
    )
    wall = (pr("2026-05-26 09:00:05") - pr("2026-05-22 17:59:50")).total_seconds()
    assert Measured("hit", False, 15.0, wall) == found


def month(hits: int, misses: int, scores: list[int], **terms: Any) -> dict[str, Any]:
    agreement = parse_agreement({**TERMS, **terms})
    measured = [Measured("hit", False, 10.0, 10.0)] * hits + [
        Measured("miss", False, 40.0, 40.0)
    ] * misses
    return month_figures(measured, scores, agreement).to_wire()


@pytest.mark.parametrize(
    ("hits", "misses", "attainment", "credit"),
    [
        (8999, 1001, "89.99", "5.00"),  # below 90.00: the first step
        (9000, 1000, "90.00", "0.00"),  # 90.00 is not below 90.00
        (2, 1, "66.66", "10.00"),  # cut, not rounded: 66.666... shows 66.66
        (7999, 2001, "79.99", "10.00"),  # the deeper step, not both
        (8000, 2000, "80.00", "5.00"),
        (0, 0, None, "0.00"),  # nothing measured: no attainment, no credit
    ],
)
def test_the_credit_ladder_has_strict_edges(
    hits: int, misses: int, attainment: str | None, credit: str
) -> None:
    figures = month(hits, misses, [])
    assert (attainment, credit) == (figures["attainment_pct"], figures["credit_pct"])


@pytest.mark.parametrize(
    ("ratings", "csat_credit"),
    [
        ([4] * 19, "0.00"),  # 4.00 is below 4.30, but 19 ratings are too few
        ([4] * 20, "5.00"),  # 20 ratings: the CSAT credit is owed
        ([5] * 6 + [4] * 14, "0.00"),  # 4.30 exactly is not below 4.30
        ([5] * 5 + [4] * 15, "5.00"),  # 4.25
    ],
)
def test_the_csat_credit_needs_the_minimum_sample(ratings: list[int], csat_credit: str) -> None:
    assert csat_credit == month(100, 0, ratings)["credit_pct"]


def test_credits_add_up_to_the_cap_and_no_more() -> None:
    assert "12.00" == month(70, 30, [1] * 20)["credit_pct"]  # 10.00 + 5.00, capped at 12.00
    assert "15.00" == month(70, 30, [1] * 20, cap_pct="25.00")["credit_pct"]


@pytest.mark.parametrize(
    ("hits", "misses", "ratings", "bonus"),
    [
        (97, 3, [5] * 20, "3.00"),
        (97, 3, [5] * 19, "0.00"),  # too few ratings to prove the CSAT of the incentive
        (96, 4, [5] * 20, "0.00"),  # 96.00 is below 97.00
        (100, 0, [5] * 6 + [4] * 14, "0.00"),  # 4.30 is below the incentive's 4.70
    ],
)
def test_the_incentive(hits: int, misses: int, ratings: list[int], bonus: str) -> None:
    assert bonus == month(hits, misses, ratings)["incentive_pct"]


def test_abandonment_over_the_ceiling_forfeits_the_incentive() -> None:
    agreement = parse_agreement(TERMS)
    measured = (
        [Measured("hit", False, 5.0, 5.0)] * 97
        + [Measured("miss", True, None, None)] * 3
        + [Measured("not_counted", True, None, None)] * 9
    )
    figures = month_figures(measured, [5] * 20, agreement).to_wire()
    # 12 abandoned of 109 that finished: 11.00%
    assert ("11.00", "97.00", "0.00") == (
        figures["abandon_pct"],
        figures["attainment_pct"],
        figures["incentive_pct"],
    )


def test_first_response_average_and_percentiles() -> None:
    measured = [Measured("hit", False, float(s), float(s)) for s in range(1, 11)]
    figures = month_figures(measured, [], AGREEMENT).to_wire()
    assert {"avg": 5.5, "p50": 5.0, "p90": 9.0} == figures["first_response_s"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"target_pct": "0.00"}, "target_pct: 0.00 is outside (0, 100]"),
        ({"target_pct": "100.01"}, "target_pct: 100.01 is outside (0, 100]"),
        ({"target_pct": 90.0}, 'target_pct: write a decimal string with two places like "90.00"'),
        ({"target_pct": 90}, "target_pct: write a decimal string"),
        ({"target_pct": "90.0"}, "target_pct: '90.0' is not a decimal with two places"),
        ({"cap_pct": "100.50"}, "cap_pct: 100.50 is outside [0, 100]"),
        ({"cap_pct": "-1.00"}, "cap_pct: '-1.00' is not a decimal with two places"),
        ({"csat_min": "5.10"}, "csat_min: 5.10 is outside the 1.00 to 5.00 rating scale"),
        ({"answer_s": 0}, "answer_s: 0 is outside 1 to 86400 seconds"),
        ({"answer_s": "30"}, "answer_s: the answer target in whole seconds"),
        ({"effective_from": "2026-02-30"}, "effective_from: 2026-02-30 is not a day"),
        (
            {
                "credits": [
                    {"below_pct": "90.00", "credit_pct": "10.00"},
                    {"below_pct": "80.00", "credit_pct": "5.00"},
                ]
            },
            "credits: the ladder is not monotone",
        ),
        (
            {"credits": [{"below_pct": "95.00", "credit_pct": "5.00"}]},
            "credits[0].below_pct: 95.00 is above the target",
        ),
        ({"credits": [{"below_pct": "80.00"}]}, 'credits[0]: an object with "below_pct"'),
        ({"incentive": {"min_pct": "97.00"}}, "incentive: an object like"),
        ({"coverage": {"hours": {"mon": [["18:00", "09:00"]]}}}, "coverage.hours.mon[0]"),
        ({"csat_min": None}, "csat_credit_pct: needs csat_min"),
    ],
)
def test_bad_terms_say_which_field_and_why(change: dict[str, Any], message: str) -> None:
    with pytest.raises(AgreementError) as caught:
        parse_agreement({**TERMS, **change})
    assert message in str(caught.value)


def test_terms_read_back_as_written() -> None:
    wire = AGREEMENT.to_wire()
    assert AGREEMENT == parse_agreement(wire)
    assert {**TERMS, "coverage": None} == {key: wire[key] for key in (*TERMS, "coverage")}


def test_the_version_in_force_by_the_months_last_day_measures_it() -> None:
    first = parse_agreement({**TERMS, "effective_from": "2026-01-01"})
    second = parse_agreement({**TERMS, "effective_from": "2026-11-15"})
    versions = [(1, first), (2, second)]
    assert 1 == agreement_for(versions, date(2026, 10, 31))[0]
    assert 2 == agreement_for(versions, date(2026, 11, 30))[0]
    with pytest.raises(LookupError):
        agreement_for(versions, date(2025, 12, 31))


@pytest.mark.parametrize(
    ("month", "error"),
    [("2026-13", "2026-13 is not a month"), ("2026-1", "YYYY-MM"), ("", "YYYY-MM")],
)
def test_bad_months(month: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_month(month)


def test_months_and_the_freeze_are_in_the_tenants_zone() -> None:
    start, end = month_bounds(2026, 11, PR)
    assert (pr("2026-11-01 00:00"), pr("2026-12-01 00:00")) == (start, end)
    assert pr("2026-12-03 00:00") == freeze_at(2026, 11, PR)
    assert pr("2027-01-03 00:00") == freeze_at(2026, 12, PR)
    assert start + timedelta(hours=4) == datetime(2026, 11, 1, 8, tzinfo=UTC)


def test_the_fingerprint_ignores_key_order_but_not_values() -> None:
    assert figures_sha256({"a": 1, "b": "2.00"}) == figures_sha256({"b": "2.00", "a": 1})
    assert figures_sha256({"a": 1}) != figures_sha256({"a": 2})
