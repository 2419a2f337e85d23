"""SLA targets, health at a given time, escalation and the "most urgent first" order.

All dates are in March-April 2025 unless said otherwise: no holiday there except Friday
2025-04-04 (Tomb-sweeping Day). Monday 2025-03-03 is the usual entry day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_tui.domain.calendar import BusinessCalendar
from icp_tui.domain.filing import BEIJING, Filing
from icp_tui.domain.provinces import Province, ProvinceTable
from icp_tui.domain.sla import (
    DEFAULT_AUTHORITY_TARGET_BD,
    HEALTH_ORDER,
    Deadlines,
    Health,
    SlaPolicy,
    duration_in_words,
    review_days_used,
    sla_status,
    sla_times,
)
from icp_tui.domain.stages import Stage
from icp_tui.domain.summary import summarize
from icp_tui.domain.transitions import add_note, advance, undo

S = Stage
H = Health
MakeFiling = Callable[..., Filing]


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BEIJING)


MONDAY = bj(2025, 3, 3, 10)


# -- targets per stage -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "province", "target"),
    [
        (S.PRELIMINARY_REVIEW, "Beijing", 1),
        (S.PHOTO_REVIEW, "Beijing", 1),
        (S.AWAITING_SUBMISSION, "Beijing", 1),
        (S.PRELIMINARY_REVIEW, "Zhejiang", 1),  # the province only matters to the authority
        (S.AUTHORITY_REVIEW, "Zhejiang", 30),
        (S.AUTHORITY_REVIEW, "Beijing", 20),
        (S.AUTHORITY_REVIEW, "Atlantis", 20),
        (S.SMS_VERIFICATION, "Beijing", 24),
        (S.RETURNED, "Beijing", None),
        (S.AWAITING_PHOTO, "Beijing", None),
        (S.APPROVED, "Beijing", None),
        (S.REJECTED, "Beijing", None),
        (S.WITHDRAWN, "Beijing", None),
    ],
)
def test_target_per_stage(policy: SlaPolicy, stage: Stage, province: str, target: int) -> None:
    assert policy.target(stage, province) == target


def test_default_authority_target_is_the_regulation_limit() -> None:
    assert DEFAULT_AUTHORITY_TARGET_BD == 20


def test_authority_targets_can_come_from_the_province_table(policy: SlaPolicy) -> None:
    table = ProvinceTable(
        [
            Province("Zhejiang", ("浙江", "浙江省"), 30, requires_mailing=False),
            Province("Shanghai", ("上海",), 7, requires_mailing=True),
        ]
    )
    from_table = SlaPolicy(policy.calendar, authority_targets=table.authority_targets())
    assert from_table.target(S.AUTHORITY_REVIEW, "Zhejiang") == 30
    assert from_table.target(S.AUTHORITY_REVIEW, "Shanghai") == 7
    assert from_table.target(S.AUTHORITY_REVIEW, "Beijing") == 20
    assert table.resolve(" 浙江省 ").name == "Zhejiang"


@pytest.mark.parametrize(
    ("stage", "unit"),
    [
        (S.PRELIMINARY_REVIEW, "bd"),
        (S.PHOTO_REVIEW, "bd"),
        (S.AWAITING_SUBMISSION, "bd"),
        (S.AUTHORITY_REVIEW, "bd"),
        (S.SMS_VERIFICATION, "h"),
    ],
)
def test_running_stages_measure_in_their_unit(
    policy: SlaPolicy, make_filing: MakeFiling, stage: Stage, unit: str
) -> None:
    status = sla_status(make_filing(stage, MONDAY), policy, MONDAY + timedelta(minutes=1))
    assert status.unit == unit
    assert status.health is H.ON_TRACK
    assert status.used == 0


@pytest.mark.parametrize("stage", [S.RETURNED, S.AWAITING_PHOTO])
def test_paused_stages_are_waiting(
    policy: SlaPolicy, make_filing: MakeFiling, stage: Stage
) -> None:
    filing = make_filing(stage, MONDAY)
    status = sla_status(filing, policy, bj(2025, 3, 6, 10))
    assert status.health is H.WAITING
    assert status.left == "waiting 3 d"
    assert status.due_at is None
    assert status.target is None
    assert status.unit == ""  # no clock runs: nothing to count in
    # Much later still waiting, never breached.
    assert sla_status(filing, policy, bj(2026, 3, 6, 10)).health is H.WAITING


def test_waiting_words_for_shorter_waits(policy: SlaPolicy, make_filing: MakeFiling) -> None:
    filing = make_filing(S.AWAITING_PHOTO, MONDAY)
    assert sla_status(filing, policy, MONDAY + timedelta(minutes=40)).left == "waiting 40 min"
    assert sla_status(filing, policy, MONDAY + timedelta(hours=5)).left == "waiting 5 h"
    assert sla_status(filing, policy, MONDAY + timedelta(hours=47)).left == "waiting 47 h"
    assert sla_status(filing, policy, MONDAY + timedelta(hours=48)).left == "waiting 2 d"


@pytest.mark.parametrize("stage", [S.APPROVED, S.REJECTED, S.WITHDRAWN])
def test_closed_stages_are_done(policy: SlaPolicy, make_filing: MakeFiling, stage: Stage) -> None:
    status = sla_status(make_filing(stage, MONDAY), policy, bj(2026, 1, 1))
    assert status.health is H.DONE
    assert status.left == "closed"
    assert status.escalate is False
    assert status.unit == ""
    assert status.target is None


def test_duration_in_words() -> None:
    assert duration_in_words(timedelta(seconds=-5)) == "0 min"
    assert duration_in_words(timedelta(minutes=59, seconds=59)) == "59 min"
    assert duration_in_words(timedelta(hours=1)) == "1 h"
    assert duration_in_words(timedelta(days=3, hours=5)) == "3 d"


# -- health boundaries, business days -----------------------------------------------------


@pytest.mark.parametrize(
    ("now", "health", "used", "left"),
    [
        (bj(2025, 3, 3, 10), H.ON_TRACK, 0, "1 bd left"),  # Monday, just entered
        (bj(2025, 3, 3, 23, 59, 59), H.ON_TRACK, 0, "1 bd left"),
        (bj(2025, 3, 4, 0, 0, 0), H.AT_RISK, 1, "due today"),  # Tuesday: the due day
        (bj(2025, 3, 4, 23, 59, 59), H.AT_RISK, 1, "due today"),
        (bj(2025, 3, 5, 0, 0, 0), H.BREACHED, 2, "1 bd over"),  # Wednesday
        (bj(2025, 3, 6, 0, 0, 0), H.BREACHED, 3, "2 bd over"),  # Thursday
    ],
)
def test_one_business_day_target_boundaries(
    policy: SlaPolicy,
    make_filing: MakeFiling,
    now: datetime,
    health: Health,
    used: int,
    left: str,
) -> None:
    # Entered preliminary_review Monday 2025-03-03 10:00, N = 1: due Tuesday 23:59:59.
    status = sla_status(make_filing(S.PRELIMINARY_REVIEW, MONDAY), policy, now)
    assert (status.health, status.used, status.left) == (health, used, left)
    assert status.target == 1
    assert status.due_at == bj(2025, 3, 4, 23, 59, 59)


def test_boundaries_hold_in_utc_too(policy: SlaPolicy, make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)

    def health_at(*args: int) -> Health:
        return sla_status(filing, policy, datetime(*args, tzinfo=UTC)).health

    # Tuesday 00:00 Beijing is Monday 16:00Z; Wednesday 00:00 Beijing is Tuesday 16:00Z.
    assert health_at(2025, 3, 3, 15, 59, 59) is H.ON_TRACK
    assert health_at(2025, 3, 3, 16, 0, 0) is H.AT_RISK
    assert health_at(2025, 3, 4, 15, 59, 59) is H.AT_RISK
    assert health_at(2025, 3, 4, 16, 0, 0) is H.BREACHED


def test_a_small_at_risk_fraction_of_a_two_day_target_is_at_risk_from_day_one(
    cal: BusinessCalendar, make_filing: MakeFiling
) -> None:
    # 25 % of 2 bd is half a day: the first day with that much used is day 1 (Tue 3-4).
    policy = SlaPolicy(calendar=cal, review_target_bd=2, at_risk_fraction=0.25)
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    assert sla_status(filing, policy, bj(2025, 3, 3, 23, 59, 59)).health is H.ON_TRACK
    status = sla_status(filing, policy, bj(2025, 3, 4, 0))
    assert status.health is H.AT_RISK
    assert status.left == "1 bd left"
    assert sla_status(filing, policy, bj(2025, 3, 5, 23, 59, 59)).left == "due today"


@pytest.mark.parametrize(
    ("now", "health", "left"),
    [
        # Business days after Mon 2025-03-03: Mar 4 = 1 ... Mar 21 = 14, Mar 24 = 15, Mar 31 = 20.
        (bj(2025, 3, 21, 23), H.ON_TRACK, "6 bd left"),  # 14 used
        (bj(2025, 3, 24, 0), H.AT_RISK, "5 bd left"),  # 15 used = 75 %
        (bj(2025, 3, 28, 12), H.AT_RISK, "1 bd left"),  # 19 used
        (bj(2025, 3, 31, 8), H.AT_RISK, "due today"),  # 20 used
        (bj(2025, 4, 1, 0), H.BREACHED, "1 bd over"),  # 21 used
    ],
)
def test_twenty_business_day_target(
    policy: SlaPolicy, make_filing: MakeFiling, now: datetime, health: Health, left: str
) -> None:
    filing = make_filing(S.AUTHORITY_REVIEW, MONDAY, province="Beijing")
    status = sla_status(filing, policy, now)
    assert (status.health, status.left) == (health, left)
    assert status.target == 20
    assert status.due_at == bj(2025, 3, 31, 23, 59, 59)


@pytest.mark.parametrize(
    ("now", "health", "left"),
    [
        # ... Mar 31 = 20, Apr 1 = 21, Apr 2 = 22, Apr 3 = 23, (Apr 4 Tomb-sweeping Day),
        # Apr 7-11 = 24-28, Apr 14 = 29, Apr 15 = 30.
        (bj(2025, 4, 2, 12), H.ON_TRACK, "8 bd left"),  # 22 used < 22.5 = 75 % of 30
        (bj(2025, 4, 3, 0), H.AT_RISK, "7 bd left"),  # 23 used
        (bj(2025, 4, 15, 9), H.AT_RISK, "due today"),  # 30 used
        (bj(2025, 4, 16, 0), H.BREACHED, "1 bd over"),  # 31 used
    ],
)
def test_zhejiang_thirty_business_day_target(
    policy: SlaPolicy, make_filing: MakeFiling, now: datetime, health: Health, left: str
) -> None:
    filing = make_filing(S.AUTHORITY_REVIEW, MONDAY, province="Zhejiang")
    status = sla_status(filing, policy, now)
    assert (status.health, status.left) == (health, left)
    assert status.target == 30
    assert status.due_at == bj(2025, 4, 15, 23, 59, 59)


def test_weekend_after_a_friday_due_date_is_breached(
    policy: SlaPolicy, make_filing: MakeFiling
) -> None:
    # Entered Thursday 2025-03-06 10:00, N = 1: due Friday 2025-03-07 23:59:59. DOMAIN.md
    # (issue 12): breached once past the due time, business day or not.
    filing = make_filing(S.PHOTO_REVIEW, bj(2025, 3, 6, 10))
    cal = policy.calendar
    friday = sla_status(filing, policy, bj(2025, 3, 7, 23, 59, 59))
    assert (friday.health, friday.left) == (H.AT_RISK, "due today")
    for now, left in ((bj(2025, 3, 8, 0), "1 d over"), (bj(2025, 3, 9, 23, 59, 59), "2 d over")):
        assert cal.elapsed(filing.entered_at, now) == 1  # == N, yet past the due time
        assert (sla_status(filing, policy, now).health, sla_status(filing, policy, now).left) == (
            H.BREACHED,
            left,
        )
    monday = sla_status(filing, policy, bj(2025, 3, 10, 0))
    assert (monday.health, monday.left) == (H.BREACHED, "1 bd over")


def test_holiday_after_the_due_date_is_not_yet_breached(
    policy: SlaPolicy, make_filing: MakeFiling
) -> None:
    # Entered Tuesday 2025-09-30 (before National Day 2025, off Oct 1 - 8): day 1 is Thu Oct 9.
    filing = make_filing(S.PRELIMINARY_REVIEW, bj(2025, 9, 30, 10))
    assert sla_status(filing, policy, bj(2025, 10, 5, 12)).health is H.ON_TRACK
    assert sla_status(filing, policy, bj(2025, 10, 9, 0)).left == "due today"
    # Sat Oct 11 is an adjusted working day: elapsed 2 > 1.
    assert sla_status(filing, policy, bj(2025, 10, 11, 0)).health is H.BREACHED


# -- health boundaries, SMS check (wall clock) -------------------------------------------


@pytest.mark.parametrize(
    ("after", "health", "left"),
    [
        (timedelta(hours=0), H.ON_TRACK, "24 h left"),
        (timedelta(hours=17), H.ON_TRACK, "7 h left"),
        (timedelta(hours=17, minutes=59, seconds=59), H.ON_TRACK, "6 h left"),
        (timedelta(hours=18), H.AT_RISK, "6 h left"),  # 75 % of 24 h
        (timedelta(hours=23, minutes=30), H.AT_RISK, "30 min left"),
        (timedelta(hours=24, seconds=1), H.BREACHED, "0 min over"),
        (timedelta(hours=26), H.BREACHED, "2 h over"),
        (timedelta(hours=71), H.BREACHED, "47 h over"),
        (timedelta(hours=72), H.BREACHED, "2 d over"),
        (timedelta(days=4), H.BREACHED, "3 d over"),
    ],
)
def test_sms_check_runs_on_the_wall_clock(
    policy: SlaPolicy, make_filing: MakeFiling, after: timedelta, health: Health, left: str
) -> None:
    # Entered Friday 20:00: weekends count on the wall clock.
    entered = bj(2025, 3, 7, 20)
    status = sla_status(make_filing(S.SMS_VERIFICATION, entered), policy, entered + after)
    assert (status.health, status.left) == (health, left)
    assert status.unit == "h"
    assert status.used == int(after.total_seconds() // 3600)
    assert status.due_at == entered + timedelta(hours=24)


# -- escalation ------------------------------------------------------------------------------


def test_escalate_after_more_than_three_business_days_in_review(
    policy: SlaPolicy, make_filing: MakeFiling
) -> None:
    # Submitted Monday 2025-03-03 10:00 and still in preliminary review:
    # Tue = 1, Wed = 2, Thu = 3 (not more than 3), Fri = 4 -> escalate from Friday 00:00.
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    thursday_late = bj(2025, 3, 6, 23, 59, 59)
    friday = bj(2025, 3, 7, 0)
    assert review_days_used(filing, policy, thursday_late) == 3
    assert sla_status(filing, policy, thursday_late).escalate is False
    assert review_days_used(filing, policy, friday) == 4
    assert sla_status(filing, policy, friday).escalate is True
    assert sla_times(filing, policy).escalate_at == friday.timestamp()


def test_escalation_counts_all_three_review_stages(
    policy: SlaPolicy, filing_from_moves: MakeFiling
) -> None:
    # preliminary Mon 3-3 -> awaiting_photo Mon 3-3 12:00 (0 bd) -> photo_review Mon 3-3 15:00
    # -> awaiting_submission Wed 3-5 10:00 (Tue, Wed = 2 bd) -> now: Thu = 3, Fri = 4.
    filing = filing_from_moves(
        [
            (S.PRELIMINARY_REVIEW, MONDAY),
            (S.AWAITING_PHOTO, bj(2025, 3, 3, 12)),
            (S.PHOTO_REVIEW, bj(2025, 3, 3, 15)),
            (S.AWAITING_SUBMISSION, bj(2025, 3, 5, 10)),
        ]
    )
    assert sla_status(filing, policy, bj(2025, 3, 6, 18)).escalate is False
    assert review_days_used(filing, policy, bj(2025, 3, 6, 18)) == 3
    assert sla_status(filing, policy, bj(2025, 3, 7, 0)).escalate is True


def test_time_awaiting_the_photo_does_not_count(
    policy: SlaPolicy, filing_from_moves: MakeFiling
) -> None:
    # preliminary Mon 3-3 10:00 -> awaiting_photo Tue 3-4 10:00 (1 bd: Tue)
    # -> photo_review Mon 3-10 10:00 (Wed 3-5 .. Mon 3-10 awaiting the applicant: not counted)
    # -> now: Tue 3-11 = 2, Wed 3-12 = 3, Thu 3-13 = 4 -> escalate from Thu 00:00.
    filing = filing_from_moves(
        [
            (S.PRELIMINARY_REVIEW, MONDAY),
            (S.AWAITING_PHOTO, bj(2025, 3, 4, 10)),
            (S.PHOTO_REVIEW, bj(2025, 3, 10, 10)),
        ]
    )
    wednesday = bj(2025, 3, 12, 23)
    thursday = bj(2025, 3, 13, 0)
    assert review_days_used(filing, policy, wednesday) == 3
    assert sla_status(filing, policy, wednesday).escalate is False
    assert review_days_used(filing, policy, thursday) == 4
    assert sla_status(filing, policy, thursday).escalate is True


def test_no_escalation_flag_while_the_applicant_must_act(
    policy: SlaPolicy, filing_from_moves: MakeFiling
) -> None:
    filing = filing_from_moves(
        [(S.PRELIMINARY_REVIEW, MONDAY), (S.AWAITING_PHOTO, bj(2025, 3, 10, 10))]
    )
    assert review_days_used(filing, policy, bj(2025, 3, 20)) == 5
    assert sla_status(filing, policy, bj(2025, 3, 20)).escalate is False


def test_already_over_three_days_escalates_on_entering_the_next_review_stage(
    policy: SlaPolicy, filing_from_moves: MakeFiling
) -> None:
    # preliminary Mon 3-3 -> awaiting_photo Mon 3-10 (Tue..Mon = 5 bd) -> photo_review Tue 3-11.
    entered = bj(2025, 3, 11, 9)
    filing = filing_from_moves(
        [
            (S.PRELIMINARY_REVIEW, MONDAY),
            (S.AWAITING_PHOTO, bj(2025, 3, 10, 10)),
            (S.PHOTO_REVIEW, entered),
        ]
    )
    assert sla_status(filing, policy, entered).escalate is True


def test_exactly_three_days_before_reentering_review_escalates_only_on_the_next_day(
    policy: SlaPolicy, filing_from_moves: MakeFiling
) -> None:
    # preliminary Mon 3-3 -> awaiting_photo Thu 3-6 (Tue, Wed, Thu = 3 bd: not more than 3)
    # -> photo_review Mon 3-10 10:00: the 4th day is Tue 3-11, escalated from its 00:00.
    entered = bj(2025, 3, 10, 10)
    filing = filing_from_moves(
        [
            (S.PRELIMINARY_REVIEW, MONDAY),
            (S.AWAITING_PHOTO, bj(2025, 3, 6, 10)),
            (S.PHOTO_REVIEW, entered),
        ]
    )
    assert review_days_used(filing, policy, bj(2025, 3, 10, 23, 59, 59)) == 3
    assert sla_status(filing, policy, entered).escalate is False
    assert sla_status(filing, policy, bj(2025, 3, 10, 23, 59, 59)).escalate is False
    assert sla_status(filing, policy, bj(2025, 3, 11, 0)).escalate is True


def test_review_days_used_at_a_past_moment_ignores_later_stretches(
    policy: SlaPolicy, filing_from_moves: MakeFiling
) -> None:
    # preliminary Mon 3-3 -> awaiting_photo Wed 3-5 (Tue, Wed = 2 bd) -> photo_review Mon 3-10.
    filing = filing_from_moves(
        [
            (S.PRELIMINARY_REVIEW, MONDAY),
            (S.AWAITING_PHOTO, bj(2025, 3, 5, 10)),
            (S.PHOTO_REVIEW, bj(2025, 3, 10, 10)),
        ]
    )
    # Asked for Friday 3-7, before the photo review began: the 2 bd of preliminary review.
    assert review_days_used(filing, policy, bj(2025, 3, 7, 12)) == 2
    assert review_days_used(filing, policy, bj(2025, 3, 11, 12)) == 3


def test_resubmission_restarts_the_escalation_count(
    policy: SlaPolicy, filing_from_moves: MakeFiling
) -> None:
    # preliminary Mon 3-3 -> returned Fri 3-7 (4 bd) -> preliminary again Mon 3-10 10:00
    # (submitted_at = Mon 3-10): Tue = 1, Wed = 2, Thu = 3, Fri 3-14 = 4.
    filing = filing_from_moves(
        [
            (S.PRELIMINARY_REVIEW, MONDAY),
            (S.RETURNED, bj(2025, 3, 7, 10)),
            (S.PRELIMINARY_REVIEW, bj(2025, 3, 10, 10)),
        ]
    )
    assert filing.submitted_at == bj(2025, 3, 10, 10)
    thursday = bj(2025, 3, 13, 12)
    assert review_days_used(filing, policy, thursday) == 3
    assert sla_status(filing, policy, thursday).escalate is False
    assert sla_status(filing, policy, bj(2025, 3, 14, 0)).escalate is True


def _undo_advance(filing: Filing, at: datetime) -> Filing:
    moved = advance(filing, at, "alice")
    return undo(moved, filing, moved.version, at + timedelta(minutes=2), "alice")


def _undo_note(filing: Filing, at: datetime) -> Filing:
    noted = add_note(filing, at, "alice", "called the applicant")
    return undo(noted, filing, noted.version, at + timedelta(minutes=2), "alice")


@pytest.mark.parametrize("undo_last_change", [_undo_advance, _undo_note])
def test_undo_does_not_double_count_review_days(
    policy: SlaPolicy,
    make_filing: MakeFiling,
    undo_last_change: Callable[[Filing, datetime], Filing],
) -> None:
    # Submitted Mon 2025-03-03 10:00; on Wed 3-5 10:00 (Tue, Wed = 2 bd used) a change is made
    # and undone two minutes later. Still 2 bd used: escalation is due Fri 3-7 00:00 (4 bd).
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    back = undo_last_change(filing, bj(2025, 3, 5, 10))
    assert back.stage is S.PRELIMINARY_REVIEW
    now = bj(2025, 3, 5, 10, 5)
    assert review_days_used(back, policy, now) == 2
    assert sla_status(filing, policy, now).escalate is False  # without the undo: correct
    assert sla_status(back, policy, now).escalate is False
    assert sla_times(back, policy).escalate_at == bj(2025, 3, 7).timestamp()


def test_sms_health_and_words_agree_at_the_due_instant(
    policy: SlaPolicy, make_filing: MakeFiling
) -> None:
    entered = bj(2025, 3, 7, 20)
    status = sla_status(make_filing(S.SMS_VERIFICATION, entered), policy, entered + timedelta(1))
    assert (status.health is H.BREACHED) == status.left.endswith("over")


def test_next_change_is_the_next_health_instant(policy: SlaPolicy, make_filing: MakeFiling) -> None:
    times = sla_times(make_filing(S.PRELIMINARY_REVIEW, MONDAY), policy)
    tuesday, wednesday, friday = bj(2025, 3, 4), bj(2025, 3, 5), bj(2025, 3, 7)
    assert times.next_change(MONDAY.timestamp()) == tuesday.timestamp()
    assert times.next_change(tuesday.timestamp()) == wednesday.timestamp()
    assert times.next_change(wednesday.timestamp()) == friday.timestamp()  # escalation
    assert times.next_change(friday.timestamp()) == float("inf")


def test_last_change_is_the_latest_health_instant_passed(
    policy: SlaPolicy, make_filing: MakeFiling
) -> None:
    times = sla_times(make_filing(S.PRELIMINARY_REVIEW, MONDAY), policy)
    tuesday, wednesday, friday = bj(2025, 3, 4), bj(2025, 3, 5), bj(2025, 3, 7)
    assert times.last_change(MONDAY.timestamp()) == float("-inf")
    assert times.last_change(tuesday.timestamp() - 1) == float("-inf")
    assert times.last_change(tuesday.timestamp()) == tuesday.timestamp()  # at it: included
    assert times.last_change(wednesday.timestamp() + 3600) == wednesday.timestamp()
    assert times.last_change(friday.timestamp() + 86400 * 9) == friday.timestamp()
    waiting = sla_times(make_filing(S.RETURNED, MONDAY), policy)
    assert waiting.last_change(friday.timestamp()) == float("-inf")  # a paused clock: none


# -- health never improves while the stage does not change --------------------------------

RUNNING = [
    S.PRELIMINARY_REVIEW,
    S.PHOTO_REVIEW,
    S.AWAITING_SUBMISSION,
    S.SMS_VERIFICATION,
    S.AUTHORITY_REVIEW,
]
ENTRIES = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 11, 30), timezones=st.just(BEIJING)
)
OFFSETS = st.lists(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=70)), min_size=2, max_size=12
)


@settings(max_examples=150, deadline=None, database=None)
@given(
    stage=st.sampled_from(RUNNING),
    province=st.sampled_from(["Beijing", "Zhejiang"]),
    entered=ENTRIES,
    offsets=OFFSETS,
)
def test_health_never_improves_as_time_passes(
    policy: SlaPolicy,
    make_filing: MakeFiling,
    stage: Stage,
    province: str,
    entered: datetime,
    offsets: list[timedelta],
) -> None:
    filing = make_filing(stage, entered, province=province)
    ranks = [sla_status(filing, policy, entered + d).health.rank for d in sorted(offsets)]
    assert all(later <= earlier for earlier, later in pairwise(ranks))


@settings(max_examples=150, deadline=None, database=None)
@given(
    stage=st.sampled_from(RUNNING),
    province=st.sampled_from(["Beijing", "Zhejiang"]),
    entered=ENTRIES,
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=70)),
)
def test_health_matches_domain_definition(
    policy: SlaPolicy,
    make_filing: MakeFiling,
    stage: Stage,
    province: str,
    entered: datetime,
    offset: timedelta,
) -> None:
    """on_track below 75 % used; at_risk from 75 % or on the due day; breached past it."""
    filing = make_filing(stage, entered, province=province)
    now = entered + offset
    status = sla_status(filing, policy, now)
    target = policy.target(stage, province)
    assert target is not None
    if stage is S.SMS_VERIFICATION:
        hours = offset / timedelta(hours=1)
        expected = H.BREACHED if hours >= 24 else H.AT_RISK if hours >= 18 else H.ON_TRACK
    else:
        used = policy.calendar.elapsed(entered, now)
        due_day = policy.calendar.nth_business_day(entered, target)
        if now > policy.calendar.due(entered, target):
            expected = H.BREACHED
        elif used >= 0.75 * target or now.date() == due_day:
            expected = H.AT_RISK
        else:
            expected = H.ON_TRACK
    assert status.health is expected


# -- sorting -------------------------------------------------------------------------------


def test_health_rank_order() -> None:
    assert HEALTH_ORDER == (H.BREACHED, H.AT_RISK, H.ON_TRACK, H.WAITING, H.DONE)
    assert [h.rank for h in HEALTH_ORDER] == [0, 1, 2, 3, 4]
    assert len({h.glyph for h in Health}) == len(Health)  # readable without colour
    assert H.AT_RISK.word == "at risk"


def test_most_urgent_first(policy: SlaPolicy, make_filing: MakeFiling) -> None:
    now = bj(2025, 3, 13, 12)  # Thursday
    # Within each health the ids run against the expected order, so that only the due, waiting
    # or closing times (not the id tie-break) can put them right.
    filings = [
        # breached: due Tue 3-4 (more overdue) before due Tue 3-11.
        make_filing(S.PHOTO_REVIEW, bj(2025, 3, 10, 10), id="B1"),
        make_filing(S.PRELIMINARY_REVIEW, bj(2025, 3, 3, 10), id="B2"),
        # at_risk: SMS due Thu 14:00 before preliminary due Thu 23:59:59; same due -> by id.
        make_filing(S.PRELIMINARY_REVIEW, bj(2025, 3, 12, 11), id="R2"),
        make_filing(S.PRELIMINARY_REVIEW, bj(2025, 3, 12, 10), id="R1"),
        make_filing(S.SMS_VERIFICATION, bj(2025, 3, 12, 14), id="R3"),
        # on_track: SMS due Fri 9:00, Beijing authority Mar 31, Zhejiang authority Apr 15.
        make_filing(S.AUTHORITY_REVIEW, bj(2025, 3, 3, 10), id="O1", province="Zhejiang"),
        make_filing(S.AUTHORITY_REVIEW, bj(2025, 3, 3, 10), id="O2", province="Beijing"),
        make_filing(S.SMS_VERIFICATION, bj(2025, 3, 13, 9), id="O3"),
        # waiting: longest waiting first.
        make_filing(S.AWAITING_PHOTO, bj(2025, 3, 12, 9), id="W1"),
        make_filing(S.RETURNED, bj(2025, 3, 10, 10), id="W2"),
        # done: most recently closed first.
        make_filing(S.REJECTED, bj(2025, 3, 7, 10), id="D1"),
        make_filing(S.APPROVED, bj(2025, 3, 11, 10), id="D2"),
        make_filing(S.WITHDRAWN, bj(2025, 3, 12, 10), id="D3"),
    ]

    def key(filing: Filing) -> tuple[int, float, str]:
        times = sla_times(filing, policy)
        health = times.health(now.timestamp())
        return (health.rank, times.sort_key(health), filing.id)

    healths = {f.id: sla_status(f, policy, now).health for f in filings}
    assert [healths[i] for i in ("B2", "B1", "R3", "R1", "R2", "O3", "O2", "O1")] == (
        [H.BREACHED] * 2 + [H.AT_RISK] * 3 + [H.ON_TRACK] * 3
    )
    expected = ["B2", "B1", "R3", "R1", "R2", "O3", "O2", "O1", "W2", "W1", "D3", "D2", "D1"]
    assert [f.id for f in sorted(filings, key=key)] == expected
    assert [f.id for f in sorted(reversed(filings), key=key)] == expected


# -- one policy's deadlines shared by many filings ----------------------------------------------


def test_shared_deadlines_give_each_filing_its_own_instants(
    policy: SlaPolicy, make_filing: MakeFiling, filing_from_moves: Callable[..., Filing]
) -> None:
    # Filings that share a day of entry, a target or an escalation's start with one before
    # them, and others that differ in just one of those: a queue's Deadlines answers each as
    # if it were the only one asked.
    filings = [
        make_filing(S.PRELIMINARY_REVIEW, bj(2025, 3, 3, 10)),
        make_filing(S.PRELIMINARY_REVIEW, bj(2025, 3, 3, 17)),  # same day, later hour
        make_filing(S.PHOTO_REVIEW, bj(2025, 3, 3, 11)),
        make_filing(S.AUTHORITY_REVIEW, bj(2025, 3, 3, 10), province="Beijing"),
        make_filing(S.AUTHORITY_REVIEW, bj(2025, 3, 3, 10), province="Zhejiang"),
        make_filing(S.AUTHORITY_REVIEW, bj(2025, 3, 4, 10), province="Zhejiang"),
        make_filing(S.SMS_VERIFICATION, bj(2025, 3, 3, 10)),
        make_filing(S.SMS_VERIFICATION, bj(2025, 3, 3, 12)),
        make_filing(S.AWAITING_PHOTO, bj(2025, 3, 3, 10)),
        make_filing(S.APPROVED, bj(2025, 3, 3, 10)),
        # Two business days in preliminary review before the photo: it escalates sooner than a
        # filing entering photo review the same day without them.
        filing_from_moves(
            [
                (S.PRELIMINARY_REVIEW, bj(2025, 3, 3, 10)),
                (S.AWAITING_PHOTO, bj(2025, 3, 5, 10)),
                (S.PHOTO_REVIEW, bj(2025, 3, 7, 9)),
            ]
        ),
        make_filing(S.PHOTO_REVIEW, bj(2025, 3, 7, 9)),
    ]
    shared = Deadlines(policy)
    for filing in filings + filings[::-1]:
        summary = summarize(filing)
        assert shared.times(summary) == Deadlines(policy).times(summary)
        assert shared.times(summary) == sla_times(filing, policy)
    used_before, fresh = (shared.times(summarize(f)).escalate_at for f in filings[-2:])
    assert used_before < fresh
