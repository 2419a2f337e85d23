"""The summary row the store keeps per filing: written from a checked filing, read back the
same, and any row this code did not write refused instead of misread."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import orjson
import pytest
from unit_helpers import S, bj

from icp_tui.domain import transitions as t
from icp_tui.domain.errors import InvalidRecord
from icp_tui.domain.filing import EntityType, Filing
from icp_tui.domain.summary import FilingSummary, summarize

T0 = bj(2026, 3, 2, 9)  # a Monday


def hours(n: float) -> Any:
    return T0 + timedelta(hours=n)


def in_sms_check() -> Filing:
    """Assigned, mailed, ticketed, and in the SMS check after one resend."""
    f = t.submit(
        "ICP-2026-00007", "example.cn", "某某科技", EntityType.COMPANY, "Zhejiang", T0, "amy"
    )
    f = t.assign(f, hours(1), "lead", "bob")
    f = t.advance(f, hours(2), "bob")  # awaiting_photo
    f = t.record_materials(f, hours(3), "bob", received=True)
    f = t.advance(f, hours(4), "bob")  # photo_review
    f = t.record_ticket(f, hours(5), "bob", "TK42")
    f = t.advance(f, hours(6), "bob")  # awaiting_submission
    f = t.advance(f, hours(7), "bob")  # sms_verification
    return t.sms_resent(f, hours(8), "bob")


def reviewed() -> Filing:
    """`in_sms_check`, then through an authority review (3 bd) to approval."""
    f = t.advance(in_sms_check(), hours(9), "bob")  # authority_review
    return t.advance(f, bj(2026, 3, 5, 10), "bob", S.APPROVED, icp_number="浙ICP备2026012345号-1")


def test_a_row_reads_back_as_the_summary_it_was_written_from() -> None:
    summary = summarize(reviewed())
    assert FilingSummary.from_row(summary.to_row()) == summary
    assert (summary.assignee, summary.ticket, summary.materials_received) == ("bob", "TK42", True)
    assert summary.sms_sent_ts is None  # the resend belonged to the SMS check, now left
    assert summary.reviews == ((hours(9).timestamp(), bj(2026, 3, 5, 10).timestamp()),)
    assert summary.review_stretches == (
        (T0.timestamp(), hours(2).timestamp()),
        (hours(4).timestamp(), hours(6).timestamp()),
        (hours(6).timestamp(), hours(7).timestamp()),
    )


def test_rows_read_back_share_what_they_repeat() -> None:
    """100,000 summaries are kept in memory: a province or an assignee is one string however
    many rows name it, and an instant a row repeats (a stretch starting where the one before
    it ended) is one float."""
    summary = summarize(reviewed())
    # As a JSON parser gives them: every string and float a new object.
    rows = [orjson.loads(orjson.dumps(summary.to_row())) for _ in range(2)]
    first, second = (FilingSummary.from_row(row) for row in rows)
    assert first == second == summary
    assert first.province is second.province
    assert first.assignee is second.assignee
    (_, end), (start, _), _ = first.review_stretches
    assert end != start  # a stretch out of review between the two
    (_, end), (start, _) = first.review_stretches[1:]
    assert start is end


def test_the_summary_knows_the_first_submission_and_the_latest_entry() -> None:
    """What the queue at a past instant needs: whether the filing existed yet, and whether
    anything happened to it since (then its record is read)."""
    noted = t.add_note(reviewed(), bj(2026, 3, 6, 9), "cy", "called the applicant")
    summary = summarize(noted)
    assert summary.created_ts == T0.timestamp()
    assert summary.latest_ts == bj(2026, 3, 6, 9).timestamp()
    assert summary.last_move_ts == bj(2026, 3, 5, 10).timestamp()  # the note is no move


def test_taking_back_a_move_into_review_keeps_an_earlier_review_counted() -> None:
    """A rejected submission's review stays counted when, in the next submission, staff undo
    the move into authority review and then undo that undo; the review put back counts too."""
    f = t.advance(in_sms_check(), hours(9), "bob")  # authority_review
    rejected = t.advance(f, bj(2026, 3, 4, 10), "bob", S.REJECTED, "materials missing")
    f = t.advance(rejected, bj(2026, 3, 9, 9), "amy", S.PRELIMINARY_REVIEW, "resubmitted")
    for at in range(10, 14):
        f = t.advance(f, bj(2026, 3, 9, at), "bob")
    in_sms = f
    reviewing = t.advance(in_sms, bj(2026, 3, 9, 14), "bob")
    back = t.undo(reviewing, in_sms, reviewing.version, bj(2026, 3, 9, 14, 1), "bob")
    again = t.undo(back, reviewing, back.version, bj(2026, 3, 9, 14, 2), "bob")
    assert (back.stage, again.stage) == (S.SMS_VERIFICATION, S.AUTHORITY_REVIEW)
    first = ((hours(9).timestamp(), bj(2026, 3, 4, 10).timestamp()),)
    for filing in (rejected, reviewing, back, again):
        assert summarize(filing).reviews == first
    # The review goes on from its first entry, as its SLA clock does, and counts once decided.
    assert again.entered_at == bj(2026, 3, 9, 14)
    approved = t.advance(
        again, bj(2026, 3, 12, 10), "bob", S.APPROVED, icp_number="浙ICP备2026012345号-1"
    )
    assert summarize(approved).reviews == (
        *first,
        (bj(2026, 3, 9, 14).timestamp(), bj(2026, 3, 12, 10).timestamp()),
    )


def test_an_sms_resend_and_an_old_row_without_reviews_read_back() -> None:
    summary = summarize(in_sms_check())
    assert summary.sms_sent_ts == hours(8).timestamp()
    assert FilingSummary.from_row(summary.to_row()) == summary
    unknown = summary._replace(reviews=None)
    assert FilingSummary.from_row(unknown.to_row()).reviews is None


def test_a_row_of_the_previous_format_reads_with_its_new_fields_unknown() -> None:
    summary = summarize(reviewed())
    old = summary.to_row()[:15]
    assert FilingSummary.from_row(old) == summary._replace(
        created_ts=-math.inf, latest_ts=math.inf, reviews=None
    )


GOOD = summarize(reviewed()).to_row()


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        (0, ""),
        (0, 7),
        (1, "3"),
        (1, 3.0),
        (2, ""),
        (2, None),
        (3, ""),
        (3, None),
        (4, "robot"),
        (5, ""),
        (5, None),
        (6, "nowhere"),
        (7, "1"),
        (8, None),
        (9, [[1.0, "2"]]),
        (9, [["1", 2.0]]),
        (9, 5),
        (10, 5),
        (11, 5),
        (12, 1),
        (13, "1"),
        (14, "1"),
        (15, None),
        (16, "1"),
        (17, [[1.0, "2"]]),
        (17, 5),
    ],
)
def test_a_row_with_a_wrong_field_is_refused(field: int, bad: Any) -> None:
    row = list(GOOD)
    row[field] = bad
    with pytest.raises(InvalidRecord) as refused:
        FilingSummary.from_row(row)
    assert str(refused.value) == f"not a filing summary row: {str(row)[:80]}"


@pytest.mark.parametrize("row", [GOOD[:14], [*GOOD, None], None, "ICP-2026-00007"])
def test_a_row_of_another_length_or_no_row_is_refused(row: Any) -> None:
    with pytest.raises(InvalidRecord, match="not a filing summary row"):
        FilingSummary.from_row(row)


def test_an_undone_move_s_row_keeps_its_last_move_apart_from_its_stage_entry() -> None:
    """After an undo the filing is back in the stage it entered earlier, while its last move
    is the undo: the row keeps both instants."""
    before = in_sms_check()
    moved = t.advance(before, hours(9), "bob")  # authority_review
    undone_at = hours(9) + timedelta(minutes=2)
    back = t.undo(moved, before, moved.version, undone_at, "bob")
    summary = summarize(back)
    assert (summary.entered_ts, summary.last_move_ts) == (
        hours(7).timestamp(),
        undone_at.timestamp(),
    )
    assert FilingSummary.from_row(orjson.loads(orjson.dumps(summary.to_row()))) == summary


def test_a_resubmission_after_a_return_keeps_the_order_s_first_submission() -> None:
    """Only a rejection starts a new order: a return and resubmission is the same order."""
    f = t.submit("ICP-2026-00008", "example.cn", "某某科技", EntityType.COMPANY, "Hebei", T0, "amy")
    f = t.advance(f, hours(1), "bob", S.RETURNED, "photo unclear")
    f = t.advance(f, hours(2), "amy", S.PRELIMINARY_REVIEW, "resubmitted")
    summary = summarize(f)
    assert summary.order_submitted_ts == f.order_submitted_at.timestamp() == T0.timestamp()
