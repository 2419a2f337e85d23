"""What the dashboard remembers per user from one start to the next: view, sort and filter.

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


@dataclass(frozen=True)
class DashboardState:
    """The last view (a queue's name or "view:" and a saved view's name), sort and filter."""

    view: str = ""
    sort: str = ""
    filter: str = ""


def load_state(path: Path) -> DashboardState:
    """The state saved at `path`; the defaults if there is none or it is damaged."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return DashboardState()
    if not isinstance(doc, dict):
        return DashboardState()
    values = {k: v for k, v in doc.items() if k in ("view", "sort", "filter") and type(v) is str}
    return DashboardState(**values)


def save_state(path: Path, state: DashboardState) -> None:
    """Write the state whole or not at all (temporary file, rename), readable by the user only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dashboard-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(state), out, ensure_ascii=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
