import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from console.contract.hours import (
    Schedule,
    validate_holiday_calendar,
    validate_hours,
    validate_timezone,
)

SAN_JUAN = "America/Puerto_Rico"  # UTC-4 all year, no DST
WEEKDAYS_9_TO_6 = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
DEALER_HOURS = {**WEEKDAYS_9_TO_6, "sat": [["09:00", "13:00"]]}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def san_juan(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A San Juan wall-clock time, as the UTC instant the hub would be handed."""
    local = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(SAN_JUAN))
    return local.astimezone(UTC)


@pytest.fixture
def dealer() -> Schedule:
    return Schedule(SAN_JUAN, DEALER_HOURS, "PR")


# validate_hours


def test_none_hours_mean_always_open_and_validate_to_none() -> None:
    assert None is validate_hours(None)


def test_valid_hours_come_back_sorted_by_day_and_time() -> None:
    raw = {"sat": [["14:00", "17:00"], ["09:00", "13:00"]], "mon": [("09:00", "18:00")]}
    expected = {"mon": [("09:00", "18:00")], "sat": [("09:00", "13:00"), ("14:00", "17:00")]}
    assert expected == validate_hours(raw)


def test_range_may_end_at_24_00_and_touch_the_next_range() -> None:
    raw = {"fri": [["18:00", "24:00"], ["09:00", "18:00"]], "sat": [["00:00", "02:00"]]}
    expected = {"fri": [("09:00", "18:00"), ("18:00", "24:00")], "sat": [("00:00", "02:00")]}
    assert expected == validate_hours(raw)


def test_empty_day_and_empty_week_are_valid_closed_days() -> None:
    assert ({"sun": []}, {}) == (validate_hours({"sun": []}), validate_hours({}))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"monday": [["09:00", "18:00"]]}, "hours: unknown day 'monday'; use mon, tue, wed"),
        ({"mon": [["9:00", "18:00"]]}, "hours.mon[0]: '9:00' is not a time; write HH:MM"),
        ({"mon": [["09:00", "25:00"]]}, "hours.mon[0]: '25:00' is not a time"),
        ({"mon": [["09:00", 1800]]}, "hours.mon[0]: 1800 is not a time"),
        ({"mon": [["18:00", "09:00"]]}, "hours.mon[0]: start 18:00 must be before end 09:00"),
        (
            {"mon": [["22:00", "02:00"]]},
            "hours.mon[0]: start 22:00 must be before end 02:00; a range cannot cross midnight, "
            'so end this one at "24:00" and start the next day at "00:00"',
        ),
        ({"mon": [["09:00", "09:00"]]}, "hours.mon[0]: start 09:00 must be before end 09:00"),
        ({"mon": [["24:00", "24:00"]]}, 'hours.mon[0]: "24:00" can only end a range'),
        (
            {"sat": [["09:00", "13:00"], ["12:30", "17:00"]]},
            "hours.sat: 12:30-17:00 overlaps 09:00-13:00",
        ),
        ({"mon": "09:00-18:00"}, "hours.mon must be a list of [start, end] ranges"),
        ({"mon": [["09:00"]]}, "hours.mon[0] must be a pair [start, end]"),
        ({"mon": [["09:00", "12:00"], "13:00-18:00"]}, "hours.mon[1] must be a pair"),
        ([["09:00", "18:00"]], "hours must be an object like"),
    ],
)
def test_invalid_hours_say_exactly_what_to_fix(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        validate_hours(raw)


def test_error_message_does_not_echo_a_huge_value() -> None:
    with pytest.raises(ValueError, match="unknown day") as info:
        validate_hours({"x" * 10_000: []})
    assert len(str(info.value)) < 200


# validate_holiday_calendar and validate_timezone


@pytest.mark.parametrize(
    ("code", "expected"),
    [(None, None), ("PR", "PR"), ("US", "US"), ("US-PR", "US-PR"), ("es-md", "ES-MD")],
)
def test_known_holiday_calendars_validate_to_their_canonical_code(
    code: str | None, expected: str | None
) -> None:
    assert expected == validate_holiday_calendar(code)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("XX", "unknown holiday calendar 'XX': use a country code such as \"PR\""),
        ("Puerto Rico", "unknown holiday calendar 'Puerto Rico'"),
        ("US-ZZ", "holiday calendar US has no subdivision 'ZZ'; known subdivisions: AK, AL"),
        ("", "holidays must be a calendar code"),
    ],
)
def test_unknown_holiday_calendar_is_refused(code: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        validate_holiday_calendar(code)


def test_known_timezone_is_returned_unchanged() -> None:
    assert SAN_JUAN == validate_timezone(SAN_JUAN)


@pytest.mark.parametrize("name", ["Mars/Olympus", "America", "utc", "", "../etc/passwd"])
def test_unknown_timezone_is_refused_with_an_example(name: str) -> None:
    with pytest.raises(ValueError, match='use an IANA name such as "America/Puerto_Rico"'):
        validate_timezone(name)


def test_schedule_with_invalid_parts_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="unknown timezone"):
        Schedule("Nowhere/Town")
    with pytest.raises(ValueError, match="unknown day"):
        Schedule(SAN_JUAN, {"lunes": []})
    with pytest.raises(ValueError, match="unknown holiday calendar"):
        Schedule(SAN_JUAN, None, "XX")


def test_schedule_keeps_hours_and_calendar_in_canonical_form() -> None:
    schedule = Schedule(SAN_JUAN, {"mon": [["14:00", "18:00"], ["09:00", "12:00"]]}, "us-pr")
    expected = (SAN_JUAN, {"mon": [("09:00", "12:00"), ("14:00", "18:00")]}, "US-PR")
    assert expected == (schedule.timezone, schedule.hours, schedule.holidays)


# is_open and closed_reason


def test_open_during_hours_in_the_tenants_zone(dealer: Schedule) -> None:
    # Tuesday 2026-03-03, 09:00 in San Juan is 13:00 UTC
    assert (False, True) == (
        dealer.is_open(san_juan(2026, 3, 3, 8, 59)),
        dealer.is_open(san_juan(2026, 3, 3, 9, 0)),
    )


def test_closing_time_is_exclusive(dealer: Schedule) -> None:
    last_second = san_juan(2026, 3, 3, 17, 59) + timedelta(seconds=59, microseconds=999_999)
    assert (True, False) == (
        dealer.is_open(last_second),
        dealer.is_open(san_juan(2026, 3, 3, 18, 0)),
    )


def test_san_juan_helper_is_four_hours_behind_utc() -> None:
    assert utc(2026, 3, 4, 2, 30) == san_juan(2026, 3, 3, 22, 30)


def test_evening_in_san_juan_is_next_day_in_utc_but_counts_as_local_day() -> None:
    late_monday = Schedule(SAN_JUAN, {"mon": [["20:00", "24:00"]]})
    # Monday 2026-03-02 22:00 in San Juan is Tuesday 02:00 UTC
    assert True is late_monday.is_open(utc(2026, 3, 3, 2, 0))
    # Tuesday 00:00 in San Juan (04:00 UTC): Monday's range ended at 24:00
    assert False is late_monday.is_open(utc(2026, 3, 3, 4, 0))
    assert True is late_monday.is_open(utc(2026, 3, 3, 3, 59))


def test_night_shift_split_at_midnight_is_open_across_it() -> None:
    night = Schedule(SAN_JUAN, {"fri": [["22:00", "24:00"]], "sat": [["00:00", "02:00"]]})
    # Friday 2026-03-06 23:59 and Saturday 00:00, 01:59 in San Juan
    opens = [night.is_open(utc(2026, 3, 7, h, m)) for h, m in [(3, 59), (4, 0), (5, 59), (6, 0)]]
    assert [True, True, True, False] == opens


def test_saturday_has_two_ranges_with_a_lunch_break() -> None:
    schedule = Schedule(SAN_JUAN, {"sat": [["09:00", "13:00"], ["14:00", "17:00"]]})
    # Saturday 2026-03-07 in San Juan at 12:59, 13:30, 14:00
    times = [(12, 59), (13, 30), (14, 0)]
    checks = [schedule.is_open(san_juan(2026, 3, 7, h, m)) for h, m in times]
    assert [True, False, True] == checks


def test_missing_day_is_closed_all_day(dealer: Schedule) -> None:
    assert "after_hours" == dealer.closed_reason(san_juan(2026, 3, 8, 12, 0))  # a Sunday


def test_no_hours_and_no_calendar_is_open_at_any_instant() -> None:
    always = Schedule(SAN_JUAN)
    instants = [utc(2026, 12, 25, 3, 0), utc(2026, 7, 25, 12, 0), utc(2027, 1, 1, 0, 0)]
    assert [True, True, True] == [always.is_open(at) for at in instants]


@pytest.mark.parametrize(
    ("day", "name"),
    [
        ((2026, 7, 25), "Constitution Day of Puerto Rico, a Saturday"),
        ((2026, 11, 19), "Discovery of Puerto Rico (Puerto Rican Identity Day), a Thursday"),
        ((2026, 12, 25), "Christmas, a Friday"),
        ((2027, 1, 6), "Epiphany (Día de Reyes), a Wednesday"),
    ],
)
def test_puerto_rico_holidays_are_closed_all_day(
    dealer: Schedule, day: tuple[int, int, int], name: str
) -> None:
    at = san_juan(*day, 10, 0)
    assert ("holiday", False) == (dealer.closed_reason(at), dealer.is_open(at)), name


def test_ordinary_weekday_is_not_a_holiday(dealer: Schedule) -> None:
    assert None is dealer.closed_reason(san_juan(2026, 11, 18, 10, 0))


def test_pr_holidays_need_the_pr_calendar_not_the_us_one() -> None:
    at = san_juan(2026, 11, 19, 10, 0)
    us_mainland = Schedule(SAN_JUAN, DEALER_HOURS, "US")
    puerto_rico = Schedule(SAN_JUAN, DEALER_HOURS, "US-PR")
    assert (None, "holiday") == (us_mainland.closed_reason(at), puerto_rico.closed_reason(at))


def test_holiday_is_decided_by_the_local_date_not_the_utc_date(dealer: Schedule) -> None:
    open_late = Schedule(SAN_JUAN, {d: [["00:00", "24:00"]] for d in ("fri", "sat")}, "PR")
    # 2026-07-25 02:00 UTC is Friday 24th 22:00 in San Juan: an ordinary Friday
    # 2026-07-26 02:00 UTC is Saturday 25th 22:00 in San Juan: Constitution Day
    assert (None, "holiday") == (
        open_late.closed_reason(utc(2026, 7, 25, 2, 0)),
        open_late.closed_reason(utc(2026, 7, 26, 2, 0)),
    )


def test_holiday_closes_a_tenant_that_is_otherwise_always_open() -> None:
    always_but_holidays = Schedule(SAN_JUAN, None, "PR")
    assert "holiday" == always_but_holidays.closed_reason(san_juan(2026, 12, 25, 12, 0))


def test_calendar_answers_for_years_it_was_not_first_asked_about(dealer: Schedule) -> None:
    years = [dealer.closed_reason(san_juan(year, 12, 25, 10, 0)) for year in (2026, 2031, 2024)]
    assert ["holiday", "holiday", "holiday"] == years


def test_hours_follow_daylight_saving_in_zones_that_have_it() -> None:
    new_york = Schedule("America/New_York", WEEKDAYS_9_TO_6)
    # 09:00 in New York is 14:00 UTC in winter (EST) and 13:00 UTC in summer (EDT)
    assert [False, True, True] == [
        new_york.is_open(utc(2026, 1, 14, 13, 30)),
        new_york.is_open(utc(2026, 1, 14, 14, 0)),
        new_york.is_open(utc(2026, 7, 15, 13, 0)),
    ]


def test_input_in_another_offset_is_the_same_instant(dealer: Schedule) -> None:
    at = datetime(2026, 3, 3, 9, 30, tzinfo=timezone(timedelta(hours=-4)))
    assert True is dealer.is_open(at)


def test_naive_datetime_is_refused(dealer: Schedule) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dealer.is_open(datetime(2026, 3, 3, 12, 0))


# next_opening


def test_next_opening_is_now_when_open(dealer: Schedule) -> None:
    now = san_juan(2026, 3, 3, 10, 15)
    assert now == dealer.next_opening(now)


def test_next_opening_later_today_before_hours(dealer: Schedule) -> None:
    assert utc(2026, 3, 3, 13, 0) == dealer.next_opening(san_juan(2026, 3, 3, 7, 0))


def test_next_opening_over_the_weekend_is_monday_morning_local() -> None:
    weekdays = Schedule(SAN_JUAN, WEEKDAYS_9_TO_6, "PR")
    # Friday 2026-03-06 18:30 in San Juan (22:30 UTC) -> Monday 09:00 = 13:00 UTC
    expected = utc(2026, 3, 9, 13, 0)
    assert expected == weekdays.next_opening(san_juan(2026, 3, 6, 18, 30))
    # asked after midnight UTC, still Friday evening locally: same answer
    assert expected == weekdays.next_opening(utc(2026, 3, 7, 1, 0))


def test_next_opening_skips_a_holiday(dealer: Schedule) -> None:
    # Thursday 2026-11-19 is a holiday in Puerto Rico: next is Friday 09:00 local
    assert utc(2026, 11, 20, 13, 0) == dealer.next_opening(san_juan(2026, 11, 19, 10, 0))


def test_next_opening_skips_a_holiday_right_after_closing(dealer: Schedule) -> None:
    # Thursday 2026-12-24 after hours; Friday 25th is Christmas -> Saturday 26th 09:00 local
    assert utc(2026, 12, 26, 13, 0) == dealer.next_opening(san_juan(2026, 12, 24, 18, 0))


def test_next_opening_during_lunch_break_is_the_afternoon_range() -> None:
    schedule = Schedule(SAN_JUAN, {"sat": [["09:00", "13:00"], ["14:00", "17:00"]]})
    assert utc(2026, 3, 7, 18, 0) == schedule.next_opening(san_juan(2026, 3, 7, 13, 15))


def test_next_opening_of_always_open_tenant_on_a_holiday_is_local_midnight() -> None:
    schedule = Schedule(SAN_JUAN, None, "PR")
    # Christmas 2026 ends at 00:00 on the 26th in San Juan, which is 04:00 UTC
    assert utc(2026, 12, 26, 4, 0) == schedule.next_opening(san_juan(2026, 12, 25, 15, 0))


def test_next_opening_is_none_for_a_tenant_that_never_opens() -> None:
    never = Schedule(SAN_JUAN, {"mon": []})
    assert None is never.next_opening(utc(2026, 3, 3, 12, 0))
