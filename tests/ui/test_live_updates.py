"""Another person's change reaches the dashboard on a file database as soon as it is on disk
(a file-change notification wakes it), and at the next refresh where notifications cannot be
had."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from ui_helpers import NOW, build_app, detail_text, hand_filing, highlight, wait_for

from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import add_note, advance
from icp_tui.queue import Queue, QueueEntry
from icp_tui.store import FilingStore
from icp_tui.ui import dashboard

MakeDb = Callable[[Iterable[Filing]], Path]


def stages_shown(app: object) -> dict[str, Stage]:
    return {e.id: e.stage for e in app.dashboard.table.rows}  # type: ignore[attr-defined]


async def test_a_change_elsewhere_shows_long_before_the_next_refresh(
    make_db: MakeDb, reference: Reference
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW), hand_filing(2, Stage.PHOTO_REVIEW)])
    app = build_app(reference, refresh_seconds=60)  # only the notification can wake it in time
    async with app.run_test(size=(120, 40)) as pilot:
        other = FilingStore(db)
        other.commit("ICP-2026-00001", lambda f: advance(f, NOW, "bob", Stage.AWAITING_PHOTO))
        await wait_for(
            pilot, lambda: stages_shown(app)["ICP-2026-00001"] is Stage.AWAITING_PHOTO, 30.0
        )
        other.compact()  # the base replaced: followed, and the next change still shows
        other.commit("ICP-2026-00002", lambda f: advance(f, NOW, "bob", Stage.AWAITING_SUBMISSION))
        await wait_for(
            pilot, lambda: stages_shown(app)["ICP-2026-00002"] is Stage.AWAITING_SUBMISSION, 30.0
        )


async def test_a_change_elsewhere_to_the_highlighted_filing_shows_in_its_detail_and_keys(
    make_db: MakeDb, reference: Reference
) -> None:
    filing = hand_filing(1, Stage.AWAITING_SUBMISSION)  # three stages behind it already
    db = make_db([filing, hand_filing(2, Stage.PHOTO_REVIEW)])
    app = build_app(reference)
    async with app.run_test(size=(120, 40)) as pilot:
        await highlight(pilot, filing.id)

        def withdraw_greyed() -> bool | None:
            """Whether the footer shows `w` greyed out (None while the footer is rebuilt)."""
            keys = {k.key: k for k in app.screen.query("FooterKey")}
            return keys["w"].has_class("-disabled") if "w" in keys else None

        await wait_for(pilot, lambda: withdraw_greyed() is False, 30.0)
        other = FilingStore(db)
        other.commit(filing.id, lambda f: advance(f, NOW, "bob", Stage.SMS_VERIFICATION))
        other.commit(filing.id, lambda f: add_note(f, NOW, "bob", "applicant called back"))
        await wait_for(pilot, lambda: "applicant called back" in detail_text(app), 30.0)
        # Submitted to the communications administration: no longer withdrawn.
        await wait_for(pilot, withdraw_greyed, 30.0)
        shown = detail_text(app)
        assert "photo review" in shown and "to submit" in shown  # the stages before it kept
        # It reads as the same filing does when the cursor comes to it afresh.
        await highlight(pilot, "ICP-2026-00002")
        await wait_for(pilot, lambda: "site2.example.cn" in detail_text(app), 30.0)
        await highlight(pilot, filing.id)
        await wait_for(pilot, lambda: detail_text(app) == shown, 30.0)


async def test_without_notifications_the_refresh_still_shows_a_change(
    make_db: MakeDb, reference: Reference, no_notifications: None
) -> None:
    db = make_db([hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    app = build_app(reference, refresh_seconds=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        FilingStore(db).commit(
            "ICP-2026-00001", lambda f: advance(f, NOW, "bob", Stage.AWAITING_PHOTO)
        )
        await wait_for(
            pilot, lambda: stages_shown(app)["ICP-2026-00001"] is Stage.AWAITING_PHOTO, 30.0
        )
        assert app.service.store.notifications is not None  # type: ignore[attr-defined]


async def test_left_alone_the_rows_move_to_the_order_of_others_changes_one_by_one(
    make_db: MakeDb, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Twenty dashboards re-sort after every change anyone makes: each moves the filings that
    # changed to their place, rather than sorting the whole queue again.
    monkeypatch.setattr(dashboard, "IDLE_RESORT", 0.0)  # the keyboard left alone long enough
    late = hand_filing(1, Stage.PRELIMINARY_REVIEW, hours_ago=24 * 10)  # breached: on top
    db = make_db([late, *(hand_filing(n, Stage.PHOTO_REVIEW) for n in range(2, 6))])
    app = build_app(reference, refresh_seconds=60)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.dashboard.table
        await pilot.press("j")  # the cursor on the second filing
        picked = table.rows[1].id
        assert table.rows[0].id == late.id
        sorted_whole: list[object] = []
        select = Queue.select

        def counted(*args: Any, **kwargs: Any) -> list[QueueEntry]:
            sorted_whole.append(args)
            return select(*args, **kwargs)

        monkeypatch.setattr(Queue, "select", counted)
        other = FilingStore(db)
        other.commit(late.id, lambda f: advance(f, NOW, "bob", Stage.AWAITING_PHOTO))

        def in_order() -> bool:
            whole = [e.id for e in select(app.dashboard.queue)]
            shown = stages_shown(app)[late.id] is Stage.AWAITING_PHOTO
            return shown and [e.id for e in table.rows] == whole

        await wait_for(pilot, in_order, 30.0)
        assert table.rows[-1].id == late.id  # waiting on the applicant now: at the bottom
        assert table.current is not None and table.current.id == picked  # the cursor stayed
        assert sorted_whole == []
        counts = table.health_counts()
        assert +counts == +Counter(e.health for e in table.rows)


async def test_quitting_ends_the_wait_for_others_changes_at_once(
    demo_db: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process cannot end before the thread that follows changes has: `q` must end its
    wait, not leave it to run out (up to the refresh interval, here a minute)."""
    waits: list[float] = []
    quit_pressed, ended_after_quit = threading.Event(), threading.Event()
    real_wait = FilingStore.wait_for_change

    def wait_for_change(
        store: FilingStore, timeout: float, stop: threading.Event | None = None
    ) -> bool:
        waits.append(timeout)
        woken = real_wait(store, timeout, stop)
        if quit_pressed.is_set():
            ended_after_quit.set()
        return woken

    monkeypatch.setattr(FilingStore, "wait_for_change", wait_for_change)
    app = build_app(reference, refresh_seconds=60)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: len(waits) >= 2)  # the first returns at once: the next
        quit_pressed.set()
        await pilot.press("q")
    assert ended_after_quit.wait(30.0)
