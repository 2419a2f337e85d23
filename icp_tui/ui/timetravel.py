"""Time travel in the dashboard: the queue as it was at a past instant.

Opened with `--as-of`, or reached with the keys (declared in keys.py): `[` / `]` an hour back
/ forward, `{` / `}` a day, `@` a typed time, `.` back to now. Away from now the dashboard is
read-only (every action key greyed out, as for a read-only database) and its banner says so.
What a step changes is found off the UI thread (`icp_tui.timetravel`): only the filings
with a history entry between the two instants (now counts as an instant after every entry)
are rebuilt, and put into the queue shown, which the clock then moves (`Queue.refresh`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from textual.message import Message

from icp_tui.domain.errors import InvalidInput
from icp_tui.domain.filing import BEIJING
from icp_tui.queue import Queue
from icp_tui.timetravel import Change, parse_time


class TimeMoved(Message):
    """The queue was rebuilt at `at` (None: now), from the queue shown at `since`."""

    def __init__(
        self,
        since: datetime | None,
        at: datetime | None,
        queue: Queue | None,
        changes: list[Change] | None,
    ) -> None:
        self.since = since
        self.at = at
        #: What changed in the queue shown (the usual step) ...
        self.changes = changes
        #: ... or a whole new queue (back to now after the database was read afresh).
        self.queue = queue
        super().__init__()


def banner_text(at: datetime) -> tuple[str, ...]:
    """What the banner says while the dashboard shows the past, in shorter forms for narrow
    windows (the step keys go first: the help lists them)."""
    shown = f"{at.astimezone(BEIJING):%Y-%m-%d %H:%M}"
    return (
        f"The queue as it was at {shown} (Beijing), rebuilt from the history: "
        "read-only. [ ] an hour, { } a day, @ a time, . back to now",
        f"The queue as it was at {shown} Beijing, read-only (.: back to now)",
        f"The queue at {shown}, read-only (.: now)",
    )


def stepped(shown: datetime, hours: int, now: datetime) -> datetime | None:
    """The instant `hours` from `shown`; None (the live queue) once that is within an hour,
    the smallest step, of now: the clock moved on while the past was shown, so `[` then `]`
    lands just short of now. A day forward from a day and an hour back is an hour back."""
    target = shown + timedelta(hours=hours)
    return None if target > now - timedelta(hours=1) else target


def typed_time(text: str, now: datetime) -> datetime:
    """A time typed into the jump dialog: ISO 8601 in Beijing time, not in the future."""
    typed = text.strip()
    iso = typed.replace(" ", "T", 1)
    try:
        at = parse_time(iso, "time")
    except InvalidInput as error:  # quote the text as typed, not as rewritten for parsing
        raise InvalidInput(str(error).replace(repr(iso), repr(typed), 1)) from None
    if at > now:
        raise InvalidInput(f"{at:%Y-%m-%d %H:%M} is later than now: only the past can be shown")
    return at


def typed_time_problem(text: str, now: datetime) -> str | None:
    """Why the jump dialog's text is not a time to go to (None: it is)."""
    try:
        typed_time(text, now)
    except InvalidInput as error:
        return str(error)
    return None
