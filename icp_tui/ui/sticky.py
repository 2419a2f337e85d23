"""What the dashboard remembers per user from one start to the next: view, sort and filter,
for each database (a filter made for one queue means nothing in another).

Kept in the user's own state directory (`config.user_state_file`: $XDG_STATE_HOME/icp-tui),
never in the shared database: one person's last filter is nobody else's business. A file that
cannot be read or makes no sense is ignored (the defaults apply); it is never a reason not to
start.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from icp_tui.services import Location, display_location

#: The databases whose state is kept, the latest used: a user opens a few, and a file named
#: once (a copy, a test database) must not make the state file grow for good.
KEPT_DATABASES = 20


@dataclass(frozen=True)
class DashboardState:
    """The last view (a queue's name or "view:" and a saved view's name), sort and filter."""

    view: str = ""
    sort: str = ""
    filter: str = ""


def database_key(location: Location) -> str:
    """What a database's state is kept under: a file by its resolved path (however it was
    typed, from whichever folder), a PostgreSQL database by its URI without a password."""
    return str(location.resolve()) if isinstance(location, Path) else display_location(location)


def _databases(path: Path) -> dict[str, Any]:
    """The kept states by database, as read (empty if there is no file or it is damaged)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    databases = doc.get("databases") if isinstance(doc, dict) else None
    return databases if isinstance(databases, dict) else {}


def load_state(path: Path, database: str) -> DashboardState:
    """The state kept at `path` for `database` (a `database_key`); the defaults if there is
    none or it is damaged."""
    doc = _databases(path).get(database)
    if not isinstance(doc, dict):
        return DashboardState()
    values = {k: v for k, v in doc.items() if k in ("view", "sort", "filter") and type(v) is str}
    return DashboardState(**values)


def save_state(path: Path, database: str, state: DashboardState) -> None:
    """Keep `state` for `database` beside the other databases' (the latest KEPT_DATABASES),
    written whole or not at all (temporary file, rename), readable by the user only."""
    kept = {k: v for k, v in _databases(path).items() if k != database}
    databases = dict(list(kept.items())[-(KEPT_DATABASES - 1) :]) | {database: asdict(state)}
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dashboard-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"databases": databases}, out, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
