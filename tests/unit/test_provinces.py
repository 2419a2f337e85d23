"""Provinces: what staff read when an ICP number or a province name is not one the tool knows."""

from __future__ import annotations

import pytest

from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.provinces import (
    Province,
    ProvinceTable,
    icp_number_example,
    icp_number_problem,
)

ZHEJIANG_FORM = (
    "expected 浙ICP备, the digits and 号, optionally -N for the N-th website "
    "(e.g. 浙ICP备2026012345号-1)"
)


def test_the_approve_dialog_is_told_what_is_wrong_with_a_number_or_nothing() -> None:
    assert icp_number_problem("浙ICP备2026012345号-1", "Zhejiang") is None
    assert icp_number_problem("沪ICP备2026012345号", "Zhejiang") == (
        f"'沪ICP备2026012345号' is not an ICP number of Zhejiang: {ZHEJIANG_FORM}"
    )


def test_a_long_wrong_number_is_shown_cut_to_forty_characters() -> None:
    whole = "1" * 40
    assert icp_number_problem(whole, "Zhejiang") == (
        f"'{whole}' is not an ICP number of Zhejiang: {ZHEJIANG_FORM}"
    )
    assert icp_number_problem(whole + "2", "Zhejiang") == (
        f"'{'1' * 37}...' is not an ICP number of Zhejiang: {ZHEJIANG_FORM}"
    )


def test_a_province_without_a_known_abbreviation_takes_any_and_says_so() -> None:
    """A province added to the data file but not to the abbreviations: any one-character
    abbreviation is accepted, and the expected form shows '?' where it goes."""
    assert icp_number_example("Atlantis") == "?ICP备2026012345号-1"
    assert icp_number_problem("浙ICP备2026012345号", "Atlantis") is None
    assert icp_number_problem("ICP备2026012345号", "Atlantis") == (
        "'ICP备2026012345号' is not an ICP number of Atlantis: expected ?ICP备, the digits "
        "and 号, optionally -N for the N-th website (e.g. ?ICP备2026012345号-1)"
    )


def test_an_unknown_province_lists_the_known_ones() -> None:
    table = ProvinceTable(
        [
            Province("Beijing", ("北京市",), 20, requires_mailing=False),
            Province("Zhejiang", ("浙江省",), 30, requires_mailing=True),
        ]
    )
    with pytest.raises(InvalidInput) as unknown:
        table.resolve("Atlantis")
    assert str(unknown.value) == "unknown province 'Atlantis'; use one of: Beijing, Zhejiang"
