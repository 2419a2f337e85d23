"""The report's approval figures: per province the median and P90 of the reviews decided in
the window against the target, and the filings already past their P90 ("slower than 9 in
10"), in the text, Markdown and JSON reports alike."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from icp_tui.config import Reference, Settings, load_reference
from icp_tui.domain import transitions as t
from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.stages import Stage
from icp_tui.report import build_report, render_markdown, render_text, report_json

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)


def bj(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(Settings())


def in_review(number: int, entered: datetime) -> Filing:
    start = entered - timedelta(days=1)
    f = t.submit(f"ICP-2026-{number:05d}", f"s{number}.cn", "E", EntityType.COMPANY, "Hebei",
                 start, "amy")  # fmt: skip
    for step in range(4):
        f = t.advance(f, start + timedelta(minutes=10 * (step + 1)), "amy")
    return t.advance(f, entered, "amy")


def decided(number: int, entered: datetime, at: datetime) -> Filing:
    number_text = f"冀ICP备2026{number:06d}号-1"
    return t.advance(in_review(number, entered), at, "amy", Stage.APPROVED, icp_number=number_text)


def filings() -> list[Filing]:
    # Entered Mon 2026-11-02; decided after 2, 3, 3, 5 and 9 business days.
    reviews = [
        decided(n, bj(11, 2), at)
        for n, at in enumerate([bj(11, 4), bj(11, 5), bj(11, 5), bj(11, 9), bj(11, 13)], 1)
    ]
    slow = in_review(10, bj(11, 9))  # 9 bd after is Fri 2026-11-20: past it on the 25th
    quick = in_review(11, bj(11, 24))
    old = decided(12, bj(3, 2), bj(3, 30))  # decided before the 180-day window
    return [*reviews, slow, quick, old]


def test_per_province_median_and_p90_of_the_window_against_the_target(
    reference: Reference,
) -> None:
    report = build_report(filings(), reference, NOW)
    (hebei,) = report.authority_review
    assert (hebei.province, hebei.reviews, hebei.median_bd, hebei.p90_bd) == ("Hebei", 5, 3, 9)
    assert (hebei.target_bd, hebei.over_target) == (20, False)
    row = report_json(report)["authority_review"][0]
    assert (row["median_bd"], row["p90_bd"], row["target_bd"]) == (3, 9, 20)
    assert "p90 bd" in render_text(report)


def test_filings_past_their_p90_are_listed_as_slower_than_9_in_10(reference: Reference) -> None:
    report = build_report(filings(), reference, NOW)
    assert [s.id for s in report.slower_than_p90] == ["ICP-2026-00010"]
    assert report.slower_than_p90[0].p90 == datetime(2026, 11, 20, 23, 59, 59, tzinfo=BEIJING)
    text = render_text(report)
    assert "Slower than 9 in 10 (1)" in text and "P90 2026-11-20" in text
    assert "Slower than 9 in 10 (1)" in render_markdown(report)
    listed = report_json(report)["slower_than_p90"]
    assert [(s["id"], s["p90"]) for s in listed] == [
        ("ICP-2026-00010", "2026-11-20T23:59:59+08:00")
    ]
    # With fewer than 5 reviews the estimate is the target: nobody is "slower than 9 in 10".
    assert build_report(filings()[2:], reference, NOW).slower_than_p90 == ()
