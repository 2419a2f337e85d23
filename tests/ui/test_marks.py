"""Marks and acting on many: space / * / -, o n a A on the marked filings after one question,
each its own versioned change, the refused listed with why, u undoing the batch."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input
from ui_helpers import (
    ACTOR,
    NOW,
    build_app,
    db_bytes,
    hand_filing,
    highlight,
    notifications,
    screen_text,
    settle,
    stored,
    type_text,
    wait_for,
)

from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.services import FilingService
from icp_tui.ui import dashboard as dashboard_module
from icp_tui.ui.dashboard import DashboardScreen
from icp_tui.ui.modals import (
    AdvanceScreen,
    AssignScreen,
    ConfirmScreen,
    TextPromptScreen,
    WithdrawScreen,
)

MakeDb = Callable[[Iterable[Filing]], Path]
SnapCompare = Any
IDS = [f"ICP-2026-{n:05d}" for n in (1, 2, 3, 4)]


def four(make_db: MakeDb) -> Path:
    """Four filings in preliminary review (the fourth in photo review), nobody's."""
    return make_db(
        [
            hand_filing(1, Stage.PRELIMINARY_REVIEW, hours_ago=3),
            hand_filing(2, Stage.PRELIMINARY_REVIEW, hours_ago=2),
            hand_filing(3, Stage.PRELIMINARY_REVIEW, hours_ago=1),
            hand_filing(4, Stage.PHOTO_REVIEW, hours_ago=1),
        ]
    )


def other_process(db: Path, *args: str) -> None:
    """A colleague's command, in a process of its own, on the same database."""
    subprocess.run(
        [sys.executable, "-m", "icp_tui", "--db", str(db), "--now", NOW.isoformat(), *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


async def mark(pilot: Pilot[object], *ids: str) -> None:
    for filing_id in ids:
        await highlight(pilot, filing_id)
        await pilot.press("space")


async def test_take_the_marked_one_changed_meanwhile_is_refused_alone_then_u(
    make_db: MakeDb, reference: Reference
) -> None:
    db = four(make_db)
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await mark(pilot, *IDS[:3])
        text = screen_text(app)
        assert "3 marked" in text
        assert sum(1 for line in text.splitlines() if line.startswith("*")) == 3
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Take the 3 marked filings? They go to you." in screen_text(app)
        other_process(db, "assign", IDS[1], "bob")  # while the question is open
        await pilot.press("y")
        await settle(pilot)
        said = "\n".join(notifications(app))
        # The refused one on a line of its own, not after a written-out "\n".
        assert "2 taken (u undoes them); 1 refused:\n" in said and "\\n" not in said
        assert f"\n{IDS[1]} was changed by" in said
        assert [stored(db, i).assignee for i in IDS] == [ACTOR, "bob", ACTOR, None]
        for filing_id in (IDS[0], IDS[2]):  # each its own versioned change, in its history
            filing = stored(db, filing_id)
            assert filing.history[-1].by == ACTOR and filing.version == 2
        # The refused one stays marked; the row shows it as it now is.
        assert app.dashboard.marks == {IDS[1]}
        assert next(e for e in app.dashboard.table.rows if e.id == IDS[1]).assignee == "bob"
        # u undoes the batch: those nobody changed since (the third was, by a colleague).
        other_process(db, "note", IDS[2], "called the applicant")
        await pilot.press("u")
        await settle(pilot)
        said = "\n".join(notifications(app))
        assert "1 undone; 1 refused:\n" in said and f"\n{IDS[2]}" in said
        assert [stored(db, i).assignee for i in IDS] == [None, "bob", ACTOR, None]


async def test_mark_all_clear_and_note_on_every_marked(
    make_db: MakeDb, reference: Reference
) -> None:
    db = four(make_db)
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("slash")
        await type_text(pilot, "stage:pre")
        await pilot.press("enter", "asterisk")
        assert app.dashboard.marks == set(IDS[:3])  # every filing of the view, no more
        await pilot.press("minus")
        assert not app.dashboard.marks and "marked" not in screen_text(app)
        await pilot.press("asterisk", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert "Note on each of the 3 marked filings" in screen_text(app)
        await type_text(pilot, "docs checked")
        await pilot.press("enter")
        await settle(pilot)
        for filing_id in IDS[:3]:
            assert [n.text for n in stored(db, filing_id).notes] == ["docs checked"]
        assert not stored(db, IDS[3]).notes
        assert "3 noted (u undoes them)" in "\n".join(notifications(app))
        assert not app.dashboard.marks  # done: unmarked


async def test_advance_marked_only_when_they_share_a_stage(
    make_db: MakeDb, reference: Reference
) -> None:
    db = four(make_db)
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await mark(pilot, IDS[0], IDS[3])  # preliminary review and photo review
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, AdvanceScreen)
        assert "in 2 stages" in "\n".join(notifications(app))
        await mark(pilot, IDS[3], IDS[1])  # unmark the photo review one, mark another
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AdvanceScreen))
        assert "Move the 2 marked filings from" in screen_text(app)
        await pilot.press("y")
        await settle(pilot)
        assert [stored(db, i).stage for i in IDS[:2]] == [Stage.AWAITING_PHOTO] * 2
        assert stored(db, IDS[2]).stage is Stage.PRELIMINARY_REVIEW


