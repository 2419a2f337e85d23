"""At 80x24, the smallest window the dashboard takes, with everything on at once (read-only,
the queue as it was, marks, a query): the status lines and the banner give way by shorter
forms, never by losing the end of a line in the middle of a word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from ui_helpers import ACTOR, NOW, build_app, deny_writes, screen_text, type_text, wait_for

from icp_tui.config import Reference, Settings
from icp_tui.domain.filing import Filing
from icp_tui.services import fixed_clock
from icp_tui.store import FilingStore
from icp_tui.ui.app import IcpApp, make_app
from icp_tui.ui.status import fit_banner, wrap

SnapCompare = Any

#: A database path as long as a team's (the read-only reason names it once).
TEAM_DB = Path("icp-filing-queue") / "production" / "filings.json"
#: The time travel's banner, in the form that fits at 80 columns beside that reason.
TIME_TRAVEL = "The queue as it was at 2026-11-25 14:00 Beijing, read-only (.: back to now)"


@pytest.fixture
def team_app(
    demo: list[Filing],
    reference: Reference,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> IcpApp:
    """The demo queue in the team's folder, where this user may not write."""
    monkeypatch.chdir(tmp_path)
    TEAM_DB.parent.mkdir(parents=True)
    FilingStore.create(TEAM_DB, demo)
    deny_writes(monkeypatch, tmp_path)
    settings = Settings(db_path=TEAM_DB)
    return make_app(TEAM_DB, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR)


async def everything_on(pilot: Pilot[object]) -> None:
    """Two marks, a query, an hour back in the past, on a read-only database."""
    app = pilot.app
    assert isinstance(app, IcpApp)
    await pilot.press("space", "j", "space", "slash")
    await type_text(pilot, "health:br")
    await pilot.press("enter", "left_square_bracket")
    await wait_for(pilot, lambda: app.as_of is not None)
    await wait_for(pilot, lambda: TIME_TRAVEL in screen_text(app))
    # The status line says it is the past; its "refreshed" stays when the disk was read.
    await wait_for(pilot, lambda: " as it was at 2026-11-25 14:00" in screen_text(app))
    await pilot.pause()


async def test_at_80x24_the_banner_and_the_status_keep_what_matters_whole(
    team_app: IcpApp,
) -> None:
    app = team_app
    async with app.run_test(size=(80, 24)) as pilot:
        await everything_on(pilot)
        top = screen_text(app).splitlines()[:5]
        status, counts, *banner = top
        # The past said so, without "Beijing": the database's file name stays whole.
        assert status.startswith(" as it was at 2026-11-25 14:00  READ-ONLY  refreshed 15:00  …")
        assert status.endswith("/filings.json")
        # The counts and the marks whole; the query is in its box just below.
        rows = len(app.dashboard.table.rows)
        assert counts.startswith(f" all · filtered · 2 marked · {rows} of 40 │ ✖ {rows} ▲ 0 ")
        assert counts.rstrip().endswith("✔ 0 sort urgency")
        # Why it is read-only whole on two lines; the time travel shorter, on one.
        reason = app.service.read_only_reason
        assert reason is not None and len(reason) > 80 and reason.count(str(TEAM_DB)) == 1
        assert " ".join(line[3:].rstrip() for line in banner[:2]) == f"Read-only: {reason}"
        assert banner[2] == f" ⚠ {TIME_TRAVEL}"
        assert not any(line.rstrip().endswith("…") for line in top)


def test_snapshot_at_80x24_with_everything_on(team_app: IcpApp, snap_compare: SnapCompare) -> None:
    assert snap_compare(team_app, terminal_size=(80, 24), run_before=everything_on)


async def test_at_80x24_an_empty_view_says_why_on_as_many_lines_as_it_takes(
    demo_db: Path, reference: Reference
) -> None:
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "no-such-domain.example")
        await wait_for(pilot, lambda: not app.dashboard.table.rows)
        await pilot.pause()
        table = screen_text(app).split("FLAGS/ASSIGNEE", 1)[1]
        said = " ".join(line.strip() for line in table.splitlines() if line.strip()[:1].isalnum())
        assert said == app.dashboard.table.empty_message
        assert "1 shows all filings." in said  # its end, once cut off at 80 columns


# -- fitting the banner --------------------------------------------------------------------------


def test_lines_break_between_words_and_a_word_longer_than_a_line_where_it_must() -> None:
    assert wrap("the queue as it was", 9) == ["the queue", "as it was"]
    assert wrap("see /a/very/long/path ok", 8) == ["see", "/a/very/", "long/pat", "h ok"]
    assert wrap("", 9) == [""]
    assert wrap("浙江 浙江省", 5) == ["浙江", "浙江", "省"]  # two cells each


ERROR = ("Cannot refresh: the database vanished; retrying", "Cannot refresh; retrying")
READ_ONLY = ("Read-only: you may not write the folder of the database", "Read-only database")
PAST = ("The queue as it was then, rebuilt: read-only; keys ...", "The queue then", "Then")


def test_the_banner_takes_the_longest_forms_that_fit() -> None:
    assert fit_banner([ERROR, READ_ONLY, PAST], 80) == [
        f"⚠ {m[0]}" for m in (ERROR, READ_ONLY, PAST)
    ]


def test_the_last_warnings_give_way_first_to_their_shorter_forms() -> None:
    lines = fit_banner([ERROR, READ_ONLY, PAST], 40, height=4)
    assert lines == [
        "⚠ Cannot refresh: the database vanished;",
        "  retrying",
        "⚠ Read-only database",
        "⚠ Then",
    ]


def test_with_no_shorter_form_left_a_warning_is_cut_at_a_word_and_says_so() -> None:
    lines = fit_banner([ERROR, ("one two three four five six seven eight nine ten",)], 20, 3)
    assert lines == ["⚠ Cannot refresh;", "  retrying", "⚠ one two three …"]


def test_more_warnings_than_lines_the_last_line_counts_the_rest() -> None:
    lines = fit_banner([ERROR, READ_ONLY, PAST, PAST], 80, height=3)
    assert lines == [f"⚠ {ERROR[0]}", f"⚠ {READ_ONLY[0]}", "⚠ and 2 more warnings"]
