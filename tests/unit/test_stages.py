"""The stage table's derived facts and the reasons staff pick when returning or rejecting."""

from __future__ import annotations

import pytest
from unit_helpers import HAPPY_PATH, S

from icp_tui.domain import stages
from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.stages import ReasonLists, find_stage


def test_the_happy_path_follows_the_table_from_submission_to_approval() -> None:
    assert stages._happy_path() == HAPPY_PATH
    assert HAPPY_PATH == stages.HAPPY_PATH


REASONS = ReasonLists(
    returned=("other", "logo missing", "materials missing"),
    rejected=("not allowed", "other"),
)


def test_other_is_offered_once_and_last_whatever_the_data_file_lists() -> None:
    assert REASONS.offered(S.RETURNED) == ("logo missing", "materials missing", "other")
    assert REASONS.offered(S.REJECTED) == ("not allowed", "other")


def test_a_rejection_reason_is_picked_from_the_rejection_list() -> None:
    assert REASONS.chosen(S.REJECTED, "Not Allowed") == "not allowed"
    assert REASONS.chosen(S.REJECTED, "logo missing") == "other: logo missing"
    assert REASONS.chosen(S.RETURNED, "not allowed") == "other: not allowed"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("other:wrong city", "other: wrong city"),
        ("Other:  wrong city ", "other: wrong city"),
        ("other:x", "other: x"),
    ],
)
def test_other_with_its_text_is_kept_with_one_space(typed: str, kept: str) -> None:
    assert REASONS.chosen(S.RETURNED, typed) == kept


def test_an_unknown_stage_lists_the_known_ones_by_label() -> None:
    with pytest.raises(ValueError) as unknown:
        find_stage("nowhere")
    assert str(unknown.value) == (
        "unknown stage 'nowhere' (known: 'preliminary', 'returned', 'await photo', "
        "'photo review', 'to submit', 'SMS check', 'authority', 'approved', 'rejected', "
        "'withdrawn')"
    )
    for stage in S:  # each name listed is one find_stage takes
        assert find_stage(stages.rule(stage).short) is stage


def test_a_reason_is_the_listed_one_it_starts_and_the_start_of_several_is_refused() -> None:
    assert REASONS.chosen(S.RETURNED, "Logo") == "logo missing"
    assert REASONS.chosen(S.RETURNED, "materials-missing") == "materials missing"
    assert REASONS.chosen(S.RETURNED, "m") == "materials missing"  # nothing else starts so
    assert REASONS.chosen(S.RETURNED, "missing") == "other: missing"  # a start, not a part
    with pytest.raises(InvalidInput) as refused:
        REASONS.chosen(S.WITHDRAWN, "d")
    assert str(refused.value) == (
        "reason 'd' is ambiguous: it could be 'duplicate application', 'domain not ready': "
        'type more of it, or "other: d"'
    )


def test_withdraw_reasons_are_the_configured_ones_with_other_last() -> None:
    assert REASONS.offered(S.WITHDRAWN) == stages.WITHDRAW_REASONS
    mine = ReasonLists((), (), withdrawn=("other", "paid twice"))
    assert mine.offered(S.WITHDRAWN) == ("paid twice", "other")
    assert mine.chosen(S.WITHDRAWN, "Paid") == "paid twice"
    assert mine.chosen(S.WITHDRAWN, "applicant request") == "other: applicant request"


@pytest.mark.parametrize("typed", ["other", "Other: ", " OTHER:"])
def test_other_without_its_text_says_it_takes_words(typed: str) -> None:
    # Not "needs a reason": the user gave one, "other", and is told what it lacks.
    with pytest.raises(InvalidInput) as refused:
        REASONS.chosen(S.WITHDRAWN, typed)
    assert str(refused.value) == '"other" takes the reason in words: "other: TEXT"'


def test_the_start_of_other_is_free_text_not_the_bare_word() -> None:
    # "other" itself is no reason: a start of it is text of its own, kept as "other: oth".
    assert REASONS.chosen(S.RETURNED, "oth") == "other: oth"
    assert REASONS.chosen(S.WITHDRAWN, "Ot") == "other: Ot"