async def test_assign_to_anyone_one_filing_or_the_marked(
    make_db: MakeDb, reference: Reference
) -> None:
    db = four(make_db)
    other_process(db, "assign", IDS[3], "dora")
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await highlight(pilot, IDS[0])
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
        assert "dora" in screen_text(app)  # the people seen in the queue are offered
        await pilot.press("down", "down", "enter")  # the list: me, then dora
        await settle(pilot)
        assert stored(db, IDS[0]).assignee == "dora"
        await mark(pilot, IDS[1], IDS[2])
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
        await type_text(pilot, "erin")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Assign the 2 marked filings? They go to erin." in screen_text(app)
        assert isinstance(app.screen, ConfirmScreen)
        assert "erin appears in no filing's history" in app.screen.question  # as `assign` warns
        await pilot.press("escape")  # the safe answer: nothing changes
        await settle(pilot)
        assert [stored(db, i).assignee for i in IDS[1:3]] == [None, None]
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
        await type_text(pilot, "erin")
        await pilot.press("enter")  # the question comes once the histories are read
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot)
        assert [stored(db, i).assignee for i in IDS[1:3]] == ["erin", "erin"]


async def test_one_filing_to_a_name_never_seen_is_asked_first(
    make_db: MakeDb, reference: Reference
) -> None:
    db = four(make_db)
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await highlight(pilot, IDS[0])
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
        await type_text(pilot, "eirn")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.startswith(f"Assign {IDS[0]} to eirn? eirn appears in no")
        await pilot.press("n")
        await settle(pilot)
        assert stored(db, IDS[0]).assignee is None
        await pilot.press("A")
        await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
        await type_text(pilot, "eirn")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot)
        assert stored(db, IDS[0]).assignee == "eirn"


async def test_a_new_name_is_looked_up_off_the_ui_thread_while_the_dialog_takes_keys(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = four(make_db)
    before = db_bytes(db)
    asked: list[tuple[str, threading.Thread]] = []
    answer = threading.Event()  # the store's answer held back, as a long history would
    real_known_user = FilingService.known_user

    def slow_known_user(self: FilingService, user: str) -> bool:
        asked.append((user, threading.current_thread()))
        answer.wait(30)
        return real_known_user(self, user)

    monkeypatch.setattr(FilingService, "known_user", slow_known_user)
    app = build_app(reference)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await highlight(pilot, IDS[0])
            await pilot.press("A")
            await wait_for(pilot, lambda: isinstance(app.screen, AssignScreen))
            await type_text(pilot, "eirn")
            await pilot.press("enter")
            await wait_for(pilot, lambda: asked)
            assert asked[0][0] == "eirn"
            assert asked[0][1] is not threading.main_thread()
            # The UI thread is free: the dialog stays, says what it waits for, takes keys.
            dialog = app.screen
            assert isinstance(dialog, AssignScreen)
            await wait_for(pilot, lambda: "checking eirn" in screen_text(app))
            await type_text(pilot, "x")  # edited while looking up: that answer is not taken
            box = dialog.query_one(Input)
            await wait_for(pilot, lambda: box.value == "eirnx")
            answer.set()
            await settle(pilot)
            assert app.screen is dialog
            await pilot.press("backspace", "enter")  # "eirn" again
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert isinstance(app.screen, ConfirmScreen)
            assert "eirn appears in no filing's history" in app.screen.question
            await pilot.press("n")
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
    finally:
        answer.set()
    assert db_bytes(db) == before


async def test_withdraw_with_marks_says_it_acts_on_the_highlighted_one_only(
    make_db: MakeDb, reference: Reference
) -> None:
    four(make_db)
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await highlight(pilot, IDS[0])
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, WithdrawScreen))
        assert isinstance(app.screen, WithdrawScreen)
        assert "only this one" not in app.screen.question()
        await pilot.press("escape")
        await mark(pilot, IDS[1], IDS[2])
        await highlight(pilot, IDS[0])
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, WithdrawScreen))
        assert isinstance(app.screen, WithdrawScreen)
        said = f"Withdraw {IDS[0]} (only this one; withdraw is not done on marks)?"
        assert app.screen.question().startswith(said)


def test_snapshot_with_marks(
    make_db: MakeDb, reference: Reference, snap_compare: SnapCompare
) -> None:
    four(make_db)
    app = build_app(reference)

    async def marked(pilot: Pilot[object]) -> None:
        await mark(pilot, IDS[0], IDS[2])
        await highlight(pilot, IDS[1])

    assert snap_compare(app, terminal_size=(80, 24), run_before=marked)


async def test_a_note_on_one_marked_filing_is_asked_for_that_filing(
    make_db: MakeDb, reference: Reference
) -> None:
    four(make_db)
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        assert "Note on the marked filing (enter adds it to all):" in screen_text(app)


async def test_statistics_and_an_export_of_a_large_queue_say_they_are_under_way(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    four(make_db)
    monkeypatch.setattr(dashboard_module, "SLOW_WHOLE_QUEUE", 4)  # four filings count as many
    app = build_app(reference)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("g")
        await wait_for(
            pilot, lambda: "Working out the statistics of 4 filings…" in notifications(app)
        )
        await pilot.press("escape")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        box = app.screen.query_one(Input)
        box.value = str(tmp_path / "view.csv")
        await pilot.press("enter")
        said = f"Exporting 4 filings to {tmp_path / 'view.csv'}…"
        await wait_for(pilot, lambda: said in notifications(app))
        await wait_for(pilot, lambda: (tmp_path / "view.csv").exists())
