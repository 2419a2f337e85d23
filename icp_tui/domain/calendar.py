"""Chinese statutory business days, precomputed so that due() and elapsed() are O(1).

A business day is Monday to Friday, minus public holidays, plus adjusted working days. The
official schedule comes from chinese-calendar; staff may add or correct whole years (see
`YearSchedule`). For a year with neither, only weekends are rest days and the year is reported
as unverified: the tool warns instead of guessing holidays.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

import chinese_calendar

from icp_tui.domain.filing import BEIJING

END_OF_DAY = time(23, 59, 59)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_UTC_OFFSET = 8 * 3600  # Beijing


def day_of(stamp: float) -> int:
    """The Beijing calendar date (as a date ordinal) of an epoch time."""
    return int((stamp + _UTC_OFFSET) // 86400) + _EPOCH_DAY


def day_start(day: int) -> float:
    """Epoch time of 00:00 Beijing on the date ordinal `day`."""
    return float((day - _EPOCH_DAY) * 86400 - _UTC_OFFSET)


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """A whole year's schedule given by staff: it replaces the library's for that year."""

    holidays: frozenset[date]
    workdays: frozenset[date]


def _library_says_workday(day: date) -> bool | None:
    """The official answer, or None where the library has no schedule for the year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class BusinessCalendar:
    """Business-day arithmetic in Beijing time over a precomputed span of years."""

    def __init__(
        self,
        overrides: Mapping[int, YearSchedule] | None = None,
        first_year: int = 2020,
        last_year: int = 2030,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._unverified: set[int] = set()
        self._build(first_year, last_year)

    def _build(self, first_year: int, last_year: int) -> None:
        self.first_year, self.last_year = first_year, last_year
        self._base = date(first_year, 1, 1).toordinal()
        # _count[i]: business days in [base, base + i]; _days: ordinals of business days.
        self._count: list[int] = []
        self._days: list[int] = []
        self._unverified.clear()
        total = 0
        for year in range(first_year, last_year + 1):
            works = self._year_rule(year)
            first = date(year, 1, 1).toordinal()
            for ordinal in range(first, date(year, 12, 31).toordinal() + 1):
                if works(date.fromordinal(ordinal)):
                    total += 1
                    self._days.append(ordinal)
                self._count.append(total)

    def _year_rule(self, year: int) -> Callable[[date], bool]:
        """How to tell a business day in `year`: staff's schedule, the official one, or
        (unverified) weekdays only. Asked once per year, not once per day."""
        schedule = self._overrides.get(year)
        if schedule is not None:
            extra, off = schedule.workdays, schedule.holidays
            return lambda day: day in extra or (day.weekday() < 5 and day not in off)
        if _library_says_workday(date(year, 1, 1)) is None:
            self._unverified.add(year)
            return lambda day: day.weekday() < 5
        return chinese_calendar.is_workday  # type: ignore[no-any-return]

    def _index(self, day: date) -> int:
        if not self.first_year <= day.year <= self.last_year:
            self._build(min(self.first_year, day.year - 1), max(self.last_year, day.year + 1))
        return day.toordinal() - self._base

    # -- questions about days ------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        """Whether staff, the applicant's bank and the authority work on `day`."""
        i = self._index(day)
        return self._count[i] != (self._count[i - 1] if i else 0)

    def is_verified(self, year: int) -> bool:
        """Whether `year` has an official or staff-given schedule."""
        self._index(date(year, 6, 30))
        return year not in self._unverified

    def unverified_years(self, years: Iterable[int]) -> list[int]:
        """The years among `years` that have no official schedule, in order."""
        return sorted({y for y in years if not self.is_verified(y)})

    # -- arithmetic (DOMAIN.md's counting convention) -----------------------------------

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business days d with date(start) < d <= date(end) (0 when end is not later)."""
        return self.elapsed_days(day_of(start.timestamp()), day_of(end.timestamp()))

    def elapsed_days(self, first: int, last: int) -> int:
        """`elapsed` on date ordinals: business days d with first < d <= last."""
        if last <= first:
            return 0
        self._cover(first, last)
        return self._count[last - self._base] - self._count[first - self._base]

    def nth_business_day(self, start: datetime, n: int) -> date:
        """The n-th business day strictly after the calendar date of `start` (n >= 1)."""
        return date.fromordinal(self.nth_after(day_of(start.timestamp()), n))

    def nth_after(self, day: int, n: int) -> int:
        """`nth_business_day` on date ordinals (the hot path of SLA computations)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        # Fewer than 2 calendar days per business day, plus the longest break.
        self._cover(day, day + 2 * n + 30)
        return self._days[self._count[day - self._base] + n - 1]

    def _cover(self, first: int, last: int) -> None:
        """Widen the precomputed span (a rebuild moves the base) to include both ordinals."""
        if first < self._base or last - self._base >= len(self._count):
            self._index(date.fromordinal(first))
            self._index(date.fromordinal(last))

    def due(self, start: datetime, n: int) -> datetime:
        """23:59:59 Beijing time on the n-th business day after the date of `start`."""
        return datetime.combine(self.nth_business_day(start, n), END_OF_DAY, BEIJING)

    def start_of_business_day(self, start: datetime, n: int) -> datetime:
        """00:00 Beijing time on the n-th business day after `start`: when elapsed reaches n."""
        return datetime.combine(self.nth_business_day(start, n), time(0), BEIJING)

    def business_days_between(self, first: date, last: date) -> list[date]:
        """The business days from `first` to `last`, both included."""
        self._index(last)
        self._index(first)
        lo = bisect_right(self._days, first.toordinal() - 1)
        hi = bisect_right(self._days, last.toordinal())
        return [date.fromordinal(o) for o in self._days[lo:hi]]
