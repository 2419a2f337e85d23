"""Opening a large queue: the most urgent rows show first, the whole queue after them, and a
key pressed meanwhile does what it says and nothing else (issue 17)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ui_helpers import (
    ACTOR,
    DB,
    NOW,
    notifications,
    screen_text,
    stored,
    type_text,
    wait_for,
)

from icp_tui.config import Reference, Settings
from icp_tui.domain.errors import InvalidRecord
from icp_tui.domain.filing import Filing
from icp_tui.queue import Queue, Sort
from icp_tui.services import FilingService, fixed_clock
from icp_tui.ui.app import DashboardScreen, IcpApp, make_app
from icp_tui.ui.sticky import DashboardState, database_key, save_state

FIRST = 8


@pytest.fixture
def release(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The whole queue is built as usual but handed over only once the event is set: the
    dashboard stays in its loading state for as long as a test needs (set at the end in
    any case, so that a failed test does not leave the worker waiting)."""
    release = threading.Event()
    build = FilingService.queue

    def slow_queue(
        service: FilingService, progress: Callable[[int, int], None] | None = None
    ) -> Queue:
        queue = build(service, progress)
        assert release.wait(60), "the test never released the whole queue"
        return queue

    monkeypatch.setattr(FilingService, "queue", slow_queue)
    yield release
    release.set()


def opening(reference: Reference) -> IcpApp:
    settings = Settings(db_path=DB)
    return make_app(
        DB, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR, first_rows=FIRST
    )


def whole_queue(db: Path, reference: Reference) -> Queue:
    """The whole queue, as `list` reads it."""
    return FilingService.open(db, reference, clock=fixed_clock(NOW)).load_queue()


async def test_the_most_urgent_rows_show_first_then_the_whole_queue(
    demo_db: Path, demo: list[Filing], reference: Reference, release: threading.Event
) -> None:
    whole = whole_queue(demo_db, reference)
    order = [e.id for e in whole.select()]
    app = opening(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.dashboard.table
        await wait_for(pilot, lambda: "loading" in screen_text(app))
        assert [e.id for e in table.rows] == order[:FIRST]
        assert len(app.dashboard.queue.entries) == FIRST
        status = screen_text(app).splitlines()[1]
        # The counts are of every filing, and the line says how many the rows are of.
        assert f"{FIRST} of {len(demo)}" in status
        for health, n in whole.counts().items():
            assert f"{health.glyph} {n} {health.word}" in status
        release.set()
        await wait_for(pilot, lambda: len(table.rows) == len(demo))
        assert [e.id for e in table.rows] == order
        await wait_for(pilot, lambda: "loading" not in screen_text(app))
        assert f"all · {len(demo)} │" in screen_text(app)


async def test_a_key_that_needs_every_filing_waits_and_says_so(
    demo_db: Path, reference: Reference, release: threading.Event
) -> None:
    app = opening(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        dashboard = app.dashboard
        await wait_for(pilot, lambda: len(dashboard.table.rows) == FIRST)
        shown = [e.id for e in dashboard.table.rows]
        for key in ("s", "slash", "3", "asterisk", "left_square_bracket"):
            await pilot.press(key)
        await pilot.pause()
        # Nothing changed: the sort, the view, the filter, the marks, the instant shown.
        assert dashboard.sort is Sort.URGENCY and dashboard.view_name.name == "ALL"
        assert not dashboard.query_one("#query").display and not dashboard.marks
        assert app.as_of is None and app.travel_target is None
        assert [e.id for e in dashboard.table.rows] == shown
        said = [n for n in notifications(app) if "still loading" in n]
        assert len(said) == 5 and said[0].startswith("Sort: wait a moment")
        release.set()
        await wait_for(pilot, lambda: len(dashboard.table.rows) > FIRST)
        await pilot.press("s")  # and now it works
        await wait_for(pilot, lambda: dashboard.sort is Sort.DUE)


async def test_a_change_made_while_loading_is_saved_and_kept_in_the_whole_queue(
    demo_db: Path, reference: Reference, release: threading.Event
) -> None:
    app = opening(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        dashboard = app.dashboard
        await wait_for(pilot, lambda: len(dashboard.table.rows) == FIRST)
        target = dashboard.table.current
        assert target is not None
        before = stored(demo_db, target.id)
        await pilot.press("n")  # a note on the highlighted filing: its real record
        await pilot.press(*"called the applicant")
        await pilot.press("enter")
        await wait_for(pilot, lambda: stored(demo_db, target.id).version == before.version + 1)
        noted = stored(demo_db, target.id)
        assert noted.notes[-1].text == "called the applicant"
        assert noted.history == before.history[: len(noted.history) - 1] + noted.history[-1:]
        release.set()  # built from what was read before the note
        await wait_for(pilot, lambda: len(dashboard.table.rows) > FIRST)
        assert dashboard.queue.entries[target.id].version == noted.version
        assert dashboard.table.current is not None and dashboard.table.current.id == target.id


async def test_a_sort_kept_from_last_time_opens_on_the_whole_queue(
    demo_db: Path, demo: list[Filing], reference: Reference, tmp_path: Path
) -> None:
    state_file = tmp_path / "state.json"
    save_state(state_file, database_key(DB), DashboardState("ALL", Sort.DUE.value, ""))
    settings = Settings(db_path=DB, state_file=state_file)
    app = make_app(
        DB, reference, settings=settings, clock=fixed_clock(NOW), actor=ACTOR, first_rows=FIRST
    )
    assert app.dashboard.loading_counts is None  # every filing is needed to sort by due
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.dashboard.table.rows) == len(demo))
        assert app.dashboard.sort is Sort.DUE and "loading" not in screen_text(app)


async def test_a_whole_queue_that_cannot_be_built_is_said_and_the_first_rows_stay(
    demo_db: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(service: FilingService, progress: object = None) -> Queue:
        raise InvalidRecord("ICP-2026-00003: not a filing summary row")

    monkeypatch.setattr(FilingService, "queue", broken)
    app = opening(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: any("Loading the queue failed" in n for n in notifications(app))
        )
        said = next(n for n in notifications(app) if "Loading the queue failed" in n)
        assert "\n" not in said and "ICP-2026-00003: not a filing summary row" in said
        assert len(app.dashboard.table.rows) == FIRST
        await pilot.press("s")
        assert app.dashboard.sort is Sort.URGENCY


async def test_the_palette_says_so_too_while_loading(
    demo_db: Path, reference: Reference, release: threading.Event
) -> None:
    app = opening(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(app.dashboard.table.rows) == FIRST)
        await pilot.press("ctrl+p")
        await type_text(pilot, "Cycle the sort order")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("Sort: wait" in n for n in notifications(app)))
        assert app.dashboard.sort is Sort.URGENCY
        assert isinstance(app.screen, DashboardScreen)


async def test_quitting_while_loading_ends_the_build_at_once(
    demo_db: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process cannot end before the thread that builds the whole queue has."""
    ended = threading.Event()

    def long_build(
        service: FilingService, progress: Callable[[int, int], None] | None = None
    ) -> Queue:
        assert progress is not None
        try:
            for step in range(6000):  # a minute of work, telling its progress at each step
                progress(step, 6000)
                time.sleep(0.01)
        finally:
            ended.set()
        raise AssertionError("the build went on after the app left")

    monkeypatch.setattr(FilingService, "queue", long_build)
    app = opening(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "loading" in screen_text(app))
        await pilot.press("q")
    assert ended.wait(30)
