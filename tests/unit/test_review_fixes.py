"""Rules tightened after review: each test fails on the behaviour it replaced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from icp_tui.domain.calendar import BusinessCalendar
from icp_tui.domain.errors import InvalidInput, InvalidRecord, WithdrawNotAllowed
from icp_tui.domain.filing import BEIJING, Filing, from_record, to_record
from icp_tui.domain.sla import Health, SlaPolicy, sla_status
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import advance, withdraw

S = Stage
ACTOR = "alice"
MakeFiling = Callable[..., Filing]


def bj(y: int, m: int, d: int, hh: int = 0) -> datetime:
    return datetime(y, m, d, hh, tzinfo=BEIJING)


FRIDAY = bj(2026, 11, 20, 10)  # a plain Friday; Saturday 21 and Sunday 22 are rest days


def test_after_a_friday_due_the_weekend_is_breached(
    policy: SlaPolicy, make_filing: MakeFiling
) -> None:
    # Entered Thursday, 1 bd: due Friday 23:59:59. DOMAIN.md (issue 12): breached once past
    # the due time, business day or not; no business day is over yet, so it says calendar days.
    filing = make_filing(S.PHOTO_REVIEW, FRIDAY - timedelta(days=1))
    saturday = sla_status(filing, policy, bj(2026, 11, 21, 0))
    assert (saturday.health, saturday.left) == (Health.BREACHED, "1 d over")
    sunday = sla_status(filing, policy, bj(2026, 11, 22, 23))
    assert (sunday.health, sunday.left) == (Health.BREACHED, "2 d over")
    monday = sla_status(filing, policy, bj(2026, 11, 23, 9))
    assert (monday.health, monday.left) == (Health.BREACHED, "1 bd over")


@pytest.mark.parametrize("stage", [S.REJECTED, S.APPROVED])
def test_withdrawing_a_decided_filing_says_it_was_decided(
    make_filing: MakeFiling, stage: Stage
) -> None:
    filing = make_filing(stage, FRIDAY)
    with pytest.raises(WithdrawNotAllowed, match=f"was {stage.value}") as refused:
        withdraw(filing, FRIDAY + timedelta(hours=1), ACTOR, "applicant request")
    assert "wait for the authority" not in str(refused.value)


def test_an_icp_number_is_taken_only_when_approving(make_filing: MakeFiling) -> None:
    reviewing = make_filing(S.AUTHORITY_REVIEW, FRIDAY, province="Zhejiang")
    later = FRIDAY + timedelta(days=3)
    with pytest.raises(InvalidInput, match="only when approving"):
        advance(reviewing, later, ACTOR, S.REJECTED, icp_number="浙ICP备2026000001号")
    approved = advance(reviewing, later, ACTOR, S.APPROVED, icp_number="浙ICP备2026000001号")
    assert approved.icp_number == "浙ICP备2026000001号"


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+08:00", "9999-12-31T00:00:00+08:00"])
def test_a_stored_time_outside_the_calendar_is_refused(make_filing: MakeFiling, when: str) -> None:
    record: dict[str, Any] = to_record(make_filing(S.PRELIMINARY_REVIEW, FRIDAY))
    record["history"][0]["at"] = record["entered_at"] = record["submitted_at"] = when
    with pytest.raises(InvalidRecord, match=r"entered_at|'at'"):
        from_record(record)


def test_counting_past_the_calendar_range_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="2199"):
        BusinessCalendar().nth_business_day(bj(2199, 12, 1, 10), 400)


def test_a_wider_span_is_swapped_in_whole() -> None:
    calendar = BusinessCalendar(first_year=2025, last_year=2026)
    before = calendar.elapsed(bj(2026, 1, 5, 10), bj(2026, 2, 2, 10))
    calendar.elapsed(bj(2040, 1, 5, 10), bj(2040, 2, 2, 10))  # widens the span
    assert calendar.elapsed(bj(2026, 1, 5, 10), bj(2026, 2, 2, 10)) == before


def test_only_a_clock_that_breaches_counts_as_newly_breached(
    make_filing: MakeFiling,
) -> None:
    from icp_tui.config import Settings, load_reference
    from icp_tui.domain.transitions import add_note
    from icp_tui.queue import Queue

    reference = load_reference(Settings())
    # Submitted Monday: over 3 bd in review (escalated) by Friday, breached since Wednesday.
    monday = bj(2026, 11, 16, 10)
    filing = make_filing(S.PRELIMINARY_REVIEW, monday)
    queue = Queue(reference, bj(2026, 11, 17, 12))
    queue.put(filing)
    queue.refresh(bj(2026, 11, 18, 12))
    assert [e.id for e in queue.newly_breached] == [filing.id]
    queue.refresh(bj(2026, 11, 20, 11))  # escalated since Friday 00:00: not a new breach
    assert queue.newly_breached == []
    # A note later on: still breached and escalated, and nothing new to announce.
    noted = add_note(filing, bj(2026, 11, 20, 12), ACTOR, "called")
    entry = queue.put(noted)
    assert entry.escalate  # at once, not only from the next tick
    queue.refresh(
        bj(
            2026,
            11,
            20,
            12,
        )
    )
    assert queue.newly_breached == []


def test_mailed_materials_are_recorded_in_the_checklist_and_the_history(
    make_filing: MakeFiling,
) -> None:
    from icp_tui.domain.errors import TransitionNotAllowed
    from icp_tui.domain.transitions import record_materials

    waiting = make_filing(S.AWAITING_PHOTO, FRIDAY)
    mailed = record_materials(waiting, FRIDAY + timedelta(hours=1), ACTOR, received=False)
    assert (mailed.checklist.materials_mailed, mailed.checklist.materials_received) == (True, False)
    arrived = record_materials(mailed, FRIDAY + timedelta(hours=2), ACTOR, received=True)
    assert arrived.checklist.materials_received
    assert [t.reason for t in arrived.history[-2:]] == ["materials mailed", "materials received"]
    assert arrived.stage is S.AWAITING_PHOTO and arrived.last_move == waiting.last_move
    with pytest.raises(TransitionNotAllowed, match="communications administration"):
        record_materials(make_filing(S.AUTHORITY_REVIEW, FRIDAY), FRIDAY, ACTOR, received=True)
