"""Chinese statutory business days, precomputed so that due() and elapsed() are O(1).

A business day is Monday to Friday, minus public holidays, plus adjusted working days. The
official schedule comes from chinese-calendar; staff may add or correct whole years (see
`YearSchedule`). A year with neither is *provisional*: its holidays follow the statutory rules
(computed by the holidays library, lunar dates included) with no adjusted working days, and
every output that depends on it says so, until staff add the official schedule.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import NamedTuple

import chinese_calendar

from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.filing import BEIJING, MAX_YEAR, MIN_YEAR

END_OF_DAY = time(23, 59, 59)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_UTC_OFFSET = 8 * 3600  # Beijing


def _statutory_rule(year: int) -> Callable[[date], bool]:
    rest = statutory_holidays(year)
    return lambda day: day.weekday() < 5 and day not in rest


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


def statutory_holidays(year: int) -> frozenset[date]:
    """The public holidays the statutory rules give `year` (DOMAIN.md's list), without the
    State Council's bridging days off and adjusted working days, which only its notice fixes."""
    import holidays  # only for a year without an official schedule

    days = holidays.country_holidays("CN", years=year, observed=False)
    return frozenset(day for day, name in days.items() if "substituted" not in name)


def check_year_schedule(year: int, schedule: YearSchedule) -> None:
    """Refuse a staff-given year that contradicts itself or looks like no real schedule."""
    both = sorted(schedule.holidays & schedule.workdays)
    if both:
        raise InvalidInput(
            f"[{year}] lists {both[0].isoformat()} both as a holiday and as a working day"
        )
    statutory = statutory_holidays(year)
    if statutory and not schedule.holidays & statutory:
        raise InvalidInput(
            f"[{year}] has none of the statutory holidays (e.g. {year}-01-01, New Year's Day): "
            "list the whole year's schedule"
        )


def _library_says_workday(day: date) -> bool | None:
    """The official answer, or None where the library has no schedule for the year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class _Span(NamedTuple):
    """Precomputed years: running[i] = business days in [base, base + i]; days = their ordinals."""

    first_year: int
    last_year: int
    base: int
    running: list[int]
    days: list[int]
    provisional: frozenset[int]


class BusinessCalendar:
    """Business-day arithmetic in Beijing time over a precomputed span of years.

    The span widens on demand; a wider one is built aside and swapped in whole, so a reader
    in another thread (the dashboard's workers) always sees a complete table.
    """

    def __init__(
        self,
        overrides: Mapping[int, YearSchedule] | None = None,
        first_year: int = 2020,
        last_year: int | None = None,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._widening = threading.Lock()
        if last_year is None:
            last_year = self._last_scheduled(first_year)
        self._span = self._build(first_year, last_year)

    def _last_scheduled(self, first_year: int) -> int:
        """The last year from `first_year` on with a schedule (staff's or the official one):
        by default the span stops there, so that the statutory rules of the provisional
        years after it (the holidays library: a third of a second, with its import) are
        worked out only once a date in them is asked about."""
        year = first_year
        while year < MAX_YEAR and (
            year + 1 in self._overrides or _library_says_workday(date(year + 1, 1, 1)) is not None
        ):
            year += 1
        return max(year, *self._overrides) if self._overrides else year

    def _build(self, first_year: int, last_year: int) -> _Span:
        running: list[int] = []
        days: list[int] = []
        provisional = set()
        total = 0
        for year in range(first_year, last_year + 1):
            works = self._year_rule(year)
            if works is None:
                provisional.add(year)
                works = _statutory_rule(year)
            for ordinal in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1):
                if works(date.fromordinal(ordinal)):
                    total += 1
                    days.append(ordinal)
                running.append(total)
        base = date(first_year, 1, 1).toordinal()
        return _Span(first_year, last_year, base, running, days, frozenset(provisional))

    def _year_rule(self, year: int) -> Callable[[date], bool] | None:
        """How to tell a business day in `year`: staff's schedule or the official one; None
        for a year with neither. Asked once per year, not once per day."""
        schedule = self._overrides.get(year)
        if schedule is not None:
            extra, off = schedule.workdays, schedule.holidays
            return lambda day: day in extra or (day.weekday() < 5 and day not in off)
        if _library_says_workday(date(year, 1, 1)) is None:
            return None
        # chinese_calendar.is_workday's own answer, without its check of the year, which
        # scans the whole schedule on every call (two thirds of building the calendar).
        official_off: Mapping[date, object] = chinese_calendar.holidays
        official_extra: Mapping[date, object] = chinese_calendar.workdays
        return lambda day: day in official_extra or (day.weekday() < 5 and day not in official_off)

    def _covering(self, first: int, last: int) -> _Span:
        """A span that includes both date ordinals (widened, and swapped in, if needed)."""
        span = self._span
        if span.base <= first and last - span.base < len(span.running):
            return span
        low, high = date.fromordinal(first).year, date.fromordinal(last).year
        if not MIN_YEAR <= low <= high <= MAX_YEAR:
            raise InvalidInput(f"business days are counted from {MIN_YEAR} to {MAX_YEAR} only")
        with self._widening:
            span = self._span
            if not span.first_year <= low <= high <= span.last_year:
                span = self._span = self._build(
                    min(span.first_year, low - 1), max(span.last_year, high + 1)
                )
        return span

    # -- questions about days ------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        """Whether staff, the applicant's bank and the authority work on `day`."""
        ordinal = day.toordinal()
        span = self._covering(ordinal, ordinal)
        i = ordinal - span.base
        return span.running[i] != (span.running[i - 1] if i else 0)

    def is_provisional(self, year: int) -> bool:
        """Whether `year` has no official or staff-given schedule (statutory rules only)."""
        middle = date(year, 6, 30).toordinal()
        return year in self._covering(middle, middle).provisional

    def provisional_years(self, years: Iterable[int]) -> list[int]:
        """The years among `years` that are provisional, in order."""
        return sorted({y for y in years if self.is_provisional(y)})

    # -- arithmetic (DOMAIN.md's counting convention) -----------------------------------

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Business days d with date(start) < d <= date(end) (0 when end is not later)."""
        return self.elapsed_days(day_of(start.timestamp()), day_of(end.timestamp()))

    def elapsed_days(self, first: int, last: int) -> int:
        """`elapsed` on date ordinals: business days d with first < d <= last."""
        if last <= first:
            return 0
        span = self._covering(first, last)
        return span.running[last - span.base] - span.running[first - span.base]

    def nth_business_day(self, start: datetime, n: int) -> date:
        """The n-th business day strictly after the calendar date of `start` (n >= 1)."""
        return date.fromordinal(self.nth_after(day_of(start.timestamp()), n))

    def nth_after(self, day: int, n: int) -> int:
        """`nth_business_day` on date ordinals (the hot path of SLA computations)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        # Fewer than 2 calendar days per business day, plus the longest break.
        span = self._covering(day, day + 2 * n + 30)
        return span.days[span.running[day - span.base] + n - 1]

    def due(self, start: datetime, n: int) -> datetime:
        """23:59:59 Beijing time on the n-th business day after the date of `start`."""
        return datetime.combine(self.nth_business_day(start, n), END_OF_DAY, BEIJING)

    def start_of_business_day(self, start: datetime, n: int) -> datetime:
        """00:00 Beijing time on the n-th business day after `start`: when elapsed reaches n."""
        return datetime.combine(self.nth_business_day(start, n), time(0), BEIJING)

    def business_days_between(self, first: date, last: date) -> list[date]:
        """The business days from `first` to `last`, both included."""
        days = self._covering(first.toordinal(), last.toordinal()).days
        lo = bisect_right(days, first.toordinal() - 1)
        hi = bisect_right(days, last.toordinal())
        return [date.fromordinal(o) for o in days[lo:hi]]
