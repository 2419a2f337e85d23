"""What a user trial found in the dashboard: the detail keeps the ticket once submitted, `/`
over a query refines it, and the remembered view belongs to one database."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from textual.widgets import Input
from ui_helpers import ACTOR, DB, NOW, build_app, detail_text, hand_filing, type_text, wait_for

from icp_tui.__main__ import main
from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import advance, record_ticket
from icp_tui.services import fixed_clock
from icp_tui.ui.app import IcpApp, make_app
from icp_tui.ui.sticky import DashboardState, database_key, load_state

MakeDb = Callable[[Iterable[Filing]], Path]


async def test_the_detail_keeps_the_ticket_after_the_move_to_the_sms_check_as_show_does(
    make_db: MakeDb, reference: Reference
) -> None:
    ready = hand_filing(1, Stage.AWAITING_SUBMISSION)
    ticketed = record_ticket(ready, NOW - timedelta(minutes=30), "carol", "TK-42")
    submitted = advance(ticketed, NOW - timedelta(minutes=20), "carol")
    assert submitted.stage is Stage.SMS_VERIFICATION
    make_db([submitted])
    app = build_app(reference)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: submitted.id in detail_text(app))
        header = detail_text(app).split("next:")[0]
        assert "ticket TK-42" in header
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        assert main(["--db", str(DB), "--now", NOW.isoformat(), "show", submitted.id]) == 0
    assert "ticket:    TK-42\n" in shown.getvalue()  # `show` says what the pane says


async def test_slash_over_a_query_puts_the_cursor_at_its_end_with_nothing_selected(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "health:breached")
        await pilot.press("home", "enter")  # the cursor left at the start, then back to the table
        box = app.dashboard.query_one("#filter", Input)
        await wait_for(pilot, lambda: app.focused is not box)
        await pilot.press("slash")
        assert app.focused is box and box.selection.is_empty
        assert box.cursor_position == len("health:breached")
        await type_text(pilot, " -com")
        assert box.value == "health:breached -com"


def app_on(db: Path, reference: Reference, state: Path) -> IcpApp:
    settings = replace(build_app(reference).settings, db_path=db, state_file=state)
    return make_app(db, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR)


async def test_the_remembered_view_belongs_to_its_database(
    make_db: MakeDb, reference: Reference, tmp_path: Path
) -> None:
    ours = make_db([hand_filing(1, Stage.PHOTO_REVIEW), hand_filing(2, Stage.PRELIMINARY_REVIEW)])
    other = tmp_path / "other" / "filings.json"
    other.parent.mkdir()
    other.write_bytes(ours.read_bytes())  # the same queue elsewhere: only the path differs
    state = tmp_path / "state" / "dashboard.json"
    first = app_on(ours, reference, state)
    async with first.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "stage:photo")
        await pilot.press("enter")
        await wait_for(pilot, lambda: first.remembered.filter == "stage:photo")
    # Another database opens with no filter, and keeps its own view beside the first's.
    elsewhere = app_on(other, reference, state)
    async with elsewhere.run_test(size=(100, 30)) as pilot:
        box = elsewhere.dashboard.query_one("#filter", Input)
        await pilot.pause()
        assert box.value == "" and len(elsewhere.dashboard.table.rows) == 2
        await pilot.press("s")
        await wait_for(pilot, lambda: elsewhere.remembered.sort == "due")
    assert load_state(state, database_key(other)) == DashboardState("ALL", "due", "")
    # The first comes back as it was left, named however it is typed.
    assert load_state(state, database_key(Path("filings.json"))).filter == "stage:photo"
    again = app_on(Path("filings.json"), reference, state)
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: len(again.dashboard.table.rows) == 1)
        assert again.dashboard.query_one("#filter", Input).value == "stage:photo"
