"""SVG snapshots of the dashboard: what a member of staff sees, frozen at NOW on the demo queue.

Regenerate with `pytest tests/ui/test_snapshots.py --snapshot-update`, then look at the SVGs
in tests/ui/__snapshots__/ before accepting them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from textual.filter import Monochrome
from textual.pilot import Pilot
from ui_helpers import NOW, build_app, detail_text, highlight, svg_text, wait_for

from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.sla import Health
from icp_tui.domain.stages import Stage
from icp_tui.ui.app import IcpApp

SnapCompare = Any  # the snap_compare fixture of pytest-textual-snapshot

EVERY_STAGE = {
    Stage.PRELIMINARY_REVIEW,
    Stage.RETURNED,
    Stage.AWAITING_PHOTO,
    Stage.PHOTO_REVIEW,
    Stage.AWAITING_SUBMISSION,
    Stage.SMS_VERIFICATION,
    Stage.AUTHORITY_REVIEW,
    Stage.APPROVED,
}


def went_through_every_stage(demo: list[Filing]) -> Filing:
    """The demo filing that was returned once, then went all the way to approval."""
    return next(
        f
        for f in demo
        if f.stage is Stage.APPROVED and {t.target for t in f.history} >= EVERY_STAGE
    )


def test_main_screen_80x24(demo_db: Path, reference: Reference, snap_compare: SnapCompare) -> None:
    app = build_app(reference)

    async def check(pilot: Pilot[object]) -> None:
        rows = app.dashboard.table.rows
        assert rows[0].health is Health.BREACHED  # breached on top

    assert snap_compare(app, terminal_size=(80, 24), run_before=check)


def test_detail_of_a_filing_that_went_through_every_stage_120x40(
    demo_db: Path, demo: list[Filing], reference: Reference, snap_compare: SnapCompare
) -> None:
    target = went_through_every_stage(demo)
    app = build_app(reference)

    async def open_it(pilot: Pilot[object]) -> None:
        await highlight(pilot, target.id)
        await wait_for(pilot, lambda: target.id in detail_text(app))

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_it)


def test_withdraw_modal(demo_db: Path, reference: Reference, snap_compare: SnapCompare) -> None:
    app = build_app(reference)

    async def check(pilot: Pilot[object]) -> None:
        assert app.dashboard.check_action("withdraw", ()) is True

    assert snap_compare(app, terminal_size=(80, 24), press=["w", "down"], run_before=check)


def test_help_screen(demo_db: Path, reference: Reference, snap_compare: SnapCompare) -> None:
    app = build_app(reference)
    assert snap_compare(app, terminal_size=(80, 24), press=["question_mark"])


def test_main_screen_no_color(
    demo_db: Path,
    reference: Reference,
    snap_compare: SnapCompare,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(reference)  # Textual reads NO_COLOR when the App is built
    assert app.no_color
    assert any(isinstance(f, Monochrome) for f in app.get_line_filters())
    assert snap_compare(app, terminal_size=(80, 24))


# -- NO_COLOR, checked without a baseline ----------------------------------------------------------

HEX = re.compile(r"#([0-9a-fA-F]{2})([0-9a-fA-F]{2})([0-9a-fA-F]{2})\b")


def colours(svg: str) -> set[tuple[int, int, int]]:
    return {(int(r, 16), int(g, 16), int(b, 16)) for r, g, b in HEX.findall(svg)}


async def screenshot(app: IcpApp) -> str:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        return app.export_screenshot()


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
async def test_no_color_draws_in_greys_only(
    demo_db: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch, no_color: bool
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    svg = await screenshot(build_app(reference))
    # Drawn by Rich's SVG export, not by the app: the window's three "traffic lights" and the
    # default foreground of the line ends.
    chrome = {(0xFF, 0x5F, 0x57), (0xFE, 0xBC, 0x2E), (0x28, 0xC8, 0x40), (0xC5, 0xC8, 0xC6)}
    tinted = {c for c in colours(svg) - chrome if len(set(c)) > 1}
    if no_color:
        assert not tinted, tinted
    else:
        assert tinted  # health colours
    # Either way the health reads without colour: glyph and word.
    text = svg_text(svg)
    for word in ("✖ breached ICP-", "▲ at risk  ICP-", "● on track ICP-"):
        assert word in text
    assert NOW.strftime("%Y-%m-%d %H:%M Beijing") in text


RECT = re.compile(r'<rect fill="#(\w{6})" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"')


def row_background(svg: str, line: int) -> float:
    """The grey level (0 to 1) of the widest background run on a screen line."""
    runs = [
        (float(w), fill)
        for fill, _x, y, w in RECT.findall(svg)
        if round(float(y) / 24.4) == line  # Rich's SVG export: 24.4 px per line
    ]
    _, fill = max(runs)
    r, g, b = (int(fill[i : i + 2], 16) for i in (0, 2, 4))
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


async def test_no_color_cursor_row_stands_out(
    demo_db: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    svg = await screenshot(build_app(reference))
    lines = svg_text(svg).splitlines()
    cursor_line = next(i for i, text in enumerate(lines) if text.startswith("HEALTH")) + 1
    cursor, other = row_background(svg, cursor_line), row_background(svg, cursor_line + 1)
    assert abs(cursor - other) >= 0.25, (cursor, other)


async def test_no_color_highlighted_option_of_a_dialog_stands_out(
    demo_db: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stage list of `a` (and every dialog's list): without colour its highlighted
    option is in reverse video like the table's cursor, not bold on a grey that 16 colours
    make the terminal's own background (bright black)."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        rows = app.dashboard.table.rows
        await highlight(pilot, next(e.id for e in rows if e.stage is Stage.PRELIMINARY_REVIEW))
        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen is not app.dashboard)
        await pilot.pause()
        svg = app.export_screenshot()
    lines = svg_text(svg).splitlines()
    chosen = next(i for i, text in enumerate(lines) if "Waiting for the administrator" in text)
    other = next(i for i, text in enumerate(lines) if "Returned to applicant" in text)
    assert abs(row_background(svg, chosen) - row_background(svg, other)) >= 0.5


# -- issue 13: the columns that matter at every size, the detail on the current stage -------------

SIZES = [(80, 24), (100, 30), (120, 40), (160, 45)]


def busy_filing(demo: list[Filing]) -> Filing:
    """An open filing with an assignee, a flag and the longest history: the hardest to show."""
    flagged = [
        f
        for f in demo
        if f.assignee and f.stage in (Stage.PHOTO_REVIEW, Stage.AWAITING_SUBMISSION) and f.notes
    ]
    return max(flagged or demo, key=lambda f: (len(f.history), f.id))


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_dashboard_shows_assignee_flags_and_the_current_stage(
    demo_db: Path,
    demo: list[Filing],
    reference: Reference,
    snap_compare: SnapCompare,
    size: tuple[int, int],
) -> None:
    target = busy_filing(demo)
    app = build_app(reference)

    async def open_it(pilot: Pilot[object]) -> None:
        await highlight(pilot, target.id)
        if size[0] >= 120:
            await wait_for(pilot, lambda: target.id in detail_text(app))
            await pilot.pause(0.1)  # the pane scrolls to the current stage after its layout

    assert snap_compare(app, terminal_size=size, run_before=open_it)


@pytest.mark.parametrize("size", SIZES[:2], ids=[f"{w}x{h}" for w, h in SIZES[:2]])
def test_full_screen_detail_with_next_and_its_keys(
    demo_db: Path,
    demo: list[Filing],
    reference: Reference,
    snap_compare: SnapCompare,
    size: tuple[int, int],
) -> None:
    target = busy_filing(demo)
    app = build_app(reference)

    async def open_it(pilot: Pilot[object]) -> None:
        await highlight(pilot, target.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "next:" in svg_text(app.export_screenshot()))
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=size, run_before=open_it)


def test_detail_with_an_approval_estimate_120x40(
    make_db: Callable[[Iterable[Filing]], Path], reference: Reference, snap_compare: SnapCompare
) -> None:
    from test_timetravel import queue_history

    make_db(queue_history())
    app = build_app(reference)

    async def open_it(pilot: Pilot[object]) -> None:
        await highlight(pilot, "ICP-2026-00010")
        await wait_for(pilot, lambda: "from 5 reviews" in detail_text(app))

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_it)
