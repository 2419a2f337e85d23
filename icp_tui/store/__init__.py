"""Storage of filings: a TinyDB JSON base file plus a journal and a summary sidecar, safe for
concurrent staff.

FilingStore is what the CLI and dashboard use, through the contract in contract.py (Store);
JournaledStorage lets scripts open the same database with TinyDB. The file format is described
in journal.py.
"""

from icp_tui.store.contract import Store
from icp_tui.store.errors import (
    DatabaseChanged,
    DatabaseCorrupt,
    DatabaseExists,
    DatabaseMissing,
    DuplicateFiling,
    NewerSchema,
    ReadOnlyDatabase,
    StaleChange,
    StoreBusy,
    StoreError,
)
from icp_tui.store.filing_store import FilingStore
from icp_tui.store.journal import (
    MIGRATIONS,
    SCHEMA_VERSION,
    journal_path,
    lock_path,
    summary_path,
)
from icp_tui.store.storage import JournaledStorage

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "DatabaseChanged",
    "DatabaseCorrupt",
    "DatabaseExists",
    "DatabaseMissing",
    "DuplicateFiling",
    "FilingStore",
    "JournaledStorage",
    "NewerSchema",
    "ReadOnlyDatabase",
    "StaleChange",
    "Store",
    "StoreBusy",
    "StoreError",
    "journal_path",
    "lock_path",
    "summary_path",
]
