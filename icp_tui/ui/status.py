"""The two status lines at the top of the dashboard: time, read-only, last refresh, database;
then the view, the filter, the row count, the counts per health and the sort. And the banner
under them (read-only, time travel, errors), fitted to its lines.

Both give way at narrow widths (80 columns) by shorter forms of what they say, least
important first, rather than by losing the end of a line in the middle of a word."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from rich.cells import cell_len, chop_cells
from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from icp_tui.display import inert
from icp_tui.domain.filing import stamp, time_of_day
from icp_tui.domain.sla import HEALTH_ORDER, Health
from icp_tui.queue import Sort

#: The second line's forms, widest first: counts with words / glyphs / glyphs close together,
#: the query quoted or not, the sort shown or not.
NARROWER = (
    ("words", True, True),
    ("glyphs", True, True),
    ("tight", True, True),
    ("tight", False, True),
    ("tight", False, False),
)


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
        past: bool = False,
        loading: int | None = None,
    ) -> None:
        """Draw the lines for the `rows` shown (`counts` per health of them, `total` in the
        whole queue) in `width` cells; nothing is repainted if they read as before. `now` is
        the instant shown: with `past`, one travelled to (said so), while `last_refresh` is
        always when the database was last read. `loading`: the per cent of the whole queue
        built, while the rows are the most urgent only (the counts are of every filing)."""
        width = max(20, width)
        # Asked at every tick and poll: most of the time nothing shown has changed, and the
        # lines are not even built. Both times are shown to the minute, so an idle dashboard
        # repaints its status once a minute, not every second.
        refreshed = time_of_day(last_refresh) if last_refresh else None
        said: tuple[object, ...] = (stamp(now), past, read_only, refreshed, path, view)
        said += (filter_text, loading)
        said += (sort, rows, total, width, marked, *(counts[h] for h in HEALTH_ORDER))
        if said == self._said:
            return
        self._said = said
        # The past says so; narrow, its "Beijing" gives way before the database's file name.
        shown = (f"as it was at {stamp(now)} Beijing", f"as it was at {stamp(now)}")
        name = path.rpartition("/")[2]
        for form in shown if past else (f"{stamp(now)} Beijing",):
            first = Text()
            first.append(f" {form}", "bold")
            if read_only:
                first.append("  READ-ONLY", "bold reverse")
            if refreshed:
                first.append(f"  refreshed {refreshed}", "dim")
            if width - first.cell_len - 2 >= cell_len(name) + 2:  # room for "…/" and the name
                break
        # The path last, cut from the left: its file name is what tells two databases apart.
        room = width - first.cell_len - 2
        if cell_len(path) > room:
            path = "…" + path[-max(1, room - 1) :]
        first.append(f"  {path}")
        # View, filter and row count first: they say what the counts are of. Narrow, what
        # goes is, in turn: the words after the health glyphs (each glyph is distinct), the
        # query (the box under the lines shows it whole), the sort in force.
        second = Text()
        for counted, query, sorted_by in NARROWER:
            candidate = Text(" ")
            candidate.append(view, "bold")
            if filter_text and query:
                candidate.append(" · filter ")
                candidate.append(f"“{inert(filter_text)}”", "bold")
            elif filter_text:
                candidate.append(" · filtered", "bold")
            if loading is not None:
                candidate.append(f" · loading {loading} %…", "bold")
            if marked:
                candidate.append(f" · {marked} marked", "bold")
            candidate.append(f" · {rows} of {total} │ " if rows != total else f" · {total} │ ")
            for health in HEALTH_ORDER:
                style = "bold" if health is Health.BREACHED and counts[health] else ""
                word = f" {health.word}" if counted == "words" else ""
                gap = " " if counted == "tight" else "  "
                candidate.append(f"{health.glyph} {counts[health]}{word}{gap}", style)
            if sorted_by:
                candidate.append(f"sort {sort.value}", "dim")
            candidate.rstrip()
            second = candidate
            if candidate.cell_len <= width:
                break
        for line in (first, second):
            line.no_wrap = True
            line.overflow = "ellipsis"
        self.update(Group(first, second), layout=False)  # always two lines high (tcss)


#: The banner's height at most (app.tcss says the same): the table keeps the rest of 24 lines.
BANNER_LINES = 3


def fit_banner(
    messages: Sequence[Sequence[str]], width: int, height: int = BANNER_LINES
) -> list[str]:
    """The banner's lines for `messages` (most important first; each its forms, longest
    first) in `width` cells: the least important give way first, to shorter forms, then to
    fewer lines ending in "…"; every line breaks between words."""
    room = max(10, width - 2)  # after "⚠ " or its indent
    if len(messages) > height:  # more warnings than lines: the last line counts the rest
        hidden = len(messages) - height + 1
        messages = [*messages[: height - 1], (f"and {hidden} more warnings",)]
    chosen = [0] * len(messages)
    for i in reversed(range(len(messages))):
        while _lines(messages, chosen, room) > height and chosen[i] < len(messages[i]) - 1:
            chosen[i] += 1
    shown = [wrap(forms[c], room) for forms, c in zip(messages, chosen, strict=True)]
    for i in reversed(range(len(shown))):
        over = sum(map(len, shown)) - height
        if over > 0 and len(shown[i]) > 1:
            kept = shown[i][: max(1, len(shown[i]) - over)]
            shown[i] = [*kept[:-1], _ellipsis(kept[-1], room)]
    return [
        ("⚠ " if n == 0 else "  ") + line for message in shown for n, line in enumerate(message)
    ]


def _lines(messages: Sequence[Sequence[str]], chosen: list[int], room: int) -> int:
    return sum(len(wrap(forms[c], room)) for forms, c in zip(messages, chosen, strict=True))


def _ellipsis(line: str, room: int) -> str:
    """`line` marked as cut, at a word: its last words make room for " …"."""
    words = line.split(" ")
    while len(words) > 1 and cell_len(" ".join(words)) + 2 > room:
        words.pop()
    return " ".join(words) + " …"


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells, broken between words (a word longer than a
    line, a long path, is broken where it must)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        joined = f"{line} {word}" if line else word
        if cell_len(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        *whole, line = chop_cells(word, width) if cell_len(word) > width else [word]
        lines.extend(whole)
    return [*lines, line]
