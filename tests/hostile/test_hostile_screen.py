"""The dashboard at 80x24 on a filing whose fields hold markup, escape sequences, Chinese text,
emoji and a 2,000-character note: nothing is interpreted, the table stays aligned, long values
are cut with an ellipsis in the table and shown whole in the detail. And a terminal smaller
than 80x24 says "enlarge the window" until it is resized.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hostile_helpers import NOW, hand_filing, raw_controls
from rich.cells import cell_len
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Static
from ui_helpers import wait_for

from icp_tui.config import Reference, Settings
from icp_tui.display import inert
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import add_note, withdraw
from icp_tui.services import fixed_clock
from icp_tui.store import FilingStore
from icp_tui.ui.app import IcpApp, make_app
from icp_tui.ui.modals import DetailScreen
from icp_tui.ui.table import FilingTable

SnapCompare = Any  # the snap_compare fixture of pytest-textual-snapshot

DOMAIN = "[@click=app.quit]evil.cn"
ENTITY = "\x1b]0;pwned\x07[red]深圳市某某科技有限公司😀"
REASON = "[link=http://x]click me[/link] \x1b[31mnow\x1b[0m"
HOSTILE_ID = "ICP-2026-00009"
_NOTE_PIECE = (
    "[red]alert[/red] \x1b[31mRED\x1b[0m [link=http://x]click[/link] "
    "[@click=app.quit]quit[/] 深圳市南山区😀 \x1b]0;title\x07 \x9b2J \u202etxt.exe\u2066 "
    "\r\x00\x7f\t end\n"
)
NOTE = (_NOTE_PIECE * (2000 // len(_NOTE_PIECE) + 1))[:2000]
DB = Path("filings.json")


def hostile_filing() -> Filing:
    filing = hand_filing(9, Stage.PRELIMINARY_REVIEW, hours_ago=50, domain=DOMAIN, entity=ENTITY)
    filing = add_note(filing, NOW - timedelta(hours=2), "[b]eve[/b]", NOTE)
    return withdraw(filing, NOW - timedelta(hours=1), "eve", REASON)


def hostile_active() -> Filing:
    """An open filing with the same hostile text, so it sorts to the top of the queue."""
    return hand_filing(
        8, Stage.PRELIMINARY_REVIEW, hours_ago=200, domain=DOMAIN * 3, entity=ENTITY * 2
    )


@pytest.fixture
def hostile_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The hostile filings and three plain ones, in tmp_path (the current directory)."""
    monkeypatch.chdir(tmp_path)
    filings = [
        hand_filing(1, Stage.PRELIMINARY_REVIEW, hours_ago=3),
        hand_filing(2, Stage.AWAITING_PHOTO, hours_ago=30),
        hostile_active(),
        hand_filing(3, Stage.AUTHORITY_REVIEW, hours_ago=100, province="Guangdong"),
        hostile_filing(),
    ]
    FilingStore.create(tmp_path / DB, filings)
    return tmp_path / DB


def build_app(reference: Reference) -> IcpApp:
    settings = Settings(db_path=DB, refresh_seconds=1.0)
    return make_app(DB, reference, settings=settings, clock=fixed_clock(NOW), actor="alice")


def lines_of(widget: Widget) -> list[str]:
    return [strip.text for strip in widget.render_lines(widget.size.region)]


def squash(text: str) -> str:
    """Text without whitespace or box-drawing characters (to compare across line wraps)."""
    return re.sub(r"[\s\u2500-\u257f]", "", text)


async def open_detail(pilot: Pilot[Any], filing_id: str) -> DetailScreen:
    app = pilot.app
    assert isinstance(app, IcpApp)
    table = app.dashboard.table
    await pilot.press("home")
    for _ in range(len(table.rows)):
        if table.current is not None and table.current.id == filing_id:
            break
        await pilot.press("j")
    assert table.current is not None and table.current.id == filing_id
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, DetailScreen)
    return app.screen


# -- the table --------------------------------------------------------------------------------


