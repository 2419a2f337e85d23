"""The approval estimate: percentiles of a province's finished authority reviews in a window,
counted in business days from the day a filing entered authority review; the target when
there are too few reviews."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import HAPPY_PATH, S, bj

from icp_tui.domain.calendar import BusinessCalendar
from icp_tui.domain.estimate import (
    MIN_SAMPLES,
    ApprovalEstimate,
    Basis,
    FinishedReview,
    ReviewHistory,
    decided_by,
    estimate_lines,
    eta_words,
    finished_reviews,
    overdue_words,
    percentile,
    summary_reviews,
)
from icp_tui.domain.filing import Filing
from icp_tui.domain.sla import SlaPolicy
from icp_tui.domain.summary import summarize

NOW = bj(2026, 6, 30, 12)


DECIDED = bj(2026, 6, 1, 10)


def review(days: int, decided: datetime = DECIDED, province: str = "Beijing") -> FinishedReview:
    return FinishedReview(province, bj(2026, 5, 1), decided, days)


@pytest.mark.parametrize(
    ("samples", "p50", "p90"),
    [
        ([7], 7, 7),
        ([1, 2, 3, 4, 5], 3, 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5, 9),
        ([3, 3, 3, 20, 20, 20], 3, 20),
        (list(range(1, 101)), 50, 90),
        (list(range(1, 1001)), 500, 900),
    ],
)
def test_nearest_rank_percentiles_on_known_samples(samples: list[int], p50: int, p90: int) -> None:
    assert (percentile(samples, 50), percentile(samples, 90)) == (p50, p90)


@given(st.lists(st.integers(0, 60), min_size=1, max_size=200))
def test_a_percentile_is_a_sample_with_enough_at_or_below_it(samples: list[int]) -> None:
    ordered = sorted(samples)
    for p in (50, 90):
        value = percentile(ordered, p)
        assert value in ordered
        assert sum(v <= value for v in ordered) >= p / 100 * len(ordered)
        assert sum(v < value for v in ordered) < p / 100 * len(ordered)


def test_the_estimate_counts_business_days_from_entry_across_a_holiday(
    policy: SlaPolicy,
) -> None:
    history = ReviewHistory([review(d) for d in (2, 3, 3, 4, 10)], NOW)
    # Entered Wed 2026-09-30: 1-7 October are the National Day break and Sat 2026-10-10 is
    # worked, so the 3rd business day after it is that Saturday (8th, 9th, 10th).
    estimate = history.estimate("Beijing", bj(2026, 9, 30, 16), policy)
    assert estimate.basis is Basis.HISTORY and estimate.samples == 5
    assert (estimate.p50_days, estimate.p90_days) == (3, 10)
    assert estimate.p50 == policy.calendar.due(bj(2026, 9, 30, 16), 3)
    assert estimate.p50.date().isoformat() == "2026-10-10"
    assert estimate.p90 == policy.calendar.due(bj(2026, 9, 30, 16), 10)


def test_with_too_few_reviews_the_target_stands_in(policy: SlaPolicy) -> None:
    few = ReviewHistory([review(2, province="Zhejiang")] * (MIN_SAMPLES - 1), NOW)
    entered = bj(2026, 6, 1, 9)
    estimate = few.estimate("Zhejiang", entered, policy)
    assert estimate.basis is Basis.TARGET and estimate.samples == MIN_SAMPLES - 1
    assert (estimate.p50_days, estimate.p90_days) == (30, 30)  # Zhejiang's target
    assert estimate.p50 == estimate.p90 == policy.calendar.due(entered, 30)
    # Another province's reviews never count for this one.
    other = ReviewHistory([review(2, province="Beijing")] * 10, NOW)
    assert other.estimate("Zhejiang", entered, policy).samples == 0


def test_only_reviews_decided_within_the_window_count(policy: SlaPolicy) -> None:
    old = [review(30, decided=bj(2025, 12, 1))] * 10
    recent = [review(4, decided=bj(2026, 6, 29))] * 5
    history = ReviewHistory(old + recent, NOW)
    assert history.days("Beijing") == [4] * 5
    wider = ReviewHistory(old + recent, NOW, window_days=400)
    assert len(wider.days("Beijing")) == 15


def test_a_review_added_when_it_closes_moves_the_estimate(policy: SlaPolicy) -> None:
    history = ReviewHistory([review(3)] * 4, NOW)
    entered = bj(2026, 6, 1, 9)
    assert history.estimate("Beijing", entered, policy).basis is Basis.TARGET
    history.add(review(9))
    estimate = history.estimate("Beijing", entered, policy)
    assert (estimate.basis, estimate.p50_days, estimate.p90_days) == (Basis.HISTORY, 3, 9)


def test_a_review_decided_on_its_entry_day_is_estimated_for_that_day(
    cal: BusinessCalendar,
) -> None:
    assert decided_by(cal, bj(2026, 6, 1, 9), 0) == bj(2026, 6, 1, 23, 59, 59)
    # The entry day is Beijing's, whatever zone the entry time is given in.
    early = bj(2026, 6, 1, 6).astimezone(UTC)  # 2026-05-31 22:00 UTC
    assert decided_by(cal, early, 0) == bj(2026, 6, 1, 23, 59, 59)
    assert decided_by(cal, bj(2026, 6, 1, 9), 1) == bj(2026, 6, 2, 23, 59, 59)


def test_the_median_and_the_90th_percentile_of_ten_reviews(policy: SlaPolicy) -> None:
    history = ReviewHistory([review(d) for d in range(1, 11)], NOW)
    estimate = history.estimate("Beijing", bj(2026, 6, 1, 9), policy)
    assert (estimate.basis, estimate.samples) == (Basis.HISTORY, 10)
    assert (estimate.p50_days, estimate.p90_days) == (5, 9)


def into_review(year: int, month: int, day: int) -> list[tuple[S, datetime]]:
    """Submitted at 09:00 and in authority review at 14:00 the same day, a stage an hour."""
    return [(stage, bj(year, month, day, 9 + i)) for i, stage in enumerate(HAPPY_PATH[:6])]


def test_finished_reviews_read_the_history(
    filing_from_moves: Callable[..., Filing], cal: BusinessCalendar
) -> None:
    moves = [
        *into_review(2026, 3, 2),
        (S.REJECTED, bj(2026, 3, 6, 10)),  # 4 bd
        (S.PRELIMINARY_REVIEW, bj(2026, 3, 9, 9)),
        (S.AWAITING_PHOTO, bj(2026, 3, 9, 10)),
        (S.PHOTO_REVIEW, bj(2026, 3, 9, 11)),
        (S.AWAITING_SUBMISSION, bj(2026, 3, 9, 12)),
        (S.SMS_VERIFICATION, bj(2026, 3, 9, 13)),
        (S.AUTHORITY_REVIEW, bj(2026, 3, 10, 9)),
        (S.APPROVED, bj(2026, 3, 17, 9)),  # 5 bd
    ]
    filing = filing_from_moves(moves, province="Hebei")
    reviews = list(finished_reviews(filing, cal))
    assert [(r.province, r.days, r.entered_at, r.decided_at) for r in reviews] == [
        ("Hebei", 4, bj(2026, 3, 2, 14), bj(2026, 3, 6, 10)),
        ("Hebei", 5, bj(2026, 3, 10, 9), bj(2026, 3, 17, 9)),
    ]
    # A filing still in review has no finished review.
    assert list(finished_reviews(filing_from_moves(moves[:6]), cal)) == []


def test_a_summary_row_gives_the_same_reviews_as_the_record(
    filing_from_moves: Callable[..., Filing], cal: BusinessCalendar
) -> None:
    moves = [
        *into_review(2026, 3, 2),
        (S.APPROVED, bj(2026, 3, 6, 10)),
    ]
    filing = filing_from_moves(moves, province="Hebei")
    reviews = summary_reviews(summarize(filing), cal)
    assert reviews == list(finished_reviews(filing, cal))
    assert [(r.entered_at, r.decided_at, r.days) for r in reviews] == [
        (bj(2026, 3, 2, 14), bj(2026, 3, 6, 10), 4)
    ]


def test_moving_the_window_on_drops_the_reviews_decided_before_its_start(
    policy: SlaPolicy,
) -> None:
    history = ReviewHistory(
        [review(3, decided=bj(2026, 1, 10)), review(9, decided=bj(2026, 3, 1))]
        + [review(4, decided=bj(2026, 6, 1))] * 5,
        NOW,  # the window starts 2026-01-01
    )
    assert history.days("Beijing") == [3, 4, 4, 4, 4, 4, 9]
    assert history.move_to(bj(2026, 7, 30)) == {"Beijing"}  # from 2026-01-31
    assert history.days("Beijing") == [4, 4, 4, 4, 4, 9]
    assert history.move_to(bj(2026, 7, 31)) == set()
    assert history.move_to(NOW) is None  # back: the dropped reviews are gone, count afresh
    # The same reviews counted afresh give the same distribution as moving the window.
    fresh = ReviewHistory(
        [review(3, decided=bj(2026, 1, 10)), review(9, decided=bj(2026, 3, 1))]
        + [review(4, decided=bj(2026, 6, 1))] * 5,
        bj(2026, 7, 30),
    )
    assert fresh.days("Beijing") == [4, 4, 4, 4, 4, 9]


def test_moving_the_window_drops_only_the_old_review_of_equal_length() -> None:
    # Reviews that took the same number of days: the one that left the window goes, the
    # others stay.
    history = ReviewHistory(
        [review(4, decided=bj(2026, 1, 10))] + [review(4, decided=bj(2026, 6, 1))] * 2,
        NOW,  # the window starts 2026-01-01
    )
    assert history.move_to(bj(2026, 7, 30)) == {"Beijing"}  # from 2026-01-31
    assert history.days("Beijing") == [4, 4]


def test_taking_back_a_review_removes_it_and_nothing_else(policy: SlaPolicy) -> None:
    """An undone decision takes its review back; one that was never counted (decided before
    the window, or with days no counted review took) leaves the counted ones alone."""
    since = bj(2026, 1, 1)  # the start of NOW's Beijing day, less the 180-day window
    history = ReviewHistory([review(3), review(4), review(4, decided=since)], NOW)
    assert history.days("Beijing") == [3, 4, 4]
    history.remove(review(4, decided=bj(2025, 12, 31)))  # before the window: never counted
    history.remove(review(2))
    history.remove(review(9))
    assert history.days("Beijing") == [3, 4, 4]
    history.remove(review(4, decided=since))  # decided at the window's very start
    assert history.days("Beijing") == [3, 4]
    assert history.move_to(bj(2026, 11, 29, 12)) == {"Beijing"}  # from 2026-06-02
    assert history.days("Beijing") == []


def test_the_estimate_in_words_from_history_or_target(policy: SlaPolicy) -> None:
    entered = bj(2026, 6, 1, 9)
    history = ReviewHistory([review(d) for d in (2, 3, 3, 4, 10)], NOW)
    from_history = history.estimate("Beijing", entered, policy)
    assert eta_words(from_history, "Beijing") == (
        "likely approved 2026-06-04, 9 in 10 by 2026-06-15, from 5 reviews in Beijing"
    )
    one = ReviewHistory([review(2, province="Zhejiang")], NOW).estimate("Zhejiang", entered, policy)
    assert eta_words(one, "Zhejiang") == (
        "likely approved 2026-07-14 by target (30 bd in Zhejiang; only 1 review in the "
        "window, fewer than 5)"
    )
    none = ReviewHistory([], NOW).estimate("Zhejiang", entered, policy)
    assert "only 0 reviews in the window" in eta_words(none, "Zhejiang")


@pytest.fixture
def server_in_tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone east of Beijing (POSIX form: no zone database needed)."""
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("server_in_tokyo")
def test_the_date_in_words_is_the_beijing_date() -> None:
    """A decision due 23:59:59 in Beijing is already the next day in Tokyo: the words give
    Beijing's date, whatever zone the instants or the server are in."""
    at = bj(2026, 6, 4, 23, 59, 59).astimezone(timezone(timedelta(hours=9)))
    estimate = ApprovalEstimate(at, at, 5, Basis.HISTORY, 3, 3)
    assert eta_words(estimate, "Beijing") == (
        "likely approved 2026-06-04, 9 in 10 by 2026-06-04, from 5 reviews in Beijing"
    )


