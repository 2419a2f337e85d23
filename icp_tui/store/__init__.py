"""Storage of filings: a TinyDB JSON base file plus a journal and a summary sidecar, safe for
concurrent staff.

FilingStore is what the CLI and dashboard use by default, through the contract in contract.py
(Store); PostgresStore (postgres.py) keeps the same contract in a PostgreSQL database. Both are
chosen by `open_store` and `create_store`, from a file path or a postgresql:// URI.
JournaledStorage lets scripts open a file database with TinyDB. The file format is described
in journal.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from icp_tui.store.contract import Store, WakesOnChange
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
from icp_tui.store.location import (
    Location,
    database_location,
    display_location,
    has_password,
    is_postgres_uri,
    location_name,
)
from icp_tui.store.storage import JournaledStorage

if TYPE_CHECKING:
    from icp_tui.domain.filing import Filing
    from icp_tui.store.postgres import PostgresStore

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
    "Location",
    "NewerSchema",
    "ReadOnlyDatabase",
    "StaleChange",
    "Store",
    "StoreBusy",
    "StoreError",
    "WakesOnChange",
    "create_store",
    "database_files",
    "database_location",
    "display_location",
    "has_password",
    "is_postgres_uri",
    "journal_path",
    "location_name",
    "lock_path",
    "open_store",
    "sharing_problems",
    "summary_path",
]


def open_store(location: Location) -> Store:
    """The store at `location` (nothing is read yet): PostgreSQL for a postgresql:// URI, else
    the database file at that path."""
    if is_postgres_uri(location):
        return _postgres_store()(str(location))
    return FilingStore(location)


def create_store(
    location: Location,
    filings: Iterable[Filing] = (),
    *,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Store:
    """Create a database at `location` holding `filings`, and return it loaded; refuses to
    replace one that holds a queue unless `overwrite`."""
    if is_postgres_uri(location):
        return _postgres_store().create(
            str(location), filings, overwrite=overwrite, progress=progress
        )
    return FilingStore.create(location, filings, overwrite=overwrite, progress=progress)


def _postgres_store() -> type[PostgresStore]:
    # Imported only here: psycopg is an optional dependency (the "postgres" extra).
    try:
        from icp_tui.store.postgres import PostgresStore
    except ImportError as error:
        raise StoreError(
            f"PostgreSQL databases need psycopg ({error.name} is missing): "
            "pip install 'icp-tui[postgres]'"
        ) from None
    return PostgresStore
