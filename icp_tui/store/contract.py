"""The one contract every store of filings keeps: what the service, the command line and the
dashboard may use of it.

Two stores keep it: FilingStore (a TinyDB JSON file and its journal, the default) and
PostgresStore (a PostgreSQL database, for teams on more than one server). Anything a caller
needs of a store belongs here, so that a caller written against this contract works on both;
tests/store/test_store_contract.py runs the same checks against each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from icp_tui.domain.asof import Record
from icp_tui.domain.filing import Filing
from icp_tui.domain.summary import FilingSummary


class Store(Protocol):
    """A database of filings shared by staff working at the same time.

    Reads answer from what the handle last read (load or poll); writes go to the database at
    once, each whole or not at all, and are checked against what others saved meanwhile.
    """

    #: True if this handle may not write (the reason says why, in words for the banner).
    read_only: bool
    read_only_reason: str | None

    def load(self, visit: Callable[[FilingSummary], object] | None = None) -> int:
        """Read the whole database afresh; `visit` sees each filing's summary once; return how
        many filings there are."""
        ...

    def ids(self) -> list[str]:
        """Ids of all filings, oldest first."""
        ...

    def __len__(self) -> int: ...

    def __contains__(self, filing_id: object) -> bool: ...

    def get(self, filing_id: str) -> Filing:
        """The whole filing as last read; UnknownFiling if there is none."""
        ...

    def for_rebuild(self, filing_id: str) -> Record | Filing:
        """The filing as last read, as a step in time reads it: an `asof.Record` where that
        is cheaper; UnknownFiling if there is none."""
        ...

    def summary(self, filing_id: str) -> FilingSummary:
        """What the queue shows of the filing as last read; UnknownFiling if there is none."""
        ...

    def summaries(self) -> list[FilingSummary]:
        """The summaries of all filings as last read, oldest first (one call, not 50,000)."""
        ...

    def poll(self) -> list[Filing] | None:
        """The filings changed since the last load() or poll(), by anyone (this handle
        included); None if too much changed to list: then read ids() and summary() again."""
        ...

    def commit(
        self,
        filing_id: str,
        change: Callable[[Filing], Filing],
        expected_version: int | None = None,
    ) -> Filing:
        """Apply `change` to the current filing and save it (one version on); StaleChange
        naming who changed it and when if it is no longer at `expected_version`."""
        ...

    def add(self, make: Callable[[set[str]], Filing]) -> Filing:
        """Save the new filing `make(existing ids)` builds; DuplicateFiling if its id is
        taken."""
        ...

    def add_many(
        self,
        make: Callable[[set[str]], Sequence[Filing]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[Filing]:
        """Save the new filings `make(existing ids)` builds in one commit: all or none;
        DuplicateFiling (nothing saved) if an id is taken or given twice. `progress(done,
        total)` follows the work."""
        ...

    def compact_if_due(self) -> bool:
        """Tidy the storage if it is due, without waiting for others; True if it did."""
        ...


@runtime_checkable
class WakesOnChange(Protocol):
    """A store that can wake a dashboard as soon as someone commits (PostgreSQL's NOTIFY, the
    file store's file-change notifications), rather than at its next refresh; where it cannot,
    the dashboard's own poll at each refresh carries on."""

    def wait_for_change(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until a change may have been committed, or `timeout` seconds pass; True if
        woken. The caller then polls (which reads what changed, missing nothing). Setting
        `stop` (from another thread: the dashboard leaving) ends the wait within about 0.1 s,
        with False."""
        ...
