"""The dashboard as staff use it all day (issue 13): keys that explain, asking before taking
a colleague's filing, the ticket and export dialogs, the detail, the header counts.

Each test presses the keys a user would and checks what is stored (through a fresh handle) and
what the screen says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ui_helpers import (
    ACTOR,
    build_app,
    db_bytes,
    hand_filing,
    highlight,
    notifications,
    settle,
    stored,
)

from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage, rule
from icp_tui.ui.app import DashboardScreen

MakeDb = Callable[[Iterable[Filing]], Path]


# -- item 9: keys that do nothing say why ----------------------------------------------------------


async def test_x_without_materials_awaited_explains_and_changes_nothing(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.AWAITING_PHOTO, province="Beijing")])
    before = db_bytes(db)
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert any(
            "ICP-2026-00001" in n and "does not ask for mailed materials" in n
            for n in notifications(app)
        )
    assert db_bytes(db) == before


async def test_x_twice_says_the_materials_are_in_already(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.AWAITING_PHOTO, province="Guizhou")])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")
        await settle(pilot)
        version = stored(db, "ICP-2026-00001").version
        app.clear_notifications()
        await pilot.press("x")
        await settle(pilot)
        assert any("received already" in n for n in notifications(app))
    assert stored(db, "ICP-2026-00001").version == version


async def test_undo_names_the_filing_and_a_second_undo_explains(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("u")
        await settle(pilot)
        assert any("you have made no change" in n for n in notifications(app))
        await pilot.press("a", "y")
        await settle(pilot)
        assert stored(db, "ICP-2026-00001").stage is Stage.AWAITING_PHOTO
        app.clear_notifications()
        await pilot.press("u")
        await settle(pilot)
        label = rule(Stage.PRELIMINARY_REVIEW).label
        assert f"Undone: your move of ICP-2026-00001 (back to {label})" in notifications(app)
        version = stored(db, "ICP-2026-00001").version
        app.clear_notifications()
        await pilot.press("u")
        await settle(pilot)
        said = notifications(app)
        assert any("ICP-2026-00001" in n and "undone already" in n for n in said), said
    saved = stored(db, "ICP-2026-00001")
    assert saved.stage is Stage.PRELIMINARY_REVIEW
    assert saved.version == version
    assert saved.history[-1].by == ACTOR


async def test_stage_names_in_toasts_are_labels_not_ids(
    make_db: MakeDb, reference: Reference
) -> None:
    make_db([hand_filing(1, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await highlight(pilot, "ICP-2026-00001")
        await pilot.press("a", "y")
        await settle(pilot)
        said = notifications(app)
        assert any(rule(Stage.AWAITING_SUBMISSION).label in n for n in said), said
        assert not any("awaiting_submission" in n for n in said)
