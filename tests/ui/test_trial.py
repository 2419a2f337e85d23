"""What a user trial found in the dashboard: the detail keeps the ticket once submitted."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path

from ui_helpers import DB, NOW, build_app, detail_text, hand_filing, wait_for

from icp_tui.__main__ import main
from icp_tui.config import Reference
from icp_tui.domain.filing import Filing
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import advance, record_ticket

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
