"""The stage table and what staff do to a filing: advance, withdraw, note, ticket, assign, undo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from unit_helpers import ACTOR, HAPPY_PATH, S, bj

from icp_tui.domain.errors import (
    IcpError,
    InvalidInput,
    TransitionNotAllowed,
    WithdrawNotAllowed,
)
from icp_tui.domain.filing import (
    Checklist,
    EntityType,
    Filing,
    Transition,
    from_record,
    to_record,
)
from icp_tui.domain.stages import (
    ALIBABA_CLOUD_REVIEW,
    CLOSED,
    STAGE_RULES,
    SUBMITTED_TO_AUTHORITY,
    WITHDRAW_REASONS,
    Owner,
    SlaClock,
    Stage,
    can_move,
    rule,
)
from icp_tui.domain.transitions import (
    MAX_TEXT,
    UNDO_WINDOW,
    add_note,
    advance,
    advance_targets,
    assign,
    check_domain,
    materials_state,
    next_filing_id,
    record_materials,
    record_ticket,
    sms_resent,
    submit,
    undo,
    withdraw,
    withdraw_refusal,
)

MakeFiling = Callable[..., Filing]


MONDAY = bj(2025, 3, 3, 10)


def assert_chained(filing: Filing) -> None:
    """Each entry leaves the stage the previous one entered; the last one is the stage."""
    first, *rest = filing.history
    assert first.source is None
    assert first.target is S.PRELIMINARY_REVIEW
    previous = first
    for entry in rest:
        assert entry.source is previous.target
        assert entry.at >= previous.at
        previous = entry
    assert previous.target is filing.stage


def assert_round_trips(filing: Filing) -> None:
    assert from_record(to_record(filing)) == filing


# -- the stage table, transcribed from DOMAIN.md ------------------------------------------

# id: (label, owner, clock, may withdraw, next stages)
DOMAIN_TABLE: dict[str, tuple[str, str, str, bool, tuple[str, ...]]] = {
    "preliminary_review": (
        "Alibaba Cloud preliminary review",
        "Alibaba Cloud",
        "runs",
        True,
        ("awaiting_photo", "returned", "withdrawn"),
    ),
    "returned": (
        "Returned to applicant for correction",
        "applicant",
        "paused",
        True,
        ("preliminary_review", "withdrawn"),
    ),
    "awaiting_photo": (
        "Waiting for the administrator photo (and mailed materials where the province asks)",
        "applicant",
        "paused",
        True,
        ("photo_review", "withdrawn"),
    ),
    "photo_review": (
        "Facial verification photo review",
        "Alibaba Cloud",
        "runs",
        True,
        ("awaiting_submission", "returned", "withdrawn"),
    ),
    "awaiting_submission": (
        "Passed Alibaba Cloud review; to be submitted to the communications administration",
        "Alibaba Cloud",
        "runs",
        True,
        ("sms_verification", "withdrawn"),
    ),
    "sms_verification": (
        "MIIT SMS check by the applicant",
        "applicant",
        "runs, wall clock",
        False,
        ("authority_review", "returned"),
    ),
    "authority_review": (
        "Review by the local communications administration",
        "authority",
        "runs",
        False,
        ("approved", "rejected"),
    ),
    "approved": ("Approved; ICP number issued", "-", "stopped", False, ()),
    "rejected": (
        "Rejected by the communications administration",
        "applicant",
        "stopped",
        False,
        ("preliminary_review",),
    ),
    "withdrawn": ("Withdrawn", "-", "stopped", False, ()),
}
CLOCKS = {
    "runs": SlaClock.BUSINESS_DAYS,
    "runs, wall clock": SlaClock.WALL_HOURS,
    "paused": SlaClock.PAUSED,
    "stopped": SlaClock.STOPPED,
}


def test_the_table_has_exactly_the_domain_stages() -> None:
    assert [s.value for s in Stage] == list(DOMAIN_TABLE)
    assert set(STAGE_RULES) == set(Stage)


@pytest.mark.parametrize("stage_id", list(DOMAIN_TABLE))
def test_stage_row_matches_domain(stage_id: str) -> None:
    label, owner, clock, may_withdraw, next_ids = DOMAIN_TABLE[stage_id]
    row = rule(Stage(stage_id))
    assert row.stage is Stage(stage_id)
    assert row.label == label
    assert row.owner is Owner(owner)
    assert row.clock is CLOCKS[clock]
    assert row.may_withdraw is may_withdraw
    assert [s.value for s in row.next_stages] == list(next_ids)
    for target in Stage:
        assert can_move(Stage(stage_id), target) is (target.value in next_ids)
    if row.happy_next is not None:
        assert row.happy_next in row.next_stages


def test_stage_groups() -> None:
    assert {S.PRELIMINARY_REVIEW, S.PHOTO_REVIEW, S.AWAITING_SUBMISSION} == ALIBABA_CLOUD_REVIEW
    assert {S.APPROVED, S.REJECTED, S.WITHDRAWN} == CLOSED
    assert {
        S.SMS_VERIFICATION,
        S.AUTHORITY_REVIEW,
        S.APPROVED,
        S.REJECTED,
    } == SUBMITTED_TO_AUTHORITY
    assert "other" in WITHDRAW_REASONS


# -- random walks through the table --------------------------------------------------------

# Advancing is weighted so that walks often reach the authority and beyond.
ACTIONS = ("advance",) * 5 + ("withdraw", "note", "assign", "ticket", "undo", "undo")


@settings(max_examples=100, deadline=None, database=None)
@given(data=st.data())
def test_random_allowed_moves_keep_the_filing_valid(
    make_filing: MakeFiling, data: st.DataObject
) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    at = MONDAY
    last_change: tuple[Filing, int] | None = None  # (filing before, version after)
    for _ in range(data.draw(st.integers(min_value=1, max_value=25), label="steps")):
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        actor = data.draw(st.sampled_from(["alice", "bob", "王芳"]), label="actor")
        if action == "undo":
            if last_change is None:
                continue
            at = at + timedelta(minutes=data.draw(st.integers(0, 5), label="undo after"))
        else:
            at = at + timedelta(minutes=data.draw(st.integers(0, 3 * 24 * 60), label="wait"))
        before = filing
        if action == "advance":
            targets = advance_targets(filing.stage)
            if not targets:
                with pytest.raises(TransitionNotAllowed):
                    advance(filing, at, actor)
                continue
            target = data.draw(st.sampled_from(targets), label="target")
            # Returning and rejecting need a reason, approving the ICP number (issue 12).
            number = "京ICP备2025000001号-1" if target is S.APPROVED else None
            filing = advance(filing, at, actor, to=target, reason="materials missing",
                             icp_number=number)  # fmt: skip
            assert filing.stage is target
            assert filing.entered_at == at
        elif action == "withdraw":
            if not rule(filing.stage).may_withdraw:
                with pytest.raises(WithdrawNotAllowed):
                    withdraw(filing, at, actor, "applicant request")
                continue
            filing = withdraw(filing, at, actor, "duplicate application")
            assert filing.stage is S.WITHDRAWN
        elif action == "note":
            filing = add_note(filing, at, actor, data.draw(st.text(min_size=1).filter(str.strip)))
        elif action == "assign":
            filing = assign(filing, at, actor, data.draw(st.sampled_from([None, "bob", "李雷"])))
        elif action == "ticket":
            filing = record_ticket(filing, at, actor, "TK-" + str(data.draw(st.integers(1, 999))))
        else:
            assert last_change is not None
            previous, after_version = last_change
            assert filing.updated_at is not None
            if at - filing.updated_at > UNDO_WINDOW:  # refused actions let time pass
                with pytest.raises(TransitionNotAllowed, match="more than 5 minutes"):
                    undo(filing, previous, after_version, at, actor)
                continue
            filing = undo(filing, previous, after_version, at, actor)
            assert filing.stage is previous.stage
            assert filing.history[-1].undo
        event(f"{action} -> {filing.stage.value}")
        assert filing.version == before.version + 1
        assert (filing.updated_at, filing.updated_by) == (at, actor)
        assert_chained(filing)
        assert_round_trips(filing)
        last_change = (before, filing.version)


# -- advance ---------------------------------------------------------------------------------


def test_advance_follows_the_happy_path(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    at = MONDAY
    seen = [filing.stage]
    for _ in range(6):
        at += timedelta(hours=5)
        number = "京ICP备2025000001号" if filing.stage is S.AUTHORITY_REVIEW else None
        filing = advance(filing, at, "bob", icp_number=number)
        seen.append(filing.stage)
        assert filing.entered_at == at
        assert filing.history[-1].by == "bob"
        assert filing.history[-1].at == at
    assert seen == list(HAPPY_PATH)
    assert filing.version == 7
    assert filing.submitted_at == MONDAY  # never resubmitted
    assert_chained(filing)
    assert_round_trips(filing)
    with pytest.raises(TransitionNotAllowed, match="closed"):
        advance(filing, at, "bob")


@pytest.mark.parametrize(
    ("stage", "happy_next"),
    [(S.RETURNED, S.PRELIMINARY_REVIEW), (S.REJECTED, S.PRELIMINARY_REVIEW)],
)
def test_advance_from_side_exits(make_filing: MakeFiling, stage: Stage, happy_next: Stage) -> None:
    filing = make_filing(stage, MONDAY)
    assert advance(filing, MONDAY + timedelta(days=1), ACTOR).stage is happy_next


def test_advance_to_a_stage_not_allowed_lists_the_allowed(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    with pytest.raises(TransitionNotAllowed) as refused:
        advance(filing, MONDAY + timedelta(hours=1), ACTOR, to=S.SMS_VERIFICATION)
    message = str(refused.value)
    assert "ICP-0001" in message
    # The stages as staff name them (`list` shows them, `--to` takes them), not the ids.
    assert "from 'preliminary' to 'SMS check'" in message
    assert "allowed: 'await photo', 'returned'" in message
    assert "withdrawn" not in message  # withdrawing has its own action


def test_advance_from_sms_check_lists_its_targets(make_filing: MakeFiling) -> None:
    filing = make_filing(S.SMS_VERIFICATION, MONDAY)
    with pytest.raises(TransitionNotAllowed, match=r"allowed: 'authority', 'returned'"):
        advance(filing, MONDAY, ACTOR, to=S.APPROVED)
    returned = advance(filing, MONDAY, ACTOR, to=S.RETURNED, reason="SMS check not completed")
    assert returned.stage is S.RETURNED


@pytest.mark.parametrize("stage", [S.PRELIMINARY_REVIEW, S.RETURNED, S.AWAITING_SUBMISSION])
def test_advance_to_withdrawn_is_refused(make_filing: MakeFiling, stage: Stage) -> None:
    filing = make_filing(stage, MONDAY)
    with pytest.raises(TransitionNotAllowed, match="use withdraw"):
        advance(filing, MONDAY + timedelta(hours=1), ACTOR, to=S.WITHDRAWN)


@pytest.mark.parametrize("stage", [S.APPROVED, S.WITHDRAWN])
def test_a_closed_filing_does_not_move(make_filing: MakeFiling, stage: Stage) -> None:
    filing = make_filing(stage, MONDAY)
    assert advance_targets(filing.stage) == ()
    with pytest.raises(TransitionNotAllowed, match="closed filing does not move"):
        advance(filing, MONDAY + timedelta(days=1), ACTOR, to=S.PRELIMINARY_REVIEW)
    # With no next stage and no `to`: the same refusal, naming when it closed.
    with pytest.raises(TransitionNotAllowed) as refused:
        advance(filing, MONDAY + timedelta(days=1), ACTOR)
    assert str(refused.value) == (
        f"ICP-0001 was {stage.value} on 2025-03-03 10:00: a closed filing does not move"
    )


def test_approval_records_the_icp_number(make_filing: MakeFiling) -> None:
    filing = make_filing(S.AUTHORITY_REVIEW, MONDAY, province="Zhejiang")
    approved = advance(filing, bj(2025, 3, 20, 9), ACTOR, icp_number="浙ICP备2025000001号-1")
    assert approved.icp_number == "浙ICP备2025000001号-1"
    assert_round_trips(approved)


@pytest.mark.parametrize(("province", "example"), [("Beijing", "京"), ("Atlantis", "浙")])
def test_approving_without_a_number_shows_one_for_the_province(
    make_filing: MakeFiling, province: str, example: str
) -> None:
    filing = make_filing(S.AUTHORITY_REVIEW, MONDAY, province=province)
    with pytest.raises(InvalidInput) as refused:
        advance(filing, bj(2025, 3, 20, 9), ACTOR)
    assert str(refused.value) == (
        "ICP-0001: approving records the ICP number the authority issued "
        f"(e.g. --icp-number {example}ICP备2026012345号-1)"
    )


@pytest.mark.parametrize("stage", [S.RETURNED, S.REJECTED])
def test_resubmission_sets_submitted_at(make_filing: MakeFiling, stage: Stage) -> None:
    filing = make_filing(stage, MONDAY)
    at = bj(2025, 3, 10, 9, 30)
    resubmitted = advance(filing, at, ACTOR)
    assert resubmitted.stage is S.PRELIMINARY_REVIEW
    assert resubmitted.submitted_at == at
    assert resubmitted.entered_at == at
    assert filing.submitted_at < at
    assert_round_trips(resubmitted)


def test_other_moves_keep_submitted_at(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    moved = advance(filing, bj(2025, 3, 4, 9), ACTOR)
    assert moved.submitted_at == MONDAY


def test_entering_photo_review_ticks_the_admin_photo(make_filing: MakeFiling) -> None:
    filing = make_filing(S.AWAITING_PHOTO, MONDAY)
    assert filing.checklist.admin_photo is False
    reviewed = advance(filing, bj(2025, 3, 4, 9), ACTOR)
    assert reviewed.stage is S.PHOTO_REVIEW
    assert reviewed.checklist.admin_photo is True
    assert advance(reviewed, bj(2025, 3, 4, 10), ACTOR).checklist.admin_photo is True


def test_advance_records_the_reason(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PHOTO_REVIEW, MONDAY)
    returned = advance(filing, bj(2025, 3, 4, 9), "bob", to=S.RETURNED, reason="photo blurred")
    last = returned.history[-1]
    assert (last.source, last.target, last.by, last.reason) == (
        S.PHOTO_REVIEW,
        S.RETURNED,
        "bob",
        "photo blurred",
    )


# -- withdraw ----------------------------------------------------------------------------------

WITHDRAWABLE = [
    S.PRELIMINARY_REVIEW,
    S.RETURNED,
    S.AWAITING_PHOTO,
    S.PHOTO_REVIEW,
    S.AWAITING_SUBMISSION,
]


@pytest.mark.parametrize("stage", WITHDRAWABLE)
def test_withdraw_before_submission_to_the_authority(make_filing: MakeFiling, stage: Stage) -> None:
    filing = make_filing(stage, MONDAY)
    at = bj(2025, 3, 4, 16)
    assert withdraw_refusal(filing) is None
    done = withdraw(filing, at, "bob", "wrong entity details")
    assert done.stage is S.WITHDRAWN
    assert done.entered_at == at
    assert done.version == filing.version + 1
    assert (done.updated_at, done.updated_by) == (at, "bob")
    last = done.history[-1]
    assert (last.at, last.by, last.source, last.target, last.reason) == (
        at,
        "bob",
        stage,
        S.WITHDRAWN,
        "wrong entity details",
    )
    assert_chained(done)
    assert_round_trips(done)


@pytest.mark.parametrize("stage", WITHDRAWABLE)
def test_withdraw_needs_a_reason(make_filing: MakeFiling, stage: Stage) -> None:
    filing = make_filing(stage, MONDAY)
    with pytest.raises(InvalidInput, match="reason"):
        withdraw(filing, bj(2025, 3, 4, 16), ACTOR, "")


@pytest.mark.parametrize("blank", ["   ", "\t\n"])
def test_withdraw_refuses_a_blank_reason(make_filing: MakeFiling, blank: str) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    with pytest.raises(InvalidInput):
        withdraw(filing, bj(2025, 3, 4, 16), ACTOR, blank)


SUBMITTED_MOVES = [
    (S.PRELIMINARY_REVIEW, bj(2025, 3, 3, 10)),
    (S.AWAITING_PHOTO, bj(2025, 3, 3, 11)),
    (S.PHOTO_REVIEW, bj(2025, 3, 4, 9)),
    (S.AWAITING_SUBMISSION, bj(2025, 3, 4, 15)),
    (S.SMS_VERIFICATION, bj(2025, 3, 5, 14, 20)),
]


@pytest.mark.parametrize(
    "extra",
    [
        [],
        [(S.AUTHORITY_REVIEW, bj(2025, 3, 6, 10))],
    ],
    ids=["sms_verification", "authority_review"],
)
def test_withdraw_refused_once_submitted_to_the_authority(
    filing_from_moves: MakeFiling, extra: list[tuple[Stage, datetime]]
) -> None:
    filing = filing_from_moves([*SUBMITTED_MOVES, *extra])
    with pytest.raises(WithdrawNotAllowed) as refused:
        withdraw(filing, bj(2025, 3, 7, 9), ACTOR, "applicant request")
    message = str(refused.value)
    assert "submitted to the communications administration" in message
    assert "2025-03-05" in message  # the day it entered sms_verification
    assert "2025-03-05 14:20" in message
    assert isinstance(refused.value, TransitionNotAllowed)
    assert isinstance(refused.value, IcpError)


def test_withdraw_refusal_names_the_latest_submission(filing_from_moves: MakeFiling) -> None:
    # Submitted to the authority on 3-5, returned, resubmitted, and submitted again on 3-12
    # (a time given in UTC: 2025-03-12 01:00Z is 09:00 in Beijing).
    filing = filing_from_moves(
        [
            *SUBMITTED_MOVES,
            (S.RETURNED, bj(2025, 3, 6, 10)),
            (S.PRELIMINARY_REVIEW, bj(2025, 3, 10, 10)),
            (S.AWAITING_PHOTO, bj(2025, 3, 10, 11)),
            (S.PHOTO_REVIEW, bj(2025, 3, 11, 9)),
            (S.AWAITING_SUBMISSION, bj(2025, 3, 11, 15)),
            (S.SMS_VERIFICATION, datetime(2025, 3, 12, 1, 0, tzinfo=UTC)),
        ]
    )
    refusal = withdraw_refusal(filing)
    assert refusal is not None
    assert "2025-03-12 09:00" in refusal
    assert "2025-03-05" not in refusal


@pytest.mark.parametrize("stage", [S.APPROVED, S.REJECTED, S.WITHDRAWN])
def test_withdraw_refused_once_closed(make_filing: MakeFiling, stage: Stage) -> None:
    filing = make_filing(stage, MONDAY)
    assert withdraw_refusal(filing)
    with pytest.raises(WithdrawNotAllowed, match="ICP-0001"):
        withdraw(filing, bj(2025, 3, 20), ACTOR, "applicant request")


@pytest.mark.parametrize(
    ("stage", "refusal"),
    [
        (
            S.APPROVED,
            "ICP-0001 was approved by the communications administration on 2025-03-03 10:00: "
            "a decided filing cannot be withdrawn",
        ),
        (
            S.REJECTED,
            "ICP-0001 was rejected by the communications administration on 2025-03-03 10:00: "
            "a decided filing cannot be withdrawn (resubmit it instead)",
        ),
        (
            S.SMS_VERIFICATION,
            "ICP-0001 cannot be withdrawn: it was submitted to the communications administration "
            "on 2025-03-03 10:00 (now in 'SMS check'); the applicant must complete the SMS "
            "check (or it is returned to them)",
        ),
        (
            S.AUTHORITY_REVIEW,
            "ICP-0001 cannot be withdrawn: it was submitted to the communications administration "
            "on 2025-03-03 09:00 (now in 'authority'); wait for the authority's decision",
        ),
    ],
)
def test_withdraw_refusal_says_why_and_what_to_do(
    make_filing: MakeFiling, stage: Stage, refusal: str
) -> None:
    assert withdraw_refusal(make_filing(stage, MONDAY)) == refusal


def test_submitted_at_the_same_instant_as_the_submission_still_names_it(
    filing_from_moves: MakeFiling,
) -> None:
    # Every move up to the SMS check stamped at one instant (an import can do that).
    at = bj(2025, 3, 3, 10)
    moves = [(s, at) for s in (S.PRELIMINARY_REVIEW, S.AWAITING_PHOTO, S.PHOTO_REVIEW)]
    filing = filing_from_moves(
        [
            *moves,
            (S.AWAITING_SUBMISSION, at),
            (S.SMS_VERIFICATION, at),
            (S.AUTHORITY_REVIEW, MONDAY + timedelta(days=1)),
        ]
    )
    refusal = withdraw_refusal(filing)
    assert refusal is not None and "administration on 2025-03-03 10:00 " in refusal


def test_withdraw_refused_when_already_withdrawn_says_so(make_filing: MakeFiling) -> None:
    filing = make_filing(S.WITHDRAWN, MONDAY)
    with pytest.raises(WithdrawNotAllowed, match="already withdrawn on 2025-03-03 10:00"):
        withdraw(filing, bj(2025, 3, 20), ACTOR, "applicant request")


# -- notes, tickets, assignment ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "called the applicant",
        "[red]x[/red]",
        "\x1b[31mred\x1b[0m",
        "  leading and trailing spaces  ",
        "two\nlines\r\nand a tab\t",
        "申请人要求撤回；请联系王先生",
        "[bold]*not* markdown[/bold] <b>nor html</b> ${HOME} %s {0}",
    ],
)
def test_notes_keep_text_exactly(make_filing: MakeFiling, text: str) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    at = bj(2025, 3, 3, 11)
    noted = add_note(filing, at, "bob", text)
    assert noted.notes[-1].text == text
    assert (noted.notes[-1].at, noted.notes[-1].by) == (at, "bob")
    assert noted.version == filing.version + 1
    assert (noted.updated_at, noted.updated_by) == (at, "bob")
    # Not a move, but in the audit trail: who added a note, when, in which stage.
    assert noted.history[:-1] == filing.history
    recorded = noted.history[-1]
    assert (recorded.at, recorded.by, recorded.reason) == (at, "bob", "note added")
    assert recorded.source is recorded.target is filing.stage and not recorded.moved
    assert noted.stage is filing.stage
    assert noted.entered_at == filing.entered_at
    assert_round_trips(noted)
    assert from_record(to_record(noted)).notes[-1].text == text


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_a_blank_note_is_refused(make_filing: MakeFiling, text: str) -> None:
    with pytest.raises(InvalidInput, match=r"^the note is empty$"):
        add_note(make_filing(), MONDAY, ACTOR, text)


def test_a_huge_note_is_refused(make_filing: MakeFiling) -> None:
    filing = make_filing()
    assert add_note(filing, MONDAY, ACTOR, "x" * MAX_TEXT).notes[-1].text == "x" * MAX_TEXT
    with pytest.raises(InvalidInput, match="longer"):
        add_note(filing, MONDAY, ACTOR, "x" * (MAX_TEXT + 1))


def test_a_huge_reason_is_refused_naming_the_reason(make_filing: MakeFiling) -> None:
    """The message says which text was too long: the reason a return or withdrawal gives."""
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    huge = "x" * (MAX_TEXT + 1)
    message = rf"^the reason is longer than {MAX_TEXT} characters$"
    with pytest.raises(InvalidInput, match=message):
        advance(filing, MONDAY, ACTOR, to=S.RETURNED, reason=huge)
    with pytest.raises(InvalidInput, match=message):
        withdraw(filing, MONDAY, ACTOR, huge)


def test_notes_accumulate_in_order(make_filing: MakeFiling) -> None:
    filing = make_filing()
    filing = add_note(filing, bj(2025, 3, 3, 11), "bob", "first")
    filing = add_note(filing, bj(2025, 3, 3, 12), "alice", "second")
    assert [(n.by, n.text) for n in filing.notes] == [("bob", "first"), ("alice", "second")]
    assert filing.version == 3


def test_record_ticket(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PHOTO_REVIEW, MONDAY)
    at = bj(2025, 3, 7, 9)
    ticketed = record_ticket(filing, at, "bob", "TK-20250307-0042")
    assert ticketed.ticket == "TK-20250307-0042"
    assert ticketed.version == filing.version + 1
    assert (ticketed.updated_at, ticketed.updated_by) == (at, "bob")
    assert ticketed.history[:-1] == filing.history
    assert ticketed.history[-1].reason == "ticket TK-20250307-0042"
    assert not ticketed.history[-1].moved and ticketed.last_move == filing.last_move
    with pytest.raises(InvalidInput, match=r"^the ticket reference is empty$"):
        record_ticket(filing, at, "bob", "  ")


def test_assign_and_unassign(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PHOTO_REVIEW, MONDAY)
    at = bj(2025, 3, 4, 9)
    given_to = assign(filing, at, "bob", "李雷")
    assert given_to.assignee == "李雷"
    assert given_to.version == filing.version + 1
    assert (given_to.updated_at, given_to.updated_by) == (at, "bob")
    cleared = assign(given_to, at + timedelta(minutes=1), "alice", None)
    assert cleared.assignee is None
    assert cleared.version == filing.version + 2
    assert cleared.updated_by == "alice"
    assert [e.reason for e in cleared.history[-2:]] == ["assigned to 李雷", "unassigned"]
    assert_round_trips(cleared)
    with pytest.raises(InvalidInput, match=r"^the assignee is empty$"):
        assign(filing, at, "bob", "   ")


# -- undo ------------------------------------------------------------------------------------


def test_undo_an_advance_within_five_minutes(make_filing: MakeFiling) -> None:
    assert timedelta(minutes=5) == UNDO_WINDOW
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    moved_at = bj(2025, 3, 4, 9)
    moved = advance(filing, moved_at, ACTOR)
    back = undo(moved, filing, moved.version, moved_at + UNDO_WINDOW, ACTOR)
    assert back.stage is S.PRELIMINARY_REVIEW
    assert back.entered_at == filing.entered_at  # the stage's clock is not restarted
    assert back.submitted_at == filing.submitted_at
    assert back.version == moved.version + 1
    assert (back.updated_at, back.updated_by) == (moved_at + UNDO_WINDOW, ACTOR)
    last = back.history[-1]
    assert last.undo is True
    assert (last.source, last.target, last.by, last.at) == (
        S.AWAITING_PHOTO,
        S.PRELIMINARY_REVIEW,
        ACTOR,
        moved_at + UNDO_WINDOW,
    )
    assert len(back.history) == len(moved.history) + 1
    assert_chained(back)
    assert_round_trips(back)


def test_undo_a_withdrawal(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PHOTO_REVIEW, MONDAY, assignee="bob")
    at = bj(2025, 3, 4, 9)
    gone = withdraw(filing, at, ACTOR, "applicant request")
    back = undo(gone, filing, gone.version, at + timedelta(minutes=2), ACTOR)
    assert back.stage is S.PHOTO_REVIEW
    assert back.checklist == filing.checklist
    assert back.assignee == "bob"
    assert_round_trips(back)


def test_undo_a_resubmission_restores_submitted_at(make_filing: MakeFiling) -> None:
    filing = make_filing(S.RETURNED, MONDAY)
    at = bj(2025, 3, 10, 9)
    resubmitted = advance(filing, at, ACTOR)
    back = undo(resubmitted, filing, resubmitted.version, at + timedelta(minutes=1), ACTOR)
    assert back.stage is S.RETURNED
    assert back.submitted_at == filing.submitted_at
    assert_round_trips(back)


def test_undo_a_note(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    at = bj(2025, 3, 3, 12)
    noted = add_note(filing, at, ACTOR, "oops")
    back = undo(noted, filing, noted.version, at + timedelta(minutes=3), ACTOR)
    assert back.notes == ()
    assert back.stage is S.PRELIMINARY_REVIEW
    assert back.entered_at == filing.entered_at
    assert back.history[-1].undo
    assert_round_trips(back)


def _content(filing: Filing) -> Filing:
    """The filing without what every change moves on (version, who and when, history)."""
    return replace(filing, version=0, updated_at=None, updated_by=None, history=())


CHANGES: dict[str, Callable[[Filing, datetime], Filing]] = {
    "note": lambda f, at: add_note(f, at, ACTOR, "called"),
    "ticket": lambda f, at: record_ticket(f, at, ACTOR, "TK-2"),
    "assign": lambda f, at: assign(f, at, ACTOR, "carol"),
    "sms resent": lambda f, at: sms_resent(f, at, ACTOR),
    "authority review": lambda f, at: advance(f, at, ACTOR),
    "returned": lambda f, at: advance(f, at, ACTOR, to=S.RETURNED, reason="SMS check missed"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_undo_puts_back_everything_the_change_changed(make_filing: MakeFiling, change: str) -> None:
    # An SMS check with a ticket, an assignee, materials and a resend already recorded.
    materials = Checklist(admin_photo=True, materials_mailed=True, materials_received=True)
    filing = make_filing(
        S.SMS_VERIFICATION, MONDAY, ticket="TK-1", assignee="bob", checklist=materials
    )
    filing = sms_resent(filing, MONDAY + timedelta(hours=1), ACTOR)
    at = MONDAY + timedelta(hours=2)
    changed = CHANGES[change](filing, at)
    assert _content(changed) != _content(filing)
    back = undo(changed, filing, changed.version, at + timedelta(minutes=1), ACTOR)
    assert _content(back) == _content(filing)
    assert back.history[-1] == Transition(
        at + timedelta(minutes=1),
        ACTOR,
        changed.stage,
        filing.stage,
        "undo of the last change",
        undo=True,
    )


def test_undo_of_an_approval_takes_back_the_icp_number(make_filing: MakeFiling) -> None:
    filing = make_filing(S.AUTHORITY_REVIEW, MONDAY, province="Zhejiang")
    at = bj(2025, 3, 20, 9)
    approved = advance(filing, at, ACTOR, icp_number="浙ICP备2025000001号-1")
    back = undo(approved, filing, approved.version, at + timedelta(minutes=1), ACTOR)
    assert (back.stage, back.icp_number) == (S.AUTHORITY_REVIEW, None)
    noted = add_note(approved, at + timedelta(minutes=1), ACTOR, "number sent to the applicant")
    kept = undo(noted, approved, noted.version, at + timedelta(minutes=2), ACTOR)
    assert kept.icp_number == "浙ICP备2025000001号-1"


def test_undo_of_entering_photo_review_unticks_the_photo(make_filing: MakeFiling) -> None:
    filing = make_filing(S.AWAITING_PHOTO, MONDAY)
    reviewed = advance(filing, bj(2025, 3, 4, 9), ACTOR)
    back = undo(reviewed, filing, reviewed.version, bj(2025, 3, 4, 9, 1), ACTOR)
    assert back.checklist.admin_photo is False


def test_undo_refused_after_five_minutes(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    moved_at = bj(2025, 3, 4, 9)
    moved = advance(filing, moved_at, ACTOR)
    late = moved_at + UNDO_WINDOW + timedelta(seconds=1)
    with pytest.raises(TransitionNotAllowed, match="more than 5 minutes"):
        undo(moved, filing, moved.version, late, ACTOR)


def test_undo_refused_once_the_version_moved_on(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    moved_at = bj(2025, 3, 4, 9)
    moved = advance(filing, moved_at, ACTOR)
    noted = add_note(moved, moved_at + timedelta(minutes=1), "bob", "looked at it")
    with pytest.raises(TransitionNotAllowed, match="changed by bob") as refused:
        undo(noted, filing, moved.version, moved_at + timedelta(minutes=2), ACTOR)
    # When bob changed it (Beijing time), not when the undo was asked for.
    assert "at 2025-03-04 09:01 since your change: nothing to undo" in str(refused.value)


def test_undo_refused_without_a_recorded_change_time(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    never_changed = replace(filing, version=2)
    with pytest.raises(TransitionNotAllowed):
        undo(never_changed, filing, 2, MONDAY, ACTOR)


def test_advance_after_an_undo_still_round_trips(make_filing: MakeFiling) -> None:
    filing = make_filing(S.PRELIMINARY_REVIEW, MONDAY)
    moved = advance(filing, bj(2025, 3, 4, 9), ACTOR, to=S.RETURNED, reason="materials missing")
    back = undo(moved, filing, moved.version, bj(2025, 3, 4, 9, 1), ACTOR)
    onward = advance(back, bj(2025, 3, 4, 10), ACTOR)
    assert onward.stage is S.AWAITING_PHOTO
    assert_chained(onward)
    assert_round_trips(onward)


# -- a new filing ----------------------------------------------------------------------------


def test_submit_creates_a_valid_filing_in_preliminary_review() -> None:
    at = bj(2025, 3, 3, 10)
    filing = submit(
        "ICP-2025-00001",
        "例子.cn",
        "杭州示例科技有限公司",
        EntityType.COMPANY,
        "Zhejiang",
        at,
        ACTOR,
    )
    assert filing.stage is S.PRELIMINARY_REVIEW
    assert filing.entered_at == filing.submitted_at == at
    assert filing.version == 1
    assert (filing.updated_at, filing.updated_by) == (at, ACTOR)
    assert len(filing.history) == 1
    assert (filing.history[0].source, filing.history[0].by) == (None, ACTOR)
    assert_chained(filing)
    assert_round_trips(filing)
    assert filing.history[0].reason == "submitted"
    with pytest.raises(InvalidInput, match=r"^the domain is empty$"):
        submit("ICP-2025-00002", " ", "x", EntityType.INDIVIDUAL, "Beijing", at, ACTOR)
    with pytest.raises(InvalidInput, match=r"^the entity is empty$"):
        submit("ICP-2025-00002", "example.cn", " ", EntityType.INDIVIDUAL, "Beijing", at, ACTOR)


@pytest.mark.parametrize(
    ("domain", "valid"),
    [
        ("www.123.cn", True),  # only the top-level label may not be all digits
        ("www.example.123", False),
        ("example.123", False),
        ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 61, True),  # 253: the limit
        ("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 62, False),  # 254
    ],
)
def test_domain_name_rules(domain: str, valid: bool) -> None:
    if valid:
        assert check_domain(domain) == domain
    else:
        with pytest.raises(InvalidInput, match="is not a domain name"):
            check_domain(domain)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("bad", "'bad'"),
        ("x" * 60, repr("x" * 60)),  # up to 60 characters shown whole
        ("x" * 61, repr("x" * 57 + "...")),  # longer: cut to 57 and marked
    ],
)
def test_a_wrong_domain_is_named_in_the_refusal(typed: str, shown: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_domain(typed)
    assert str(refused.value) == (
        f"{shown} is not a domain name: expected a host name like example.com or 例子.中国"
    )


def test_next_filing_id() -> None:
    at = bj(2026, 1, 1, 0, 30)  # 2025-12-31 16:30Z: already 2026 in Beijing
    assert next_filing_id(set(), at) == "ICP-2026-00001"
    existing = {"ICP-2026-00007", "ICP-2026-00012", "ICP-2025-00099", "ICP-2026-x", "other"}
    assert next_filing_id(existing, at) == "ICP-2026-00013"
    assert next_filing_id(existing, datetime(2025, 12, 31, 16, 30, tzinfo=UTC)) == (
        "ICP-2026-00013"
    )


# -- mailed materials --------------------------------------------------------------------------


def test_materials_go_pending_mailed_received_and_never_back(make_filing: MakeFiling) -> None:
    filing = make_filing(S.AWAITING_PHOTO, MONDAY)
    assert materials_state(filing, requires_mailing=False) is None
    assert materials_state(filing, requires_mailing=True) == "pending"
    mailed = record_materials(filing, MONDAY + timedelta(hours=1), ACTOR, received=False)
    assert materials_state(mailed, requires_mailing=True) == "mailed"
    received = record_materials(mailed, MONDAY + timedelta(hours=2), ACTOR, received=True)
    assert materials_state(received, requires_mailing=True) == "received"
    with pytest.raises(TransitionNotAllowed) as refused:
        record_materials(received, MONDAY + timedelta(hours=3), ACTOR, received=False)
    assert str(refused.value) == (
        "ICP-0001: the mailed materials were already received; they cannot go back to mailed"
    )
    with pytest.raises(TransitionNotAllowed) as refused:
        record_materials(make_filing(S.AUTHORITY_REVIEW, MONDAY), MONDAY, ACTOR, received=True)
    assert str(refused.value) == (
        "ICP-0001 is in 'authority': mailed materials are recorded between the preliminary "
        "review and the submission to the communications administration"
    )


def test_recording_materials_is_a_dated_signed_change_in_the_history(
    make_filing: MakeFiling,
) -> None:
    filing = make_filing(S.PHOTO_REVIEW, MONDAY)
    mailed_at, received_at = MONDAY + timedelta(hours=1), MONDAY + timedelta(days=2)
    mailed = record_materials(filing, mailed_at, "bob", received=False)
    received = record_materials(mailed, received_at, "carol", received=True)
    assert (mailed.updated_at, mailed.updated_by, mailed.version) == (
        mailed_at,
        "bob",
        filing.version + 1,
    )
    assert (received.updated_at, received.updated_by) == (received_at, "carol")
    assert received.history[-2:] == (
        Transition(mailed_at, "bob", S.PHOTO_REVIEW, S.PHOTO_REVIEW, "materials mailed"),
        Transition(received_at, "carol", S.PHOTO_REVIEW, S.PHOTO_REVIEW, "materials received"),
    )
    # Not a move: the stage and its clock stay as they were.
    assert (received.stage, received.entered_at) == (S.PHOTO_REVIEW, MONDAY)
    assert received.checklist.materials_mailed and received.checklist.materials_received
    assert_chained(received)
    assert_round_trips(received)
