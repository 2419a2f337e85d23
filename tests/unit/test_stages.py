"""The stage table's derived facts and the reasons staff pick when returning or rejecting."""

from __future__ import annotations

import pytest
from unit_helpers import HAPPY_PATH, S

from icp_tui.domain import stages
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


def test_an_unknown_stage_id_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as unknown:
        find_stage("nowhere")
    assert str(unknown.value) == (
        "unknown stage 'nowhere' (known: preliminary_review, returned, awaiting_photo, "
        "photo_review, awaiting_submission, sms_verification, authority_review, approved, "
        "rejected, withdrawn)"
    )
