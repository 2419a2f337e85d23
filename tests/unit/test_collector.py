"""Pausing the cycle collector leaves what the dashboard froze for good frozen, without
asking the collector how much is frozen (which walks every frozen object)."""

from __future__ import annotations

import gc

import pytest

from icp_tui.domain import collector
from icp_tui.domain.collector import freeze_for_good, gc_paused


def test_a_long_lived_pause_leaves_what_was_frozen_for_good_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(collector, "_frozen_for_good", False)
    try:
        loaded = [["a filing"]]  # what a dashboard loads, then freezes for good
        freeze_for_good()

        def walks_every_frozen_object() -> int:
            # ~0.1 s with 100,000 filings loaded, at each re-check of health a tick makes.
            raise AssertionError("counted the frozen objects")

        monkeypatch.setattr(gc, "get_freeze_count", walks_every_frozen_object)
        with gc_paused(long_lived=True):
            built = [[n] for n in range(1000)]
        assert gc.isenabled()
        # Frozen objects are in no generation the collector scans (or lists).
        assert not any(o is loaded for o in gc.get_objects())  # not thawed by the pause
        assert any(o is built for o in gc.get_objects())
    finally:
        gc.unfreeze()  # the rest of the session's tests as they were