async def test_table_lines_are_80_cells_inert_and_cut_with_an_ellipsis(
    hostile_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.dashboard.table
        assert table.size.width == 80  # five rows: no scroll bar
        ids = {entry.id for entry in table.rows}
        assert {HOSTILE_ID, "ICP-2026-00008"} <= ids
        rendered = []
        for y in range(len(table.rows) + 1):
            strip = table.render_line(y)
            text = strip.text
            assert cell_len(text) == 80, (y, text)
            assert strip.cell_length == 80
            assert not raw_controls(text), (y, text)
            rendered.append(text)
        hostile_rows = [line for line in rendered if HOSTILE_ID in line or "ICP-2026-00008" in line]
        assert len(hostile_rows) == 2, rendered
        for line in hostile_rows:
            assert "…" in line  # the long domain and entity are cut, not wrapped
            assert "[@click=app.q…" in line  # shown as the characters it is, then cut
        # Columns line up: every row has its id at the same cell offset as the heading.
        offsets = {cell_len(line[: line.index("ICP-")]) for line in rendered[1:]}
        assert len(offsets) == 1, rendered
        # Clicking where the domain is drawn runs nothing.
        for row in range(1, len(table.rows) + 1):
            await pilot.click(FilingTable, offset=(40, row))
        await pilot.pause()
        assert app.return_code is None  # set by App.exit
        assert app.dashboard.table.rows, "the dashboard went away"
        # From 100 columns the entity is shown too (at 80 the flags / assignee take its place).
        await pilot.resize_terminal(100, 24)
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(len(table.rows) + 1)]
        assert any("\\x1b]0;pwned" in line for line in lines), lines
        assert not any(raw_controls(line) for line in lines)


async def test_the_status_notification_and_footer_stay_inert(
    hostile_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"evil", "enter")
        await pilot.pause()
        for widget in app.dashboard.query(Widget):
            if widget.display and widget.size.area:
                for line in lines_of(widget):
                    assert not raw_controls(line), (widget, line)
        assert {e.id for e in app.dashboard.table.rows} == {HOSTILE_ID, "ICP-2026-00008"}


# -- the detail --------------------------------------------------------------------------------


async def test_the_detail_shows_the_whole_note_and_reason_inert(
    hostile_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        detail = await open_detail(pilot, HOSTILE_ID)
        lines = lines_of(detail.header) + lines_of(detail.body)
        text = "\n".join(lines)
        for line in lines:
            assert not raw_controls(line), line
            assert cell_len(line) <= 80
        assert squash(inert(NOTE, keep_newlines=True)) in squash(text)
        assert squash(inert(REASON)) in squash(text)
        assert squash(inert(DOMAIN)) in squash(text)
        assert squash(inert(ENTITY)) in squash(text)
        assert "[b]eve[/b]" in text
        # Scroll the whole detail, clicking on it: the markup in it runs nothing.
        for _ in range(8):
            await pilot.press("pagedown")
        for y in range(1, 23, 3):
            await pilot.click(offset=(40, y))
        await pilot.pause()
        assert app.return_code is None  # set by App.exit
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_the_wide_detail_beside_the_table_is_inert_too(
    hostile_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.dashboard.table
        while table.current is None or table.current.id != HOSTILE_ID:
            await pilot.press("j")
        await pilot.pause(0.2)
        text = "\n".join(
            line
            for part in ("#detail-header", "#detail-body")
            for line in lines_of(app.dashboard.query_one(part, Static))
        )
        assert HOSTILE_ID in text
        assert not raw_controls(text, allow_newline=True)
        assert squash(inert(NOTE, keep_newlines=True)) in squash(text)


def test_snapshot_main_screen_80x24(
    hostile_db: Path, reference: Reference, snap_compare: SnapCompare
) -> None:
    assert snap_compare(build_app(reference), terminal_size=(80, 24))


def test_snapshot_detail_80x24(
    hostile_db: Path, reference: Reference, snap_compare: SnapCompare
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_detail(pilot, HOSTILE_ID)

    assert snap_compare(build_app(reference), terminal_size=(80, 24), run_before=run_before)


def table_lines(table: Widget) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


# -- too small ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(60, 20), (79, 30), (100, 23), (20, 5)])
async def test_too_small_says_enlarge_then_recovers(
    hostile_db: Path, reference: Reference, size: tuple[int, int]
) -> None:
    app = build_app(reference)
    async with app.run_test(size=size) as pilot:
        notice = app.dashboard.query_one("#too-small", Static)
        table = app.dashboard.table
        # Each layout after a resize is an event of its own: wait for it, then look.
        await wait_for(pilot, lambda: notice.display and notice.size.area)
        said = " ".join(" ".join(lines_of(notice)).split())
        assert "Enlarge the window" in said, said
        assert not table.region.area, "the table is drawn into a too small terminal"

        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: table.region.area and table.size.width >= 99)
        await wait_for(pilot, lambda: any(HOSTILE_ID in line for line in table_lines(table)))
        assert not notice.region.area, "the notice stays after the resize"

        await pilot.resize_terminal(*size)  # and back again
        await wait_for(pilot, lambda: notice.region.area and not table.region.area)
