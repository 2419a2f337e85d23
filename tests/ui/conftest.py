"""Fixtures of the dashboard tests (the helpers are in ui_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from ui_helpers import DB, DEMO_COUNT, DEMO_SEED, NOW, record_notifications

from icp_tui.config import Reference, Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain.filing import Filing
from icp_tui.store import FilingStore


@pytest.fixture(autouse=True)
def notifications_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """`notifications(app)` sees every notification given, however long ago."""
    record_notifications(monkeypatch)


@pytest.fixture(autouse=True)
def sixteen_colour_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal the snapshots were taken in (TERM=xterm: 16 colours), whatever the one the
    tests run in: Textual's test console takes its colours from $TERM, and the dashboard picks
    other colours for 16 (its `ansi16` class). A test of another terminal sets its own."""
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("COLORTERM", raising=False)


@pytest.fixture(scope="session")
def reference() -> Reference:
    """The project's data files (provinces, holidays, mailing address)."""
    return load_reference(Settings())


@pytest.fixture(scope="session")
def demo(reference: Reference) -> list[Filing]:
    """A fixed demo queue as of NOW: every stage and every health occurs."""
    return generate_filings(DEMO_COUNT, NOW, reference.policy, reference.provinces, seed=DEMO_SEED)


@pytest.fixture
def make_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Iterable[Filing]], Path]:
    """`make_db(filings)`: a fresh database in tmp_path, which becomes the current directory."""
    monkeypatch.chdir(tmp_path)

    def make(filings: Iterable[Filing]) -> Path:
        FilingStore.create(tmp_path / DB, filings)
        return tmp_path / DB

    return make


@pytest.fixture
def demo_db(make_db: Callable[[Iterable[Filing]], Path], demo: list[Filing]) -> Path:
    """The demo queue written to tmp_path/filings.json."""
    return make_db(demo)


@pytest.fixture
def no_notifications(monkeypatch: pytest.MonkeyPatch) -> None:
    """File-change notifications cannot be had (as where inotify is missing or its limit is
    reached): the file store falls back on the dashboard's poll."""
    from icp_tui.store.watching import FolderWatch

    def unavailable(self: FolderWatch) -> None:
        raise OSError(38, "no inotify here")

    monkeypatch.setattr(FolderWatch, "_start", unavailable)
