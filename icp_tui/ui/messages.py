"""What the disk workers report to the dashboard: messages as data, handled by the screen that
owns the queue (DashboardScreen), never by reaching into it from a thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message

from icp_tui.domain.filing import Filing
from icp_tui.queue import Queue
from icp_tui.services import BatchResult


@dataclass
class StoreChanged(Message):
    """Filings changed in the database (another user, the command line, our own save)."""

    #: The changed filings; None: too much changed, and `queue` is rebuilt from the store.
    filings: list[Filing] | None
    queue: Queue | None = None


@dataclass
class BatchSaved(Message):
    """A change to many filings is done: each saved or refused on its own."""

    result: BatchResult
    #: What was done, after the count: "taken", "noted", "moved to ...".
    done: str


@dataclass
class Polled(Message):
    """A poll finished at `at`; `error` says why it failed (None: the store is reachable)."""

    at: datetime
    error: str | None = None

    def can_replace(self, message: Message) -> bool:
        # Only the latest outcome matters: a flood of polls while the UI is busy merges.
        return isinstance(message, Polled)


@dataclass
class ChangeSaved(Message):
    """A change of ours is on disk; `said` tells the user."""

    filing: Filing
    said: str


@dataclass
class ChangeRefused(Message):
    """A change of ours was refused (or its save failed); `fresh` is the filing as it now is,
    if known."""

    said: str
    fresh: Filing | None


@dataclass
class CompactionDeferred(Message):
    """Housekeeping after a save failed (the change is saved): a warning, retried later."""

    said: str


@dataclass
class QueueLoading(Message):
    """The whole queue is being built behind the first rows: `done` of `total` filings."""

    done: int
    total: int

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, QueueLoading)  # only the latest share is shown


@dataclass
class QueueLoaded(Message):
    """The whole queue, built after the first rows were shown (IcpApp.build_queue)."""

    queue: Queue
