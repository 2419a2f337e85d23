"""Chinese statutory business days and DOMAIN.md's counting convention.

Convention (DOMAIN.md, "Calendar"):
- due(start, N) is 23:59:59 Beijing time on the N-th business day strictly after the calendar
  date of start; the day of entry never counts, whatever the hour; entering on a weekend or
  holiday makes the first following business day day 1.
- elapsed(a, b) is the number of business days d with date(a) < d <= date(b).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_tui.domain.calendar import BusinessCalendar, YearSchedule, statutory_holidays
from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.filing import BEIJING


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BEIJING)


def eod(y: int, m: int, d: int) -> datetime:
    """23:59:59 Beijing time: the shape of every due time."""
    return bj(y, m, d, 23, 59, 59)


# -- DOMAIN.md's worked example and the convention -----------------------------------------


def test_domain_worked_example(cal: BusinessCalendar) -> None:
    # Entered Friday 2026-02-13 17:00, N = 1: the next business day is Saturday 2026-02-14,
    # an adjusted working day before the 2026 Spring Festival break.
    due = cal.due(bj(2026, 2, 13, 17), 1)
    assert due == eod(2026, 2, 14)
    assert due.isoformat() == "2026-02-14T23:59:59+08:00"
    assert due.weekday() == 5  # a Saturday
    assert cal.is_business_day(date(2026, 2, 14))


@pytest.mark.parametrize(
    "hour_minute_second", [(0, 0, 0), (0, 0, 1), (9, 0, 0), (17, 30, 0), (23, 59, 59)]
)
def test_day_of_entry_never_counts_whatever_the_hour(
    cal: BusinessCalendar, hour_minute_second: tuple[int, int, int]
) -> None:
    # Monday 2025-03-03 (no holiday near): day 1 is always Tuesday 2025-03-04.
    start = bj(2025, 3, 3, *hour_minute_second)
    assert cal.due(start, 1) == eod(2025, 3, 4)
    assert cal.nth_business_day(start, 1) == date(2025, 3, 4)
    assert cal.elapsed(start, bj(2025, 3, 3, 23, 59, 59)) == 0
    assert cal.elapsed(start, bj(2025, 3, 4, 0, 0, 0)) == 1


@pytest.mark.parametrize(
    "start",
    [
        bj(2025, 3, 7, 23, 59, 59),  # Friday, late: Friday itself never counts
        bj(2025, 3, 8, 0, 0, 0),  # Saturday
        bj(2025, 3, 8, 12, 0, 0),
        bj(2025, 3, 9, 23, 0, 0),  # Sunday
    ],
)
def test_entering_on_a_weekend_makes_the_next_business_day_day_1(
    cal: BusinessCalendar, start: datetime
) -> None:
    assert cal.due(start, 1) == eod(2025, 3, 10)  # Monday
    assert cal.due(start, 2) == eod(2025, 3, 11)


def test_entering_on_a_holiday_makes_the_next_business_day_day_1(cal: BusinessCalendar) -> None:
    # Thursday 2025-01-30 is inside the 2025 Spring Festival break (Jan 28 - Feb 4):
    # the first business day after it is Wednesday 2025-02-05.
    assert cal.due(bj(2025, 1, 30, 10), 1) == eod(2025, 2, 5)
    # Monday 2026-02-16, inside the 2026 break (Feb 15 - 23): Tuesday 2026-02-24.
    assert cal.due(bj(2026, 2, 16, 8), 1) == eod(2026, 2, 24)


def test_nth_business_day_refuses_n_below_1(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError):
        cal.nth_business_day(bj(2025, 3, 3), 0)


def test_the_refusal_of_n_below_1_says_why(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match=r"^n must be at least 1$"):
        cal.nth_after(date(2025, 3, 3).toordinal(), 0)


def test_statutory_holidays_leave_out_the_bridging_days_off() -> None:
    """Only the State Council's notice fixes the days off in lieu (2026-01-02 for the Sunday
    2026-01-04 worked): the statutory rules give the holidays themselves."""
    rest = statutory_holidays(2026)
    assert date(2026, 1, 1) in rest and date(2026, 10, 1) in rest
    assert not {date(2026, 1, 2), date(2026, 2, 20), date(2026, 10, 6)} & rest


def test_start_of_business_day_is_midnight_of_the_nth_day(cal: BusinessCalendar) -> None:
    assert cal.start_of_business_day(bj(2026, 2, 13, 17), 1) == bj(2026, 2, 14)
    assert cal.start_of_business_day(bj(2026, 2, 13, 17), 2) == bj(2026, 2, 24)


def test_business_days_between_includes_both_ends(cal: BusinessCalendar) -> None:
    assert cal.business_days_between(date(2026, 2, 13), date(2026, 2, 24)) == [
        date(2026, 2, 13),
        date(2026, 2, 14),
        date(2026, 2, 24),
    ]
    assert cal.business_days_between(date(2026, 2, 16), date(2026, 2, 23)) == []


# -- the official schedule around each break ---------------------------------------------

ADJUSTED_WORKDAYS = [
    date(2025, 1, 26),  # Sun, Spring Festival 2025
    date(2025, 2, 8),  # Sat, Spring Festival 2025
    date(2025, 4, 27),  # Sun, Labour Day 2025
    date(2025, 9, 28),  # Sun, National Day 2025
    date(2025, 10, 11),  # Sat, National Day 2025
    date(2026, 2, 14),  # Sat, Spring Festival 2026
    date(2026, 2, 28),  # Sat, Spring Festival 2026
    date(2026, 5, 9),  # Sat, Labour Day 2026
    date(2026, 9, 20),  # Sun, National Day 2026
    date(2026, 10, 10),  # Sat, National Day 2026
]

HOLIDAYS = [
    # Spring Festival 2025: off Jan 28 - Feb 4
    date(2025, 1, 28),
    date(2025, 1, 29),
    date(2025, 1, 31),
    date(2025, 2, 3),
    date(2025, 2, 4),
    # Labour Day 2025: off May 1 - 5
    date(2025, 5, 1),
    date(2025, 5, 2),
    date(2025, 5, 5),
    # National Day 2025: off Oct 1 - 8
    date(2025, 10, 1),
    date(2025, 10, 3),
    date(2025, 10, 6),
    date(2025, 10, 8),
    # Spring Festival 2026: off Feb 15 - 23
    date(2026, 2, 16),
    date(2026, 2, 20),
    date(2026, 2, 23),
    # Labour Day 2026: off May 1 - 5
    date(2026, 5, 1),
    date(2026, 5, 4),
    date(2026, 5, 5),
    # National Day 2026: off Oct 1 - 7
    date(2026, 10, 1),
    date(2026, 10, 2),
    date(2026, 10, 5),
    date(2026, 10, 7),
]

ORDINARY_REST_DAYS = [date(2025, 2, 9), date(2025, 10, 12), date(2026, 3, 1), date(2026, 10, 11)]
ORDINARY_WORKDAYS = [date(2025, 2, 5), date(2025, 5, 6), date(2025, 10, 9), date(2026, 2, 24)]


@pytest.mark.parametrize("day", ADJUSTED_WORKDAYS, ids=str)
def test_adjusted_weekend_days_are_business_days(cal: BusinessCalendar, day: date) -> None:
    assert day.weekday() >= 5
    assert cal.is_business_day(day)


@pytest.mark.parametrize("day", HOLIDAYS, ids=str)
def test_public_holidays_are_not_business_days(cal: BusinessCalendar, day: date) -> None:
    assert cal.is_business_day(day) is False


@pytest.mark.parametrize("day", ORDINARY_REST_DAYS, ids=str)
def test_ordinary_weekends_are_not_business_days(cal: BusinessCalendar, day: date) -> None:
    assert day.weekday() >= 5
    assert cal.is_business_day(day) is False


@pytest.mark.parametrize("day", ORDINARY_WORKDAYS, ids=str)
def test_ordinary_weekdays_are_business_days(cal: BusinessCalendar, day: date) -> None:
    assert cal.is_business_day(day)


def test_every_day_agrees_with_the_official_library(cal: BusinessCalendar) -> None:
    day = date(2015, 1, 1)
    while day <= date(2026, 12, 31):
        assert cal.is_business_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


# Each case: (start, n, due date), reasoned by hand from the official schedule.
DUE_CASES = [
    # --- Spring Festival 2025: off Tue Jan 28 - Tue Feb 4; worked Sun Jan 26, Sat Feb 8.
    # Fri Jan 24: Sat 25 rest, Sun 26 adjusted workday -> day 1.
    (bj(2025, 1, 24, 15), 1, date(2025, 1, 26)),
    # ... Sun 26 = 1, Mon 27 = 2.
    (bj(2025, 1, 24, 15), 2, date(2025, 1, 27)),
    # ... Sun 26 = 1, Mon 27 = 2, Jan 28 - Feb 4 off, Wed Feb 5 = 3.
    (bj(2025, 1, 24, 15), 3, date(2025, 2, 5)),
    # Mon Jan 27: the whole break is skipped, Wed Feb 5 = 1.
    (bj(2025, 1, 27, 9), 1, date(2025, 2, 5)),
    # Mon Jan 27: Feb 5 = 1, 6 = 2, 7 = 3, Sat Feb 8 (adjusted) = 4.
    (bj(2025, 1, 27, 9), 4, date(2025, 2, 8)),
    # Sat Feb 8 (a business day itself, but the day of entry never counts): Mon Feb 10 = 1.
    (bj(2025, 2, 8, 10), 1, date(2025, 2, 10)),
    # --- Labour Day 2025: off Thu May 1 - Mon May 5; worked Sun Apr 27.
    # Fri Apr 25: Sat 26 rest, Sun 27 adjusted -> day 1.
    (bj(2025, 4, 25, 16), 1, date(2025, 4, 27)),
    # Sat Apr 26 (weekend): next business day Sun Apr 27 is day 1.
    (bj(2025, 4, 26, 11), 1, date(2025, 4, 27)),
    # Fri Apr 25: Apr 27 = 1, 28 = 2, 29 = 3, 30 = 4, May 1-5 off, Tue May 6 = 5.
    (bj(2025, 4, 25, 16), 5, date(2025, 5, 6)),
    # Wed Apr 30: May 1-5 off -> Tue May 6 = 1.
    (bj(2025, 4, 30, 10), 1, date(2025, 5, 6)),
    # --- National Day 2025: off Wed Oct 1 - Wed Oct 8; worked Sun Sep 28, Sat Oct 11.
    # Fri Sep 26: Sun Sep 28 (adjusted) = 1.
    (bj(2025, 9, 26, 12), 1, date(2025, 9, 28)),
    # Tue Sep 30: Oct 1-8 off -> Thu Oct 9 = 1.
    (bj(2025, 9, 30, 17), 1, date(2025, 10, 9)),
    # Tue Sep 30: Oct 9 = 1, 10 = 2, Sat Oct 11 (adjusted) = 3.
    (bj(2025, 9, 30, 17), 3, date(2025, 10, 11)),
    # ... Sun Oct 12 rest, Mon Oct 13 = 4.
    (bj(2025, 9, 30, 17), 4, date(2025, 10, 13)),
    # Fri Sep 26, 20 bd (default authority review): Sep 28, 29, 30 = 1-3; Oct 9, 10, 11, 13 =
    # 4-7; Oct 14-17 = 8-11; Oct 20-24 = 12-16; Oct 27, 28, 29, 30 = 17-20.
    (bj(2025, 9, 26, 12), 20, date(2025, 10, 30)),
    # --- Spring Festival 2026: off Sun Feb 15 - Mon Feb 23; worked Sat Feb 14, Sat Feb 28.
    # Fri Feb 13 17:00 (DOMAIN.md's example): Sat Feb 14 = 1.
    (bj(2026, 2, 13, 17), 1, date(2026, 2, 14)),
    # ... Feb 14 = 1, Feb 15-23 off, Tue Feb 24 = 2.
    (bj(2026, 2, 13, 17), 2, date(2026, 2, 24)),
    # Sat Feb 14 (adjusted workday, but the day of entry): Tue Feb 24 = 1.
    (bj(2026, 2, 14, 9), 1, date(2026, 2, 24)),
    # Wed Feb 18 (holiday): Tue Feb 24 = 1.
    (bj(2026, 2, 18, 9), 1, date(2026, 2, 24)),
    # Tue Feb 24: 25 = 1, 26 = 2, 27 = 3, Sat 28 (adjusted) = 4.
    (bj(2026, 2, 24, 9), 4, date(2026, 2, 28)),
    # ... Sun Mar 1 rest, Mon Mar 2 = 5.
    (bj(2026, 2, 24, 9), 5, date(2026, 3, 2)),
    # --- Labour Day 2026: off Fri May 1 - Tue May 5; worked Sat May 9.
    # Thu Apr 30: May 1-5 off -> Wed May 6 = 1.
    (bj(2026, 4, 30, 10), 1, date(2026, 5, 6)),
    # Wed Apr 29: Thu Apr 30 = 1, Wed May 6 = 2.
    (bj(2026, 4, 29, 10), 2, date(2026, 5, 6)),
    # Thu Apr 30: May 6 = 1, 7 = 2, 8 = 3, Sat May 9 (adjusted) = 4.
    (bj(2026, 4, 30, 10), 4, date(2026, 5, 9)),
    # --- National Day 2026: off Thu Oct 1 - Wed Oct 7; worked Sun Sep 20, Sat Oct 10.
    # Fri Sep 18: Sun Sep 20 (adjusted) = 1.
    (bj(2026, 9, 18, 15), 1, date(2026, 9, 20)),
    # Thu Sep 24: Fri Sep 25 is the Mid-autumn Festival, weekend -> Mon Sep 28 = 1.
    (bj(2026, 9, 24, 15), 1, date(2026, 9, 28)),
    # Wed Sep 30: Oct 1-7 off -> Thu Oct 8 = 1.
    (bj(2026, 9, 30, 18), 1, date(2026, 10, 8)),
    # Wed Sep 30: Oct 8 = 1, 9 = 2, Sat Oct 10 (adjusted) = 3.
    (bj(2026, 9, 30, 18), 3, date(2026, 10, 10)),
    # ... Sun Oct 11 rest, Mon Oct 12 = 4.
    (bj(2026, 9, 30, 18), 4, date(2026, 10, 12)),
]


@pytest.mark.parametrize(("start", "n", "due_day"), DUE_CASES, ids=lambda v: str(v))
def test_due_across_breaks(cal: BusinessCalendar, start: datetime, n: int, due_day: date) -> None:
    due = cal.due(start, n)
    assert due == datetime.combine(due_day, time(23, 59, 59), BEIJING)
    assert due.utcoffset() == timedelta(hours=8)
    assert cal.nth_business_day(start, n) == due_day
    assert cal.elapsed(start, due) == n


# Each case: (a, b, elapsed), business days d with date(a) < d <= date(b), counted by hand.
ELAPSED_CASES = [
    # Fri Jan 24 2025 -> Mon Feb 10 2025: Jan 26, Jan 27, Feb 5, 6, 7, 8, 10 = 7.
    (bj(2025, 1, 24, 10), bj(2025, 2, 10, 10), 7),
    # Mon Jan 27 -> Tue Feb 4 2025: the break only = 0.
    (bj(2025, 1, 27, 10), bj(2025, 2, 4, 23), 0),
    # Fri Apr 25 -> Tue May 6 2025: Apr 27, 28, 29, 30, May 6 = 5.
    (bj(2025, 4, 25, 10), bj(2025, 5, 6, 10), 5),
    # Fri Sep 26 -> Mon Oct 13 2025: Sep 28, 29, 30, Oct 9, 10, 11, 13 = 7.
    (bj(2025, 9, 26, 10), bj(2025, 10, 13, 10), 7),
    # Thu Feb 12 -> Mon Mar 2 2026: Feb 13, 14, 24, 25, 26, 27, 28, Mar 2 = 8.
    (bj(2026, 2, 12, 10), bj(2026, 3, 2, 10), 8),
    # Thu Apr 30 -> Mon May 11 2026: May 6, 7, 8, 9, 11 = 5.
    (bj(2026, 4, 30, 10), bj(2026, 5, 11, 10), 5),
    # Fri Sep 18 -> Mon Oct 12 2026: Sep 20, 21, 22, 23, 24, (25 off), 28, 29, 30,
    # Oct 8, 9, 10, 12 = 12.
    (bj(2026, 9, 18, 10), bj(2026, 10, 12, 10), 12),
]


@pytest.mark.parametrize(("a", "b", "expected"), ELAPSED_CASES, ids=lambda v: str(v))
def test_elapsed_across_breaks(
    cal: BusinessCalendar, a: datetime, b: datetime, expected: int
) -> None:
    assert cal.elapsed(a, b) == expected


def test_elapsed_is_zero_on_the_same_date_or_earlier(cal: BusinessCalendar) -> None:
    a = bj(2025, 3, 4, 9)
    assert cal.elapsed(a, a) == 0
    assert cal.elapsed(a, bj(2025, 3, 4, 23, 59, 59)) == 0
    assert cal.elapsed(a, bj(2025, 3, 4, 0, 0, 0)) == 0  # same date, earlier hour
    assert cal.elapsed(a, bj(2025, 3, 3, 9)) == 0  # the day before
    assert cal.elapsed(a, bj(2025, 2, 1, 9)) == 0  # weeks before
    assert cal.elapsed(bj(2026, 3, 2), bj(2026, 2, 13)) == 0  # across a break, backwards


# -- other offsets are converted to Beijing dates ----------------------------------------


def test_utc_times_are_converted_to_beijing_dates(cal: BusinessCalendar) -> None:
    # 2026-02-12T20:00Z is Friday 2026-02-13 04:00 in Beijing: the worked example again.
    start = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)
    assert start.astimezone(BEIJING) == bj(2026, 2, 13, 4)
    assert cal.nth_business_day(start, 1) == date(2026, 2, 14)
    due = cal.due(start, 1)
    assert due == eod(2026, 2, 14)
    assert due.utcoffset() == timedelta(hours=8)
    # Same Beijing date (Feb 13, 04:00 -> 23:59:59 = 15:59:59Z): nothing elapsed.
    assert cal.elapsed(start, datetime(2026, 2, 13, 15, 59, 59, tzinfo=UTC)) == 0
    # 16:00Z on Feb 13 is already Saturday Feb 14 in Beijing, an adjusted workday.
    assert cal.elapsed(start, datetime(2026, 2, 13, 16, 0, tzinfo=UTC)) == 1
    # Thursday Feb 12 23:00 Beijing (15:00Z) -> Friday Feb 13 00:00 Beijing (16:00Z): 1.
    assert (
        cal.elapsed(
            datetime(2026, 2, 12, 15, 0, tzinfo=UTC), datetime(2026, 2, 12, 16, 0, tzinfo=UTC)
        )
        == 1
    )


def test_a_western_offset_is_converted_too(cal: BusinessCalendar) -> None:
    new_york_winter = timezone(timedelta(hours=-5))
    # Thursday 2026-02-12 20:00 at UTC-5 is Friday 2026-02-13 09:00 in Beijing.
    start = datetime(2026, 2, 12, 20, 0, tzinfo=new_york_winter)
    assert cal.due(start, 1) == eod(2026, 2, 14)
    assert cal.due(start, 2) == eod(2026, 2, 24)


# -- years without an official schedule --------------------------------------------------


def test_a_year_without_official_schedule_is_provisional(cal: BusinessCalendar) -> None:
    assert not cal.is_provisional(2025)
    assert not cal.is_provisional(2026)
    assert cal.is_provisional(2027)
    assert cal.provisional_years([2027, 2025, 2026, 2028, 2027]) == [2027, 2028]
    assert cal.provisional_years([2025, 2026]) == []
    assert cal.provisional_years([]) == []


#: The statutory holidays of 2027 (DOMAIN.md's list; lunar dates as the holidays library
#: computes them): nothing else but weekends is a rest day in the provisional year.
STATUTORY_2027 = {
    date(2027, 1, 1),  # New Year's Day (a Friday)
    date(2027, 2, 5),  # Spring Festival eve
    date(2027, 2, 6),
    date(2027, 2, 7),
    date(2027, 2, 8),  # first three days
    date(2027, 4, 5),  # Qingming
    date(2027, 5, 1),
    date(2027, 5, 2),  # Labour Day
    date(2027, 6, 9),  # Dragon Boat
    date(2027, 9, 15),  # Mid-Autumn
    date(2027, 10, 1),
    date(2027, 10, 2),
    date(2027, 10, 3),  # National Day
}


def test_a_provisional_year_rests_on_weekends_and_the_statutory_holidays(
    cal: BusinessCalendar,
) -> None:
    day = date(2027, 1, 1)
    while day <= date(2027, 12, 31):
        expected = day.weekday() < 5 and day not in STATUTORY_2027
        assert cal.is_business_day(day) == expected, day
        day += timedelta(days=1)


def test_new_years_day_2027_is_not_a_business_day(cal: BusinessCalendar) -> None:
    # Issue 12 item 3: Fri 2027-01-01 counted as a business day, so a filing due Thursday
    # 2026-12-31 was "2 bd over" on Monday 2027-01-04; it is 1.
    assert cal.due(bj(2026, 12, 31, 10), 1) == eod(2027, 1, 4)
    assert cal.elapsed(bj(2026, 12, 31, 10), bj(2027, 1, 4, 10)) == 1
    assert cal.elapsed(bj(2026, 12, 30, 10), bj(2027, 1, 4, 10)) == 2


def test_the_first_day_a_fresh_calendar_holds_is_answered_too() -> None:
    fresh = BusinessCalendar()  # not the shared one, whose span earlier tests may have widened
    assert not fresh.is_business_day(date(2020, 1, 1))  # New Year's Day, a Wednesday
    assert fresh.is_business_day(date(2020, 1, 2))


def test_a_year_beyond_the_precomputed_span_is_provisional() -> None:
    fresh = BusinessCalendar()
    assert fresh.is_provisional(2040)
    assert fresh.provisional_years([2026, 2040]) == [2040]
    assert fresh.is_business_day(date(2040, 1, 2))  # Monday
    assert not fresh.is_business_day(date(2040, 1, 1))  # New Year's Day, a Sunday anyway
    assert not fresh.is_business_day(date(2040, 10, 1))  # National Day, a Monday
    assert not fresh.is_business_day(date(2040, 1, 7))  # Sunday


# -- staff overrides ---------------------------------------------------------------------

OVERRIDE_2027 = YearSchedule(
    holidays=frozenset({date(2027, 1, 1)}),  # Friday, New Year's Day
    workdays=frozenset({date(2027, 1, 9)}),  # Saturday made a working day
)


def test_staff_overrides_make_the_year_official_and_change_answers() -> None:
    plain = BusinessCalendar()
    staff = BusinessCalendar(overrides={2027: OVERRIDE_2027})

    assert plain.is_provisional(2027)
    assert not staff.is_provisional(2027)
    assert staff.provisional_years([2026, 2027, 2028]) == [2028]

    assert plain.is_business_day(date(2027, 1, 1)) is False  # statutory, provisional
    assert staff.is_business_day(date(2027, 1, 1)) is False
    assert plain.is_business_day(date(2027, 2, 8)) is False  # Spring Festival, statutory
    assert staff.is_business_day(date(2027, 2, 8)) is True  # this schedule does not list it
    assert plain.is_business_day(date(2027, 1, 9)) is False
    assert staff.is_business_day(date(2027, 1, 9)) is True
    assert staff.is_business_day(date(2027, 1, 4)) is True  # an ordinary Monday
    assert staff.is_business_day(date(2027, 1, 10)) is False  # an ordinary Sunday

    # Thu 2026-12-31: both skip New Year's Day to Mon Jan 4.
    assert plain.due(bj(2026, 12, 31, 10), 1) == eod(2027, 1, 4)
    assert staff.due(bj(2026, 12, 31, 10), 1) == eod(2027, 1, 4)
    # Fri 2027-01-08: staff work Saturday Jan 9; plain waits for Monday Jan 11.
    assert plain.due(bj(2027, 1, 8, 10), 1) == eod(2027, 1, 11)
    assert staff.due(bj(2027, 1, 8, 10), 1) == eod(2027, 1, 9)
    # Thu Dec 31 -> Fri Jan 8: Jan 4-8 = 5 either way.
    assert plain.elapsed(bj(2026, 12, 31, 10), bj(2027, 1, 8, 10)) == 5
    assert staff.elapsed(bj(2026, 12, 31, 10), bj(2027, 1, 8, 10)) == 5
    # Other years are untouched.
    assert staff.due(bj(2026, 2, 13, 17), 1) == eod(2026, 2, 14)


def test_staff_override_replaces_an_official_year() -> None:
    # A correction of 2026 with no holidays at all: the Spring Festival break disappears,
    # and the official adjusted Saturday Feb 14 is no longer a working day.
    staff = BusinessCalendar(overrides={2026: YearSchedule(frozenset(), frozenset())})
    assert not staff.is_provisional(2026)
    assert staff.is_business_day(date(2026, 2, 16))
    assert not staff.is_business_day(date(2026, 2, 14))
    assert staff.due(bj(2026, 2, 13, 17), 1) == eod(2026, 2, 16)


# -- properties ----------------------------------------------------------------------------

MOMENTS = st.datetimes(
    min_value=datetime(2015, 1, 1),
    max_value=datetime(2030, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([BEIJING, UTC, timezone(timedelta(hours=-5))]),
)
COUNTS = st.integers(min_value=1, max_value=40)
# No example database: the tests leave no files behind.
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None)


@PROPERTY_SETTINGS
@given(start=MOMENTS, n=COUNTS)
def test_elapsed_until_due_is_n(cal: BusinessCalendar, start: datetime, n: int) -> None:
    assert cal.elapsed(start, cal.due(start, n)) == n


@PROPERTY_SETTINGS
@given(start=MOMENTS, n=COUNTS)
def test_due_is_a_business_day_at_end_of_day_beijing(
    cal: BusinessCalendar, start: datetime, n: int
) -> None:
    due = cal.due(start, n)
    assert due.utcoffset() == timedelta(hours=8)
    assert due.timetz().replace(tzinfo=None) == time(23, 59, 59)
    assert cal.is_business_day(due.date())
    assert due.date() > start.astimezone(BEIJING).date()


@PROPERTY_SETTINGS
@given(start=MOMENTS, n=COUNTS)
def test_due_is_strictly_increasing_in_n(cal: BusinessCalendar, start: datetime, n: int) -> None:
    assert cal.due(start, n) < cal.due(start, n + 1)


@PROPERTY_SETTINGS
@given(moments=st.lists(MOMENTS, min_size=3, max_size=3))
def test_elapsed_is_additive(cal: BusinessCalendar, moments: list[datetime]) -> None:
    a, b, c = sorted(moments)
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)
    assert cal.elapsed(c, a) == 0


@PROPERTY_SETTINGS
@given(start=MOMENTS, n=COUNTS)
def test_nth_business_day_agrees_with_brute_force(
    cal: BusinessCalendar, start: datetime, n: int
) -> None:
    day = start.astimezone(BEIJING).date()
    found = 0
    while found < n:
        day += timedelta(days=1)
        if cal.is_business_day(day):
            found += 1
    assert cal.nth_business_day(start, n) == day


@PROPERTY_SETTINGS
@given(a=MOMENTS, b=MOMENTS)
def test_elapsed_agrees_with_brute_force(cal: BusinessCalendar, a: datetime, b: datetime) -> None:
    first, last = a.astimezone(BEIJING).date(), b.astimezone(BEIJING).date()
    if last - first > timedelta(days=400):  # keep the loop short
        last = first + timedelta(days=400)
        b = datetime.combine(last, time(12), BEIJING)
    expected = sum(
        cal.is_business_day(first + timedelta(days=i)) for i in range(1, (last - first).days + 1)
    )
    assert cal.elapsed(a, b) == expected


# -- regressions: bugs found while writing these tests ------------------------------------


def _brute_elapsed(cal: BusinessCalendar, first: date, last: date) -> int:
    return sum(
        cal.is_business_day(first + timedelta(days=i)) for i in range(1, (last - first).days + 1)
    )


def test_elapsed_past_the_precomputed_span() -> None:
    fresh = BusinessCalendar()  # span 2015-2035
    a, b = bj(2035, 12, 28, 10), bj(2036, 1, 10, 10)
    expected = _brute_elapsed(BusinessCalendar(last_year=2037), a.date(), b.date())
    assert fresh.elapsed(a, b) == expected


def test_elapsed_from_before_the_precomputed_span() -> None:
    fresh = BusinessCalendar()  # span 2015-2035
    a, b = bj(2014, 12, 1, 10), bj(2015, 1, 5, 10)
    expected = _brute_elapsed(BusinessCalendar(first_year=2013), a.date(), b.date())
    assert fresh.elapsed(a, b) == expected


# -- the edges of the precomputed span ------------------------------------------------------


def test_the_day_after_a_fresh_calendars_last_year_is_answered() -> None:
    fresh = BusinessCalendar(last_year=2030)  # 2020-2030 precomputed
    assert not fresh.is_business_day(date(2031, 1, 1))  # New Year's Day, a Wednesday
    assert fresh.is_business_day(date(2031, 1, 2))


def test_days_just_before_a_fresh_calendars_first_year_are_counted() -> None:
    fresh = BusinessCalendar(last_year=2030)  # 2020-2030 precomputed
    a, b = date(2019, 12, 20), date(2020, 1, 3)
    expected = _brute_elapsed(BusinessCalendar(first_year=2019), a, b)
    assert fresh.elapsed_days(a.toordinal(), b.toordinal()) == expected == 9


def test_a_long_count_from_near_the_end_of_the_span_reaches_past_it() -> None:
    fresh = BusinessCalendar(last_year=2030)  # 2020-2030 precomputed
    start = bj(2030, 12, 20, 10)
    wide = BusinessCalendar(last_year=2032)
    day, counted = start.date(), 0
    while counted < 20:
        day += timedelta(days=1)
        counted += wide.is_business_day(day)
    assert fresh.nth_business_day(start, 20) == day
    assert BusinessCalendar(last_year=2030).nth_business_day(
        bj(2030, 12, 27, 10), 5
    ) == wide.nth_business_day(bj(2030, 12, 27, 10), 5)


def test_business_days_are_counted_from_1970_to_2199_and_no_further() -> None:
    for day in (date(1969, 12, 31), date(2200, 1, 1)):
        with pytest.raises(InvalidInput) as refused:
            BusinessCalendar().is_business_day(day)
        assert str(refused.value) == "business days are counted from 1970 to 2199 only"
    fresh = BusinessCalendar()
    assert fresh.is_business_day(date(1970, 1, 5))  # a Monday
    assert fresh.is_business_day(date(2199, 12, 31))  # a Tuesday
