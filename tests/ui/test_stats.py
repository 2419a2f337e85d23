"""The statistics screen: readable at 80x24, by glyphs as well as colour; q / g / escape close it.

The screen is mounted on a tiny host app, so these tests depend only on the screen and the
report it presents.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from textual.app import App
from textual.pilot import Pilot

from icp_tui.config import Reference, Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain.filing import BEIJING
from icp_tui.domain.sla import HEALTH_ORDER
from icp_tui.domain.stages import Stage
from icp_tui.report import Report, build_report
from icp_tui.ui.stats import HEALTH_BLOCKS, TARGET_MARK, StatsScreen, split_bar

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def stats_reference() -> Reference:
    return load_reference(Settings())


@pytest.fixture(scope="module")
def report(stats_reference: Reference) -> Report:
    filings = generate_filings(120, NOW, stats_reference.policy, stats_reference.provinces, seed=2)
    return build_report(filings, stats_reference, NOW)


class Host(App[None]):
    """Just enough app to show the screen."""

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report

    def on_mount(self) -> None:
        self.push_screen(StatsScreen(self.report))


def screen_lines(pilot: Pilot[None]) -> list[str]:
    """The text of every terminal line, as a person would read it."""
    # The compositor's strips are what is on the terminal (no public API gives the text).
    return [strip.text for strip in pilot.app.screen._compositor.render_strips()]


async def test_renders_at_80x24_with_a_glyph_per_health(report: Report) -> None:
    async with Host(report).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(pilot.app.screen, StatsScreen)
        lines = screen_lines(pilot)
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        screen = "\n".join(lines)
        assert f"{report.total} filings" in screen
        assert "Filings per stage, by health" in screen
        for health in HEALTH_ORDER:
            assert f"{HEALTH_BLOCKS[health]} {health.word}" in screen, "the legend"
        authority = next(line for line in lines if line.lstrip().startswith("authority "))
        total = report.stage_total(Stage.AUTHORITY_REVIEW)
        assert f"{total:>5} " in authority
        assert HEALTH_BLOCKS[HEALTH_ORDER[0]] in authority, "breached filings show as █"
        assert "SLA breaches per day, last 30 days" in screen
        assert "(today)" in screen


async def test_scrolls_to_the_authority_review_times(report: Report) -> None:
    async with Host(report).run_test(size=(80, 24)) as pilot:
        await pilot.press("end")
        await pilot.pause()
        screen = "\n".join(screen_lines(pilot))
        assert "Authority review, median business days per province" in screen
        last = report.authority_review[-1]
        row = next(line for line in screen.splitlines() if line.strip().startswith(last.province))
        assert TARGET_MARK in row and f"of {last.target_bd:>2} bd" in row


@pytest.mark.parametrize("key", ["escape", "q", "g"])
async def test_escape_q_and_g_close_it(report: Report, key: str) -> None:
    async with Host(report).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(pilot.app.screen, StatsScreen)
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(pilot.app.screen, StatsScreen)
        assert len(pilot.app.screen_stack) == 1


async def test_an_empty_queue_still_draws(stats_reference: Reference) -> None:
    async with Host(build_report([], stats_reference, NOW)).run_test(size=(80, 24)) as pilot:
        await pilot.press("end")
        await pilot.pause()
        screen = "\n".join(screen_lines(pilot))
        assert "No finished authority reviews yet." in screen


def test_split_bar_adds_up_and_keeps_small_counts_visible() -> None:
    assert split_bar([1, 98, 1], 10) == [1, 8, 1]
    assert sum(split_bar([3, 5, 7, 0, 2], 23)) == 23
    assert split_bar([0, 0], 5) == [0, 0]
    assert split_bar([2, 2], 0) == [0, 0]


async def test_the_p90_per_province_and_the_filings_slower_than_9_in_10(
    stats_reference: Reference,
) -> None:
    # Enough filings for some provinces to have 5 reviews: estimates from history.
    filings = generate_filings(400, NOW, stats_reference.policy, stats_reference.provinces, seed=2)
    report = build_report(filings, stats_reference, NOW)
    assert report.slower_than_p90, "the demo has filings in review past their P90"
    async with Host(report).run_test(size=(80, 24)) as pilot:
        await pilot.press("end")
        await pilot.pause()
        screen = "\n".join(screen_lines(pilot))
        last = report.authority_review[-1]
        row = next(line for line in screen.splitlines() if line.strip().startswith(last.province))
        assert f"p90 {last.p90_bd:>2} of {last.target_bd:>2} bd" in row
        assert f"Slower than 9 in 10: {len(report.slower_than_p90)} filings" in screen
        slowest = report.slower_than_p90[0]
        assert any(line.strip().startswith(slowest.id) for line in screen.splitlines())