def test_overdue_once_past_the_estimate_s_last_day(policy: SlaPolicy) -> None:
    entered = bj(2026, 6, 1, 9)
    history = ReviewHistory([review(d) for d in (2, 3, 3, 4, 10)], NOW)
    from_history = history.estimate("Beijing", entered, policy)
    assert overdue_words(from_history, from_history.p90) is None
    assert overdue_words(from_history, bj(2026, 6, 16)) == "slower than 9 in 10 already"
    target = ReviewHistory([], NOW).estimate("Zhejiang", entered, policy)
    assert overdue_words(target, target.p90) is None
    assert overdue_words(target, bj(2026, 7, 15)) == "past the target already"


def test_a_province_with_no_reviews_and_a_window_not_moved(policy: SlaPolicy) -> None:
    history = ReviewHistory([review(3)], NOW)
    assert history.days("Hebei") == []
    assert history.move_to(NOW) == set()  # the same window: nothing changed, nothing lost
    assert history.days("Beijing") == [3]


def test_the_estimate_s_lines_add_the_overdue_words_once_past_its_last_day() -> None:
    p50, p90 = bj(2026, 6, 4, 23, 59, 59), bj(2026, 6, 8, 23, 59, 59)
    estimate = ApprovalEstimate(p50, p90, 1, Basis.HISTORY, 3, 5)
    eta = "likely approved 2026-06-04, 9 in 10 by 2026-06-08, from 1 review in Hebei"
    assert estimate_lines(estimate, "Hebei", p90) == [eta]
    assert estimate_lines(estimate, "Hebei", bj(2026, 6, 9)) == [
        eta,
        "slower than 9 in 10 already",
    ]


def test_the_window_is_whole_beijing_days() -> None:
    """It starts at midnight, 180 days before now's day: a queue that moves its window once a
    day (a step in time within a day) counts what one rebuilt at the instant counts."""
    early = review(4, decided=bj(2026, 1, 1, 6))  # NOW is 2026-06-30 12:00
    assert ReviewHistory([early], NOW).days("Beijing") == [4]
    assert ReviewHistory([early], bj(2026, 6, 30, 23, 59)).days("Beijing") == [4]
    assert ReviewHistory([early], bj(2026, 7, 1)).days("Beijing") == []
