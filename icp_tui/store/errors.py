"""Errors of the storage layer: each message names the file and says what to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from icp_tui.domain.errors import IcpError

if TYPE_CHECKING:
    from icp_tui.domain.filing import Filing


class StoreError(IcpError):
    """Base of every storage problem shown to the user."""


class DatabaseMissing(StoreError):
    """There is no database file at the path."""


class DatabaseCorrupt(StoreError):
    """The database or its journal cannot be read as a filing database; nothing was changed."""


class JournalDamaged(DatabaseCorrupt):
    """A whole line or the header of the journal is damaged; `icp-tui repair` mends it."""


class ForeignFile(StoreError):
    """A file of the database is a link, not a regular file, or not the database's; it was
    neither read nor written."""


class NewerSchema(StoreError):
    """The file was written by a newer icp-tui, and this one cannot make sense of it."""


class DatabaseExists(StoreError):
    """Creating a database would overwrite an existing one."""


class ReadOnlyDatabase(StoreError):
    """A write was refused because the database is open read-only; the message says why."""


class StoreBusy(StoreError):
    """Another icp-tui held the lock for longer than we were prepared to wait."""


class CompactionPostponed(StoreError):
    """Housekeeping after a saved change failed; the change itself is safe in the journal."""


class DuplicateFiling(StoreError):
    """A new filing would reuse the id of an existing one."""


class DatabaseChanged(StoreError):
    """A whole-database write (TinyDB storage) was refused: the files changed since the read."""


class StaleChange(StoreError):
    """The filing changed since the user saw it; `current` is how it is now."""

    def __init__(self, message: str, current: Filing) -> None:
        super().__init__(message)
        self.current = current
