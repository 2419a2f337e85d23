"""Names staff type: stages and healths by label or prefix, filings by their number."""

from __future__ import annotations

import pytest

from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.naming import counted, resolve_filing_id
from icp_tui.domain.sla import Health, find_health
from icp_tui.domain.stages import Stage, find_stage, rule


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_is_found_by_its_id_short_label_and_label(stage: Stage) -> None:
    for typed in (stage.value, stage.value.replace("_", "-"), rule(stage).short, rule(stage).label):
        assert find_stage(typed.upper()) is stage, typed


def test_a_stage_by_unambiguous_prefix() -> None:
    assert find_stage("authority") is Stage.AUTHORITY_REVIEW  # the table's word (issue 13)
    assert find_stage("sms") is Stage.SMS_VERIFICATION
    assert find_stage("photo") is Stage.PHOTO_REVIEW
    with pytest.raises(ValueError, match=r"ambiguous.*'preliminary'"):
        find_stage("a")
    with pytest.raises(ValueError, match="unknown stage 'x'"):
        find_stage("x")


def test_an_ambiguous_or_unknown_name_lists_the_choices_as_staff_type_them() -> None:
    """The whole message staff read: every choice it could be, or every known one; stages by
    their labels as messages quote them, healths as --health's help spells them."""
    with pytest.raises(ValueError) as ambiguous:
        find_stage("a")
    assert str(ambiguous.value) == (
        "stage 'a' is ambiguous: it could be 'preliminary', 'await photo', 'to submit', "
        "'authority', 'approved'"
    )
    with pytest.raises(ValueError) as unknown:
        find_health("purple")
    assert str(unknown.value) == (
        "unknown health 'purple' (known: breached, at-risk, on-track, waiting, done)"
    )


def test_health_by_word_hyphen_and_prefix() -> None:
    assert find_health("at-risk") is Health.AT_RISK
    assert find_health("on track") is Health.ON_TRACK
    assert find_health("breach") is Health.BREACHED
    with pytest.raises(ValueError, match=r"unknown health 'purple' \(known: breached"):
        find_health("purple")


IDS = ["ICP-2026-00155", "ICP-2026-00001", "ICP-2025-00001"]


def test_a_filing_by_number_alone_or_any_case() -> None:
    assert resolve_filing_id("155", lambda: IDS) == "ICP-2026-00155"
    assert resolve_filing_id("00155", lambda: IDS) == "ICP-2026-00155"
    assert resolve_filing_id("icp-2026-00155", lambda: IDS) == "ICP-2026-00155"
    assert resolve_filing_id("999", lambda: IDS) == "999"  # the store says it is unknown
    assert resolve_filing_id("²", lambda: IDS) == "²"
    with pytest.raises(InvalidInput) as shared:
        resolve_filing_id("1", lambda: IDS)
    assert str(shared.value) == (
        "1 is the number of 2 filings (ICP-2025-00001, ICP-2026-00001): give the whole id"
    )


def test_a_whole_id_does_not_list_the_store() -> None:
    def no_listing() -> list[str]:
        raise AssertionError("listed every id for a whole one")

    assert resolve_filing_id("ICP-2026-00042", no_listing) == "ICP-2026-00042"


@pytest.mark.parametrize(("n", "said"), [(0, "0 bad rows"), (1, "1 bad row"), (2, "2 bad rows")])
def test_a_count_is_singular_for_one_only(n: int, said: str) -> None:
    assert counted(n, "bad row") == said
