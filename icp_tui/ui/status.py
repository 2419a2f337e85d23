"""The two status lines at the top of the dashboard: time, read-only, last refresh, database;
then the view, the filter, the row count, the counts per health and the sort."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from icp_tui.display import inert
from icp_tui.domain.filing import stamp, time_of_day
from icp_tui.domain.sla import HEALTH_ORDER, Health
from icp_tui.queue import Sort


class StatusLine(Static):
    """Data file, Beijing time, counts per health, view, sort, last refresh."""

    _said: tuple[object, ...] | None = None  # what the lines were last drawn from

    def show(
        self,
        *,
        now: datetime,
        read_only: bool,
        last_refresh: datetime | None,
        path: str,
        view: str,
        filter_text: str,
        sort: Sort,
        rows: int,
        counts: Mapping[Health, int],
        total: int,
        width: int,
        marked: int = 0,
    ) -> None:
        """Draw the lines for the `rows` shown (`counts` per health of them, `total` in the
        whole queue) in `width` cells; nothing is repainted if they read as before."""
        width = max(20, width)
        # Asked at every tick and poll: most of the time nothing shown has changed, and the
        # lines are not even built. Both times are shown to the minute, so an idle dashboard
        # repaints its status once a minute, not every second.
        refreshed = time_of_day(last_refresh) if last_refresh else None
        said: tuple[object, ...] = (stamp(now), read_only, refreshed, path, view, filter_text)
        said += (sort, rows, total, width, marked, *(counts[h] for h in HEALTH_ORDER))
        if said == self._said:
            return
        self._said = said
        first = Text()
        first.append(f" {stamp(now)} Beijing", "bold")
        if read_only:
            first.append("  READ-ONLY", "bold reverse")
        if refreshed:
            first.append(f"  refreshed {refreshed}", "dim")
        # The path last, cut from the left: its file name is what tells two databases apart.
        room = width - first.cell_len - 2
        if cell_len(path) > room:
            path = "…" + path[-max(1, room - 1) :]
        first.append(f"  {path}")
        # View, filter and row count first: they say what the counts are of.
        second = Text(" ")
        second.append(view, "bold")
        if filter_text:
            second.append(" · filter ")
            second.append(f"“{inert(filter_text)}”", "bold")
        if marked:
            second.append(f" · {marked} marked", "bold")
        second.append(f" · {rows} of {total} │ " if rows != total else f" · {total} │ ")
        words = Text()
        glyphs = Text()
        for health in HEALTH_ORDER:
            style = "bold" if health is Health.BREACHED and counts[health] else ""
            words.append(f"{health.glyph} {counts[health]} {health.word}  ", style)
            glyphs.append(f"{health.glyph} {counts[health]}  ", style)
        sort_text = Text(f"sort {sort.value}", "dim")
        # Narrow: the words go (each glyph is distinct), rather than the last counts or the
        # sort in force being cut off.
        for candidate in (second + words + sort_text, second + glyphs + sort_text):
            if candidate.cell_len <= width:
                break
        second = candidate
        for line in (first, second):
            line.no_wrap = True
            line.overflow = "ellipsis"
        self.update(Group(first, second), layout=False)  # always two lines high (tcss)
