"""Storage of filings: a TinyDB JSON base file plus a journal and a summary sidecar, safe for
concurrent staff.

FilingStore is what the CLI and dashboard use; JournaledStorage lets scripts open the same
database with TinyDB. The file format is described in journal.py.
"""

from icp_tui.store.errors import (
    CompactionPostponed,
    DatabaseChanged,
    DatabaseCorrupt,
    DatabaseExists,
    DatabaseMissing,
    DuplicateFiling,
    ForeignFile,
    JournalDamaged,
    NewerSchema,
    ReadOnlyDatabase,
    StaleChange,
    StoreBusy,
    StoreError,
)
from icp_tui.store.files import sharing_problems
from icp_tui.store.filing_store import FilingStore
from icp_tui.store.journal import (
    MIGRATIONS,
    SCHEMA_VERSION,
    database_files,
    journal_path,
    lock_path,
    summary_path,
)
from icp_tui.store.storage import JournaledStorage

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "CompactionPostponed",
    "DatabaseChanged",
    "DatabaseCorrupt",
    "DatabaseExists",
    "DatabaseMissing",
    "DuplicateFiling",
    "FilingStore",
    "ForeignFile",
    "JournalDamaged",
    "JournaledStorage",
    "NewerSchema",
    "ReadOnlyDatabase",
    "StaleChange",
    "StoreBusy",
    "StoreError",
    "database_files",
    "journal_path",
    "lock_path",
    "sharing_problems",
    "summary_path",
]
