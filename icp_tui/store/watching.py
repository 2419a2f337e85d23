"""Waking on file-change notifications (inotify on Linux) for the files of one database.

A dashboard on a file database would otherwise see another person's change only at its next
poll. The notifications come through watchfiles, which keeps the kernel's watch in a thread of
its own and groups a burst of events (a compaction writes three files) into one wake-up. The
folder is watched, not the files: compaction replaces the base and the journal by rename, and a
watch on a file would stay on the old inode.

Waking is only a hint: the caller then polls, which reads what changed and misses nothing.
Where notifications cannot be had (no inotify, the per-user limit of watches reached, a file
system that sends none), `FolderWatch.wait` raises WatchUnavailable and the caller falls back
on its poll. A wait can be ended early from another thread (the dashboard leaving) with the
`stop` event it was given: the library looks at it once a step.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from contextlib import suppress
from pathlib import Path
from typing import Any

#: Events closer together than this are one wake-up (the library's step, in ms). The library
#: looks for events (and takes the interpreter's lock) once per step even while none come, so
#: the step is what an idle dashboard pays: 100 ms wakes twenty of them 200 times a second in
#: all, and still shows a change within about two steps (~0.15 s).
STEP_MS = 100
#: ... but a steady stream of them (a 60 MB base being written) wakes at least this often.
DEBOUNCE_MS = 200


class WatchUnavailable(Exception):
    """File-change notifications cannot be had here (the reason is the message)."""


class FolderWatch:
    """Wakes when any of `names` in `folder` is written, created, replaced or removed.

    Nothing is watched until the first `wait`; one thread at a time may wait.
    """

    def __init__(self, folder: Path, names: Collection[str]) -> None:
        self.folder = folder
        self.names = frozenset(names)
        self._notify: Any = None  # the library's watcher, once started
        self._unavailable: str | None = None
        self._waiting = threading.Lock()

    @property
    def unavailable(self) -> str | None:
        """Why notifications cannot be had, once a wait found out; None while they work."""
        return self._unavailable

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until one of the files changes (True) or `timeout` seconds pass or `stop` is
        set (False; within one step of it being set).

        The first call starts watching and returns True at once: what changed before the
        watch began is not known, so the caller should poll. WatchUnavailable if
        notifications cannot be had.
        """
        with self._waiting:
            if self._unavailable is not None:
                raise WatchUnavailable(self._unavailable)
            try:
                if self._notify is None:
                    self._notify = self._start()
                    return True
                deadline = time.monotonic() + timeout
                while (left := deadline - time.monotonic()) > 0:
                    left_ms = max(1, round(left * 1000))
                    found = self._notify.watch(DEBOUNCE_MS, STEP_MS, left_ms, stop)
                    if found == "stop":
                        return False
                    if not isinstance(found, set):  # "timeout" (or "signal", main thread only)
                        continue
                    if any(Path(path).name in self.names for _, path in found):
                        return True
                return False
            except Exception as error:  # the library's and the kernel's errors alike
                self._stop()
                self._unavailable = f"file-change notifications unavailable: {error}"
                raise WatchUnavailable(self._unavailable) from None

    def close(self) -> None:
        """Stop watching (a later wait starts again)."""
        with self._waiting:
            self._stop()

    def _start(self) -> Any:
        # Imported here: a command that only reads or changes the database never needs it.
        # RustNotify is the library's documented low-level watcher: one per handle, kept
        # between waits so no event falls between two of them.
        from watchfiles._rust_notify import RustNotify

        return RustNotify(
            [str(self.folder)],
            False,  # debug
            False,  # force_polling: its polling would list the folder; our poll stats 2 files
            0,  # poll_delay_ms, for polling only
            False,  # recursive
            True,  # ignore_permission_denied
        )

    def _stop(self) -> None:
        if self._notify is not None:
            with suppress(Exception):
                self._notify.close()
            self._notify = None
