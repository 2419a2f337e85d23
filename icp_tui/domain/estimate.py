"""When will it be approved: an estimate from the province's own finished authority reviews.

The communications administrations publish no queue times, but the database holds every review
the team has watched: how many business days each took, from entry to decision. A filing now in
`authority_review` is likely decided as its province's recent reviews were: the median (P50) and
the 90th percentile (P90) of those, counted in business days from the day it entered, with the
same calendar as every deadline. With too few recent reviews the province's target stands in.

Percentiles are nearest-rank (the smallest sample with at least p % of the samples at or below
it), so an estimate is always a number of days some real review took.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from icp_tui.domain.calendar import END_OF_DAY, BusinessCalendar, day_of
from icp_tui.domain.filing import BEIJING, Filing
from icp_tui.domain.naming import counted
from icp_tui.domain.sla import SlaPolicy
from icp_tui.domain.stages import Stage
from icp_tui.domain.summary import FilingSummary, authority_reviews

#: Reviews decided within this many days before `now` count (DOMAIN: "a setting").
DEFAULT_WINDOW_DAYS = 180
#: Fewer finished reviews than this in the window: the province's target stands in.
MIN_SAMPLES = 5


@dataclass(frozen=True, slots=True)
class FinishedReview:
    """One authority review that reached a decision."""

    province: str
    entered_at: datetime
    decided_at: datetime
    days: int  # business days from entry to decision (DOMAIN.md's elapsed)


def finished_reviews(filing: Filing, calendar: BusinessCalendar) -> Iterator[FinishedReview]:
    """Each finished authority review of `filing`, oldest first (see `authority_reviews`)."""
    for entered, decided in authority_reviews(filing.history):
        yield FinishedReview(filing.province, entered, decided, calendar.elapsed(entered, decided))


def summary_reviews(summary: FilingSummary, calendar: BusinessCalendar) -> list[FinishedReview]:
    """The finished reviews a summary keeps (its `reviews` must be known)."""
    assert summary.reviews is not None
    return [
        FinishedReview(
            summary.province,
            datetime.fromtimestamp(entered, BEIJING),
            datetime.fromtimestamp(decided, BEIJING),
            calendar.elapsed_days(day_of(entered), day_of(decided)),
        )
        for entered, decided in summary.reviews
    ]


def percentile(ordered: list[int], p: float) -> int:
    """The nearest-rank p-th percentile (0 < p <= 100) of a non-empty ascending list."""
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


class Basis(StrEnum):
    """What an estimate rests on."""

    HISTORY = "history"  # the province's finished reviews in the window
    TARGET = "target"  # too few of those: the province's target


@dataclass(frozen=True, slots=True)
class ApprovalEstimate:
    """When a filing in authority review is likely decided."""

    p50: datetime  # half of the province's reviews were decided by the same point
    p90: datetime  # nine in ten
    samples: int  # finished reviews in the window (those the estimate rests on, or too few)
    basis: Basis
    p50_days: int
    p90_days: int


class ReviewHistory:
    """The finished reviews of each province within a window before `now`, kept sorted by
    business days taken, so an estimate is a lookup: it costs nothing on a clock tick. Add a
    review when one closes; move the window when the day changes (`move_to`)."""

    def __init__(
        self,
        reviews: Iterable[FinishedReview],
        now: datetime,
        window_days: int = DEFAULT_WINDOW_DAYS,
    ) -> None:
        self.window = timedelta(days=window_days)
        self.since = self._start(now)
        self._days: dict[str, list[int]] = {}
        #: The same reviews by decision time, so that the window's start drops the oldest.
        self._decided: dict[str, list[tuple[datetime, int]]] = {}
        # Sorted once at the end: inserting each in order costs a province's length each.
        for review in reviews:
            if review.decided_at >= self.since:
                self._days.setdefault(review.province, []).append(review.days)
                self._decided.setdefault(review.province, []).append(
                    (review.decided_at, review.days)
                )
        for taken in self._days.values():
            taken.sort()
        for decided in self._decided.values():
            decided.sort()

    def _start(self, now: datetime) -> datetime:
        # Whole Beijing days: the window moves once a day (as the queue moves it), so a queue
        # stepped to an instant counts the same reviews as one rebuilt there.
        today = datetime.combine(now.astimezone(BEIJING).date(), time(), BEIJING)
        return today - self.window

    def add(self, review: FinishedReview) -> None:
        if review.decided_at >= self.since:
            insort(self._days.setdefault(review.province, []), review.days)
            insort(self._decided.setdefault(review.province, []), (review.decided_at, review.days))

    def remove(self, review: FinishedReview) -> None:
        """Take back a review added before (its decision was undone, or the queue moved)."""
        if review.decided_at >= self.since and review.province in self._days:
            _discard(self._days[review.province], review.days)
            _discard(self._decided[review.province], (review.decided_at, review.days))

    def move_to(self, now: datetime) -> set[str] | None:
        """Start the window `window_days` before `now`; the provinces whose reviews changed,
        or None when the window went back (reviews dropped are gone: build a new one)."""
        since = self._start(now)
        if since < self.since:
            return None
        self.since = since
        changed = set()
        for province, decided in self._decided.items():
            expired = bisect_left(decided, (since,))
            if expired:
                # One pass over the province's days, not a deletion (and a shift of the rest)
                # for each review that left: a day's worth is hundreds at 100,000 filings.
                leaving = Counter(days for _, days in decided[:expired])
                kept = []
                for days in self._days[province]:
                    if leaving[days]:
                        leaving[days] -= 1
                    else:
                        kept.append(days)
                self._days[province] = kept
                del decided[:expired]
                changed.add(province)
        return changed

    def provinces(self) -> list[str]:
        """The provinces with at least one review in the window, by name."""
        return sorted(province for province, taken in self._days.items() if taken)

    def days(self, province: str) -> list[int]:
        """Business days each review of `province` took, ascending."""
        return list(self._days.get(province, ()))

    def estimate(self, province: str, entered_at: datetime, policy: SlaPolicy) -> ApprovalEstimate:
        """The estimate for a filing of `province` that entered authority review then."""
        taken = self._days.get(province, [])
        if len(taken) >= MIN_SAMPLES:
            p50, p90, basis = percentile(taken, 50), percentile(taken, 90), Basis.HISTORY
        else:
            target = policy.target(Stage.AUTHORITY_REVIEW, province)
            assert target is not None  # authority review always runs on business days
            p50 = p90 = target
            basis = Basis.TARGET
        return ApprovalEstimate(
            p50=decided_by(policy.calendar, entered_at, p50),
            p90=decided_by(policy.calendar, entered_at, p90),
            samples=len(taken),
            basis=basis,
            p50_days=p50,
            p90_days=p90,
        )


def _discard(ordered: list[Any], value: Any) -> None:
    """Remove one `value` from an ascending list, if it is there."""
    at = bisect_left(ordered, value)
    if at < len(ordered) and ordered[at] == value:
        del ordered[at]


def decided_by(calendar: BusinessCalendar, entered_at: datetime, days: int) -> datetime:
    """The end of the day a review taking `days` business days is decided (0: the entry day)."""
    if days < 1:
        return datetime.combine(entered_at.astimezone(BEIJING).date(), END_OF_DAY, BEIJING)
    return calendar.due(entered_at, days)


def eta_words(estimate: ApprovalEstimate, province: str) -> str:
    """The estimate as staff read it (the caller makes `province` inert for display)."""
    p50 = estimate.p50.astimezone(BEIJING).date().isoformat()
    reviews = counted(estimate.samples, "review")
    if estimate.basis is Basis.TARGET:
        return (
            f"likely approved {p50} by target ({estimate.p50_days} bd in {province}; only "
            f"{reviews} in the window, fewer than {MIN_SAMPLES})"
        )
    p90 = estimate.p90.astimezone(BEIJING).date().isoformat()
    return f"likely approved {p50}, 9 in 10 by {p90}, from {reviews} in {province}"


def estimate_lines(estimate: ApprovalEstimate, province: str, now: datetime) -> list[str]:
    """The estimate, then what staff are told once it is overdue: the lines the detail pane
    and `show` both give (the caller makes them inert)."""
    overdue = overdue_words(estimate, now)
    return [eta_words(estimate, province), *([overdue] if overdue else [])]


def overdue_words(estimate: ApprovalEstimate, now: datetime) -> str | None:
    """What staff are told once `now` is past the estimate's last day, else None."""
    if now <= estimate.p90:
        return None
    if estimate.basis is Basis.HISTORY:
        return "slower than 9 in 10 already"
    return "past the target already"  # a target estimate's P50 and P90 are the target
