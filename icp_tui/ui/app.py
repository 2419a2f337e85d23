"""The dashboard app and its factory (used by the command line and the tests alike).

The app holds the service and runs the disk work in threads: polling for others' changes,
saving ours, exporting, building the statistics. Each worker reports by message to the
DashboardScreen (dashboard.py), which owns the queue and the state shown; a worker that fails
unexpectedly (not a refusal the service explains) is handled in one place, `_worker_state_changed`.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.console import RenderableType
from textual import on, work
from textual.app import App
from textual.driver import Driver
from textual.worker import Worker, WorkerState, get_current_worker

from icp_tui.config import Reference, Settings
from icp_tui.display import inert
from icp_tui.domain.errors import IcpError
from icp_tui.domain.filing import Filing, time_of_day
from icp_tui.domain.naming import counted
from icp_tui.domain.sla import Health
from icp_tui.queue import Queue, QueueEntry, Sort, View
from icp_tui.services import (
    BatchResult,
    Clock,
    FilingService,
    Location,
    StaleChange,
    location_name,
    system_clock,
)
from icp_tui.ui.commands import FilingCommands
from icp_tui.ui.dashboard import DashboardScreen
from icp_tui.ui.keys import APP_KEYS, bindings, help_lines
from icp_tui.ui.messages import (
    BatchSaved,
    ChangeRefused,
    ChangeSaved,
    CompactionDeferred,
    Polled,
    QueueLoaded,
    QueueLoading,
    StoreChanged,
)
from icp_tui.ui.modals import HelpScreen
from icp_tui.ui.sticky import DashboardState, database_key, load_state, save_state
from icp_tui.ui.timetravel import TimeMoved

__all__ = ["DashboardScreen", "IcpApp", "make_app"]


class _Leaving(Exception):
    """The app is leaving while the whole queue is built: the rest is not needed."""


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
        state_key: str,
        as_of: datetime | None = None,
        remembered: DashboardState | None = None,
        loading: Counter[Health] | None = None,
    ) -> None:
        """`loading`: `queue` holds only the most urgent filings, and these are the counts
        per health of all of them; the whole queue is built once the first rows are shown."""
        super().__init__()
        self.service = service
        self.settings = settings
        self.reference: Reference = service.reference
        self.live_clock: Clock = service.clock
        #: The instant the dashboard shows, rebuilt from the history (None: now, live).
        self.as_of: datetime | None = as_of
        #: Where the time keys are taking it (ahead of `as_of` while a step is computed).
        self.travel_target: datetime | None = as_of
        #: The database was read afresh while the past was shown: coming back to now builds
        #: the live queue anew rather than from the filings changed since.
        self.rebuild_on_return = False
        #: A step in time is being worked out. One at a time: keys pressed meanwhile move
        #: `travel_target` only, and the screen goes on from the instant that step reaches.
        #: Each step started at once would be worked out from `as_of` in full, all of them
        #: competing for the one interpreter, and all but the first thrown away.
        self.travelling = False
        self.machine = service.time_machine()
        self.display_path = display_path
        self.refresh_seconds = settings.refresh_seconds
        #: Set as the app starts to leave: ends the wait of the thread that follows changes at
        #: once, for the process cannot end before that thread has.
        self.leaving = threading.Event()
        # Held, not looked up in the screen stack: shutdown empties the stack while a dialog's
        # answer or a save's result may still arrive (a signal right after a save key).
        self.dashboard = DashboardScreen(queue, loading)
        #: The view, sort and filter of the user's last session on this database (restored on
        #: mount), and the database they are kept for (`sticky.database_key`).
        self.remembered = remembered or DashboardState()
        self.state_key = state_key

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        if sys.platform != "win32":  # the POSIX driver: made safe for a terminal that goes away
            from textual.drivers.linux_driver import LinuxDriver

            from icp_tui.ui.terminal import HangupSafeDriver

            if driver is LinuxDriver:
                return HangupSafeDriver
        return driver

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
        if self.dashboard.loading_counts is None:
            self.follow_changes()  # else once the whole queue is in (the screen starts it)

    def exit(
        self, result: int | None = None, return_code: int = 0, message: RenderableType | None = None
    ) -> None:
        self.leaving.set()
        super().exit(result, return_code, message)

    def on_unmount(self) -> None:
        self.leaving.set()  # also when the app ends otherwise than by exit() (a crash)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(help_lines()))

    def clock(self) -> datetime:
        """The time the queue is shown at: the instant travelled to, else now."""
        return self.as_of or self.live_clock()

    @property
    def read_only(self) -> bool:
        """No change can be made: a read-only database, or the queue as it was."""
        return self.service.read_only or self.as_of is not None

    @property
    def away_from_now(self) -> bool:
        """The queue shown is the queue as it was, or is on its way there: changes to today's
        records are not put into it (coming back to now reads them from the store)."""
        return self.as_of is not None or self.travel_target is not None

    def record(self, filing_id: str) -> Filing | None:
        """The filing as the dashboard shows it: as last read, or as it was at `as_of`."""
        if self.as_of is None:
            return self.service.get(filing_id)
        return self.machine.filing_at(self.service.summary(filing_id), self.as_of)

    def travel_to(self, at: datetime | None) -> None:
        """Show the queue as it was at `at` (None: now); what changed between the instant
        shown and `at` is found in a worker (`TimeMachine.changes`)."""
        self.travel_target = at
        if self.travelling:
            return
        self.travelling = True
        self._travel(self.as_of, at, at is None and self.rebuild_on_return)

    @work(
        thread=True,
        exclusive=True,
        group="travel",
        exit_on_error=False,
        description="Rebuilding the queue as it was",
    )
    def _travel(self, since: datetime | None, at: datetime | None, rebuild: bool) -> None:
        if rebuild:
            self.dashboard.post_message(TimeMoved(since, at, self.service.queue(), None))
        else:
            self.dashboard.post_message(TimeMoved(since, at, None, self.machine.changes(since, at)))

    # -- disk work, in threads ---------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="load",
        exit_on_error=False,
        description="Loading the queue",
    )
    def build_queue(self) -> None:
        """The whole queue, from what the store read at opening, behind the first rows."""

        def progress(done: int, total: int) -> None:
            if self.leaving.is_set():
                raise _Leaving  # the app waits for this thread to end: end it now
            self.dashboard.post_message(QueueLoading(done, total))

        try:
            queue = self.service.queue(progress)
        except _Leaving:
            return
        self.dashboard.post_message(QueueLoaded(queue))

    @work(
        thread=True,
        exclusive=True,
        group="wake",
        exit_on_error=False,
        description="Watching the database for changes",
    )
    def follow_changes(self) -> None:
        """Pick up changes made by others, in this one thread while the dashboard runs: at once
        when the store wakes it (file-change notifications, PostgreSQL's NOTIFY), else at each
        refresh interval. A poll reads only what was appended since the last, and an idle one
        reads nothing and tells the screen only when the minute it shows as "refreshed" moves
        (or a failure starts or ends): twenty idle dashboards must cost next to nothing."""
        worker = get_current_worker()
        told: tuple[str, str | None] | None = None
        while not worker.is_cancelled and not self.leaving.is_set():
            at = self.live_clock()  # when the disk was read, also while the past is shown
            outcome, shown = self._poll_once()
            if shown:
                told = None  # "refreshed" moves with a change shown
            if (time_of_day(at), outcome) != told:
                told = (time_of_day(at), outcome)
                self.dashboard.post_message(Polled(at, outcome))
            self._wait_for_change()

    @work(
        thread=True,
        exclusive=True,
        group="poll",
        exit_on_error=False,
        description="Refreshing the queue",
    )
    def poll_store(self) -> None:
        """One poll now, besides those of `follow_changes` (after a save failed part way)."""
        at = self.live_clock()
        outcome, _ = self._poll_once()
        self.dashboard.post_message(Polled(at, outcome))

    def _poll_once(self) -> tuple[str | None, bool]:
        """Read what others changed and send it to the screen (in a worker's thread): why the
        read failed (None: it did not), and whether anything changed."""
        try:
            changed = self.service.poll()
        except IcpError as error:
            return f"Cannot refresh: {error}", False
        if changed is None or changed:
            fresh = self.service.queue() if changed is None else None
            self.dashboard.post_message(StoreChanged(changed, fresh))
            return None, True
        return None, False

    def _wait_for_change(self) -> None:
        """Until the store says someone may have committed, or the refresh interval passes."""
        if self.service.wakes_on_change:
            self.service.wait_for_change(self.refresh_seconds, self.leaving)
        else:
            self.leaving.wait(self.refresh_seconds)

    @work(thread=True, group="save", exit_on_error=False, description="Saving your change")
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

    @work(thread=True, group="save", exit_on_error=False, description="Saving your changes")
    def save_batch(self, change: Callable[[FilingService], BatchResult], done: str) -> None:
        """Run a change to many filings through the service, each its own change."""
        result = change(self.service)
        self.dashboard.post_message(BatchSaved(result, done))

    @work(thread=True, group="compact", exit_on_error=False, description="Compacting the journal")
    def compact(self) -> None:
        """Housekeeping once our change is on disk: a worker of its own, so that its failure is
        never taken for the save's (which has been counted as done already)."""
        postponed = self.service.compact_after_save()
        if postponed is not None:
            self.dashboard.post_message(CompactionDeferred(f"Compaction postponed: {postponed}"))

    @work(
        thread=True,
        exclusive=True,
        group="sticky",
        exit_on_error=False,
        description="Keeping the view for next time",
    )
    def remember(self, state: DashboardState) -> None:
        """Write the dashboard's state to the user's state folder (the latest one wins)."""
        said = self.keep_state(state)
        if said:
            self.call_from_thread(self.notify, inert(said), severity="warning", markup=False)

    def keep_state(self, state: DashboardState) -> str:
        """Write the state now (`remember` does it in a thread); what went wrong, or ""."""
        path = self.settings.state_file
        if path is None or state == self.remembered:
            return ""
        try:
            save_state(path, self.state_key, state)
        except OSError as error:  # a full or read-only home: said, never fatal
            return f"Cannot keep the view for next time: {error}"
        self.remembered = state
        return ""

    @work(thread=True, group="export", exit_on_error=False, description="Exporting the view")
    def export_view(self, entries: list[QueueEntry], path: Path) -> None:
        """Write the rows as shown (filter, sort) to the CSV file `path` (a new file)."""
        from icp_tui.transfer import export_rows, save_csv  # not needed to open: import on use

        now = self.clock()
        path = path.resolve()
        if path.exists():
            said = f"Not exported: {path} exists already (choose another name)"
            self.call_from_thread(self.notify, inert(said), severity="warning", markup=False)
            return
        try:
            rows = export_rows(entries, self._exported, self.reference, now)
            save_csv(path, rows)
        except (IcpError, OSError) as error:
            said, severity = f"Export failed: {error}", "error"
        else:
            said, severity = f"Exported {counted(len(rows), 'filing')} to {path}", "information"
        self.call_from_thread(self.notify, inert(said), severity=severity, markup=False)

    def _exported(self, filing_id: str) -> Filing:
        filing = self.record(filing_id)
        assert filing is not None  # only filings shown, so submitted by then, are exported
        return filing

    @work(
        thread=True,
        exclusive=True,
        group="stats",
        exit_on_error=False,
        description="Building the statistics",
    )
    def open_stats(self) -> None:
        """Build the report off the UI thread (it reads every filing's history)."""
        from icp_tui.report import build_report  # not needed to open: import on use
        from icp_tui.ui.stats import StatsScreen

        try:
            at = self.as_of
            filings = self.service.filings() if at is None else self.machine.filings_at(at)
            report = build_report(filings, self.reference, self.clock())
        except IcpError as error:
            self.call_from_thread(self.notify, inert(str(error)), severity="error", markup=False)
            return
        self.call_from_thread(self.push_screen, StatsScreen(report))

    @on(Worker.StateChanged)
    def _worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's end: a save done is followed by the housekeeping; a worker that
        ended on an exception nobody expected (a bug, a disk gone bad) is said in one line,
        never a traceback, and the dashboard is left as usable as before."""
        worker = event.worker
        if event.state is WorkerState.SUCCESS and worker.group == "save":
            self.compact()
        if event.state is not WorkerState.ERROR:
            return
        error = worker.error
        said = inert(f"{worker.description or worker.name} failed: {type(error).__name__}: {error}")
        if worker.group == "save":
            # Counted as on its way until now (u waits for it): bring the count down, and read
            # the disk again, for a change to many may have saved some before it failed.
            self.dashboard.post_message(ChangeRefused(said, None))
            self.poll_store()
        elif worker.group == "poll":
            self.dashboard.post_message(Polled(self.live_clock(), said))  # told once, retried
        elif worker.group == "wake":  # the one thread that follows changes: started again
            self.dashboard.post_message(Polled(self.live_clock(), said))
            self.set_timer(self.refresh_seconds, self.follow_changes)
        elif worker.group == "load":  # the first rows stay; others' changes are followed
            self.notify(said, severity="error", markup=False)
            self.follow_changes()
        else:
            if worker.group == "travel":
                self.travelling = False
                self.travel_target = self.as_of  # the keys go on from the queue shown
                if self.as_of is None:  # others' changes were held back meanwhile: read all
                    self.rebuild_on_return = True
                    self.travel_to(None)
            self.notify(said, severity="error", markup=False)


#: From this many filings on, the dashboard shows its first rows before the whole queue is
#: built (about 25 µs a filing: half a second at 20,000); below, it is built before opening.
PREVIEW_FROM = 20_000
#: The rows shown while the rest is built: a few pages of the tallest terminal.
FIRST_ROWS = 500


def opens_on_urgency(state: DashboardState) -> bool:
    """Whether the dashboard opens on every filing, most urgent first, unfiltered: then its
    first screen is the most urgent rows, shown before the rest is built. Another view, sort
    or filter kept from last time needs every filing at once."""
    return (
        state.view in ("", View.ALL.name)
        and state.sort in ("", Sort.URGENCY.value)
        and not state.filter
    )


def make_app(
    db_path: Location,
    reference: Reference,
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    actor: str | None = None,
    as_of: datetime | None = None,
    first_rows: int | None = None,
) -> IcpApp:
    """Load the database (errors surface here, before any screen opens) and build the app;
    `as_of`: open it on the queue as it was then (read-only). The dashboard opens on the
    `first_rows` most urgent filings and builds the whole queue after them (None: FIRST_ROWS
    from PREVIEW_FROM filings on; 0: never)."""
    settings = settings or Settings(db_path=db_path)
    service = FilingService.open(db_path, reference, actor=actor, clock=clock)
    key = database_key(db_path)
    remembered = load_state(settings.state_file, key) if settings.state_file else None
    name = location_name(db_path)
    if as_of is None:
        service.load()
        if first_rows is None:
            first_rows = FIRST_ROWS if len(service.ids()) >= PREVIEW_FROM else 0
        if first_rows and opens_on_urgency(remembered or DashboardState()):
            queue, counts = service.first_rows(first_rows)
            return IcpApp(service, queue, settings, name, key, None, remembered, counts)
        return IcpApp(service, service.queue(), settings, name, key, remembered=remembered)
    service.load()
    app = IcpApp(service, Queue(reference, as_of), settings, name, key, as_of, remembered)
    app.dashboard.queue = app.machine.queue_at(as_of)  # the app's machine keeps what it read
    return app
