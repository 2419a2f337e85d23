"""The dashboard app and its factory (used by the command line and the tests alike).

The app holds the service and runs the disk work in threads: polling for others' changes,
saving ours, exporting, building the statistics. Each worker reports by message to the
DashboardScreen (dashboard.py), which owns the queue and the state shown.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import App
from textual.worker import get_current_worker

from icp_tui.config import Reference, Settings
from icp_tui.display import inert
from icp_tui.domain.errors import IcpError
from icp_tui.domain.filing import Filing
from icp_tui.queue import Queue, QueueEntry
from icp_tui.report import build_report
from icp_tui.services import (
    Clock,
    FilingService,
    Location,
    StaleChange,
    location_name,
    system_clock,
)
from icp_tui.transfer import export_rows, save_csv
from icp_tui.ui.commands import FilingCommands
from icp_tui.ui.dashboard import DashboardScreen
from icp_tui.ui.keys import APP_KEYS, bindings, help_lines
from icp_tui.ui.messages import ChangeRefused, ChangeSaved, CompactionDeferred, Polled, StoreChanged
from icp_tui.ui.modals import HelpScreen
from icp_tui.ui.stats import StatsScreen

__all__ = ["DashboardScreen", "IcpApp", "make_app"]


class IcpApp(App[int]):
    """The ICP filing queue dashboard."""

    CSS_PATH = "app.tcss"
    TITLE = "icp-tui"
    # Ours only: it lists Textual's own commands too, after the app's (a set has no order).
    COMMANDS = {FilingCommands}
    BINDINGS = bindings(APP_KEYS)

    def __init__(
        self,
        service: FilingService,
        queue: Queue,
        settings: Settings,
        display_path: str,
    ) -> None:
        super().__init__()
        self.service = service
        self.settings = settings
        self.reference: Reference = service.reference
        self.clock: Clock = service.clock
        self.display_path = display_path
        self.refresh_seconds = settings.refresh_seconds
        # Held, not looked up in the screen stack: shutdown empties the stack while a dialog's
        # answer or a save's result may still arrive (a signal right after a save key).
        self.dashboard = DashboardScreen(queue)

    def on_mount(self) -> None:
        self.theme = self.settings.theme
        # `kill`, a dropped SSH connection or `kill -INT`: leave like `q` does (the terminal is
        # restored; a save under way is one fsynced journal line, so it is whole or absent
        # either way). SIGINT too: asyncio.run's own handler only cancels the main task, and
        # Textual may absorb that cancellation, leaving the dashboard running (seen on a busy
        # machine).
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            loop.add_signal_handler(signum, self.exit)
        # 16 colours turn $error and $warning into the same bright red: name distinct ones.
        self.dashboard.set_class(self.console.color_system in ("standard", "windows"), "ansi16")
        self.push_screen(self.dashboard)
        if self.service.wakes_on_change:
            self.follow_changes()

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_lines()))

    # -- disk work, in threads ---------------------------------------------------------

    @work(thread=True, exclusive=True, group="wake", exit_on_error=False)
    def follow_changes(self) -> None:
        """Poll as soon as another dashboard commits, not only at the next refresh."""
        worker = get_current_worker()
        while not worker.is_cancelled:
            if self.service.wait_for_change(1.0) and not worker.is_cancelled:
                self.call_from_thread(self.poll_store)

    @work(thread=True, exclusive=True, group="poll", exit_on_error=False)
    def poll_store(self) -> None:
        """Pick up changes made by others: reads only what was appended since last time."""
        try:
            changed = self.service.poll()
        except IcpError as error:
            self.dashboard.post_message(Polled(self.clock(), f"Cannot refresh: {error}"))
            return
        if changed is None or changed:
            fresh = self.service.queue() if changed is None else None
            self.dashboard.post_message(StoreChanged(changed, fresh))
        self.dashboard.post_message(Polled(self.clock()))

    @work(thread=True, group="save", exit_on_error=False)
    def save_change(self, change: Callable[[FilingService], Filing], said: str) -> None:
        """Run one change through the service (locked, versioned, fsynced)."""
        try:
            filing = change(self.service)
        except StaleChange as error:
            self.dashboard.post_message(ChangeRefused(str(error), error.current))
            return
        except IcpError as error:
            self.dashboard.post_message(ChangeRefused(str(error), None))
            return
        self.dashboard.post_message(ChangeSaved(filing, said))
        postponed = self.service.compact_after_save()
        if postponed is not None:
            self.dashboard.post_message(CompactionDeferred(f"Compaction postponed: {postponed}"))

    @work(thread=True, group="export", exit_on_error=False)
    def export_view(self, entries: list[QueueEntry], path: Path) -> None:
        """Write the rows as shown (filter, sort) to the CSV file `path` (a new file)."""
        now = self.clock()
        path = path.resolve()
        if path.exists():
            said = f"Not exported: {path} exists already (choose another name)"
            self.call_from_thread(self.notify, inert(said), severity="warning", markup=False)
            return
        try:
            rows = export_rows(entries, self.service.get, self.reference, now)
            save_csv(path, rows)
        except (IcpError, OSError) as error:
            said, severity = f"Export failed: {error}", "error"
        else:
            said, severity = f"Exported {len(rows)} filings to {path}", "information"
        self.call_from_thread(self.notify, inert(said), severity=severity, markup=False)

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def open_stats(self) -> None:
        """Build the report off the UI thread (it reads every filing's history)."""
        try:
            report = build_report(self.service.filings(), self.reference, self.clock())
        except IcpError as error:
            self.call_from_thread(self.notify, inert(str(error)), severity="error", markup=False)
            return
        self.call_from_thread(self.push_screen, StatsScreen(report))


def make_app(
    db_path: Location,
    reference: Reference,
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    actor: str | None = None,
) -> IcpApp:
    """Load the database (errors surface here, before any screen opens) and build the app."""
    settings = settings or Settings(db_path=db_path)
    service = FilingService.open(db_path, reference, actor=actor, clock=clock)
    return IcpApp(service, service.load_queue(), settings, display_path=location_name(db_path))
