"""FilingTable: a virtual table that draws only the visible rows (Textual's Line API).

DataTable measures every cell of every row, which takes seconds at 50,000 filings; this table
keeps the sorted entries in a list and renders the few lines on screen, so opening, scrolling,
filtering and re-sorting cost the same at any queue size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from operator import attrgetter, indexOf
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from icp_tui.config import Reference
from icp_tui.display import inert
from icp_tui.domain.estimate import Basis
from icp_tui.domain.filing import BEIJING
from icp_tui.domain.sla import Health, duration_in_words
from icp_tui.domain.stages import rule
from icp_tui.queue import QueueEntry, Sort, placed_position, reposition
from icp_tui.ui.keys import TABLE_KEYS, bindings
from icp_tui.ui.status import wrap


@dataclass(frozen=True)
class Column:
    """A table column: its heading, its narrowest and widest widths, and whether it grows."""

    key: str
    heading: str
    width: int
    grow: bool = False


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("health", "HEALTH", 10),
        Column("id", "ID", 14),
        Column("domain", "DOMAIN", 12, grow=True),
        Column("entity", "ENTITY", 12, grow=True),
        Column("province", "PROVINCE", 10),
        Column("stage", "STAGE", 12),
        Column("in_stage", "IN STAGE", 8),
        Column("left", "DUE/LEFT", 11),
        # The median approval estimate; "≈" when it is the province's target (too few reviews).
        Column("eta", "LIKELY BY", 11),
        Column("assignee", "ASSIGNEE", 8),
        Column("flags", "FLAGS", 12),
        # Where assignee and flags do not both fit (80 columns): the flags, else the assignee.
        Column("marks", "FLAGS/ASSIGNEE", 14),
    )
}
#: Always shown: what staff read a row by.
REQUIRED = ("health", "id", "domain", "stage", "left")
#: Shown from 100 columns up (or merged into "marks" below that).
WHO = ("assignee", "flags")
#: Then added by priority while they fit; "domain+" widens the domain first.
EXTRA = ("entity", "domain+", "in_stage", "province")
DOMAIN_BONUS = 8
ORDER = tuple(COLUMNS)
GAP = 1
#: The glyph of a marked row (space marks): it reads without colour. While any row is marked,
#: every row gets a one-cell gutter for it; without marks the layout is as before.
MARK = "*"
#: The columns whose text moves with the clock ("5 h left", "40 min", "expires in 3 d").
CLOCK_COLUMNS = frozenset({"in_stage", "left", "flags", "marks"})


_ID = attrgetter("id")
_HEALTH = attrgetter("health")


def _width(keys: Sequence[str]) -> int:
    return sum(COLUMNS[k].width for k in keys) + GAP * (len(keys) - 1)


#: The narrowest table that shows every column staff need at 100 columns and more.
TABLE_NEED = _width(REQUIRED + WHO)


@cache  # asked for every line drawn: a page is ~40 lines, and few widths are ever seen
def layout(width: int, eta: bool = False) -> tuple[tuple[Column, int], ...]:
    """The columns that fit in `width` cells, with their widths, in display order; `eta`: the
    approval estimate in place of the flags (the authority's queue, or sorted by it: flags
    there are rare, since a filing with the authority has no ticket or order to expire)."""
    chosen = list(REQUIRED)
    who = ("assignee", "eta") if eta else WHO
    if _width([*chosen, *who]) <= width:
        chosen += who
    elif eta and _width([*chosen, "eta"]) <= width:
        chosen.append("eta")
    elif _width([*chosen, "marks"]) <= width:
        chosen.append("marks")
    used = _width(chosen)
    widths = {k: COLUMNS[k].width for k in chosen}
    for key in EXTRA:
        if key == "domain+":
            if used + DOMAIN_BONUS <= width:
                widths["domain"] += DOMAIN_BONUS
                used += DOMAIN_BONUS
            continue
        need = COLUMNS[key].width + GAP
        if used + need <= width:
            chosen.append(key)
            widths[key] = COLUMNS[key].width
            used += need
    shown = [COLUMNS[k] for k in ORDER if k in chosen]
    growers = [c for c in shown if c.grow]
    spare = max(0, width - used)
    for i, column in enumerate(growers):
        share = spare // len(growers) + (1 if i < spare % len(growers) else 0)
        widths[column.key] += share
    return tuple((c, widths[c.key]) for c in shown)


def fit(text: str, width: int) -> str:
    """`text` cut with an ellipsis or padded to exactly `width` cells (CJK counts double)."""
    if cell_len(text) <= width:
        return text + " " * (width - cell_len(text))
    # A double-width character that does not fit leaves a pad space: put the ellipsis first.
    cut = set_cell_size(text, width - 1)
    if cut.endswith(" ") and not text[: len(cut)].endswith(" "):
        return cut[:-1] + "… "
    return cut + "…"


class FilingTable(ScrollView, can_focus=True):
    """The queue, one row per filing; the row key is the filing id."""

    BINDINGS = bindings(TABLE_KEYS)
    COMPONENT_CLASSES = {
        "filing-table--header",
        "filing-table--cursor",
        "filing-table--breached",
        "filing-table--at_risk",
        "filing-table--on_track",
        "filing-table--waiting",
        "filing-table--done",
    }

    #: No repaint of its own: the watcher repaints the two rows the cursor left and reached
    #: (a repaint of the whole table was most of a cursor key's cost).
    cursor: reactive[int] = reactive(0, always_update=True, init=False, repaint=False)

    class Highlighted(Message):
        """The cursor moved to another filing (or the table became empty: None)."""

        def __init__(self, entry: QueueEntry | None) -> None:
            self.entry = entry
            super().__init__()

    class Selected(Message):
        """Enter was pressed on a filing."""

        def __init__(self, entry: QueueEntry) -> None:
            self.entry = entry
            super().__init__()

    def __init__(
        self, reference: Reference, clock: Callable[[], datetime], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.reference = reference
        self.clock = clock
        self.rows: list[QueueEntry] = []
        #: Shown when there is no row (set by the screen, which knows the view and filter).
        self.empty_message = ""
        #: Whether the approval estimate has a column (set by the screen, by view and sort).
        self.show_eta = False
        self._highlighted: str | None = None
        #: The marked filings' ids (the screen's set, shared: it says when it changes).
        self.marked: set[str] = set()
        #: The filings shown, each with the health its row was last counted under (None: not
        #: yet taken, see `_shown`), and the counts per health (None: to be counted): a change
        #: moves its row between counts instead of recounting every row.
        self._healths: dict[str, Health] | None = {}
        self._counts: Counter[Health] | None = None
        #: Per line on screen: the filing drawn there, its clock columns and their texts, so a
        #: tick repaints only the lines whose text the clock moved.
        self._clock_texts: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}

    # -- data ----------------------------------------------------------------------------

    def show_rows(
        self,
        rows: Sequence[QueueEntry],
        keep: QueueEntry | None = None,
        counts: Counter[Health] | None = None,
    ) -> None:
        """Replace the rows (a new filter, sort or view), keeping the cursor on `keep`: the
        entry itself, as in the queue the rows come from. `counts`: the rows' counts per
        health, where the caller has them (every filing: the queue's); else they are counted
        when first asked for (~40 ms at 100,000 rows)."""
        self.rows = list(rows)
        # The map of ids to healths waits for the first change to the rows: at 100,000 rows
        # building it was most of a filter keystroke or a sort.
        self._healths = None
        self._counts = None if counts is None else Counter(counts)  # ours to change
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        try:
            if keep is not None:
                # By identity, in C: ~1 ms at 100,000 rows; comparing ids took ~50 ms.
                target = self.rows.index(keep)
            else:
                want = self._highlighted
                target = indexOf(map(_ID, self.rows), want) if want else 0
        except ValueError:
            target = 0
        self.cursor = min(target, max(0, len(self.rows) - 1))
        # The new height takes effect at the next layout; scrolling before it is clamped to
        # the old one (a row far down, found by a filter, stayed off screen once cleared).
        self.call_after_refresh(self._scroll_cursor_into_view)
        self.refresh()

    def update_entries(self, entries: Sequence[QueueEntry]) -> list[QueueEntry]:
        """Redraw the rows of entries the queue changed (in place: each row stays where it is
        until a re-sort, and the cursor with it); return those not shown."""
        missing = []
        top = round(self.scroll_y)
        drawn = {e.id: top + n for n, e in enumerate(self.rows[top : top + self.size.height])}
        healths = self._shown()
        for entry in entries:
            before = healths.get(entry.id)
            if before is None:
                missing.append(entry)
                continue
            self._count(entry, before)
            i = drawn.get(entry.id)
            if i is not None:
                self._refresh_row(i)
        return missing

    def append_entries(self, entries: Sequence[QueueEntry]) -> None:
        """New filings go at the bottom until the next re-sort."""
        if not entries:
            return  # asked after every change: most add no row
        for entry in entries:
            self.rows.append(entry)
            self._count(entry, None)
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        self.refresh()

    def reposition(
        self,
        moved: Sequence[QueueEntry],
        sort: Sort,
        keep: Callable[[QueueEntry], bool],
        placed: Mapping[str, Any],
    ) -> None:
        """Move the `moved` rows to where `sort` puts them (the rows are in that order but for
        them, each sorted under its key in `placed`), adding or dropping each as `keep` says;
        the cursor stays on its filing. Costs what moved (a binary search for where each is
        and for where it goes), not a re-sort of every row: the other rows are not even
        looked at."""
        healths = self._shown()
        shown = {e.id: healths.get(e.id) for e in moved}
        current = self.current
        position = partial(self._position, found=placed_position(self.rows, sort, placed))
        if reposition(self.rows, moved, sort, keep, position) is None:
            return
        for entry in moved:
            before = shown[entry.id]
            if keep(entry):
                self._count(entry, before)
            elif before is not None:
                del healths[entry.id]
                if self._counts is not None:
                    self._counts[before] -= 1
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        if current is not None and current.id in healths:
            # In order now (but for rows added at the bottom): found by its key.
            at = self._position(current, placed_position(self.rows, sort, {}))
            assert at is not None  # counted as shown: it has a row
            self.cursor = at
        else:
            self.cursor = min(self.cursor, max(0, len(self.rows) - 1))
        self.refresh()

    def health_counts(self) -> Counter[Health]:
        """How many rows have each health (counted once per set of rows, then kept)."""
        if self._counts is None:
            healths = self._healths
            self._counts = Counter(map(_HEALTH, self.rows) if healths is None else healths.values())
        return self._counts

    def _shown(self) -> dict[str, Health]:
        """The shown filings' healths as counted: taken now if not yet (and then counted
        again under them, since an entry may have changed in place since the rows came)."""
        if self._healths is None:
            self._healths = dict(zip(map(_ID, self.rows), map(_HEALTH, self.rows), strict=True))
            self._counts = None
        return self._healths

    def _count(self, entry: QueueEntry, before: Health | None) -> None:
        """Count `entry`'s row under its health now, no longer under `before` (None: new)."""
        self._shown()[entry.id] = entry.health
        if self._counts is not None and entry.health is not before:
            if before is not None:
                self._counts[before] -= 1
            self._counts[entry.health] += 1

    def _position(self, entry: QueueEntry, found: Callable[[QueueEntry], int | None]) -> int | None:
        """Where `entry`'s row is (None: not shown): as `found` finds it (entries are the
        queue's, changed in place), else by id (a row of an older entry of the filing)."""
        if entry.id not in self._shown():
            return None
        at = found(entry)
        if at is None:
            at = next(i for i, e in enumerate(self.rows) if e.id == entry.id)
        return at

    def clock_moved(self) -> None:
        """Repaint the lines whose clock columns read differently now (most ticks: none)."""
        now = self.clock()
        top = round(self.scroll_y)
        for y, (filing_id, keys, texts) in self._clock_texts.items():
            i = top + y - 1
            if not 0 <= i < len(self.rows) or self.rows[i].id != filing_id:
                continue  # scrolled or replaced since drawn: repainted anyway
            if tuple(self._cell(self.rows[i], k, now) for k in keys) != texts:
                self._refresh_row(i)

    @property
    def current(self) -> QueueEntry | None:
        """The highlighted filing's entry."""
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # -- cursor --------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self._refresh_row(old)
        self._refresh_row(new)
        self._scroll_cursor_into_view()
        entry = self.current
        if entry is None or entry.id != self._highlighted:
            self._highlighted = entry.id if entry else None
            self.post_message(self.Highlighted(entry))

    def _scroll_cursor_into_view(self) -> None:
        body = max(1, self.size.height - 1)
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False, immediate=True)

    def _move_to(self, row: int) -> None:
        if self.rows:
            self.cursor = max(0, min(row, len(self.rows) - 1))

    def action_cursor(self, step: int) -> None:
        self._move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(1, self.size.height - 2))

    def action_jump(self, row: int) -> None:
        self._move_to(row if row >= 0 else len(self.rows) - 1)

    def action_select(self) -> None:
        if self.current is not None:
            self.post_message(self.Selected(self.current))

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self.rows):
            self.cursor = row

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)

    # -- drawing -------------------------------------------------------------------------

    def _refresh_row(self, i: int) -> None:
        # ScrollView.refresh_line takes the line in the whole table (the row's, below the
        # header), not on screen: given the screen's, it repainted another line once scrolled.
        y = i - round(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh_line(i + 1)

    def render_line(self, y: int) -> Strip:
        self._clock_texts.pop(y, None)
        width = self.size.width
        gutter = 1 if self.marked else 0
        # The vertical scrollbar covers the last cell: lay the columns out in what is left.
        columns = layout(self.scrollable_content_region.width - gutter, self.show_eta)
        if y == 0:
            style = self.get_component_rich_style("filing-table--header")
            text = " " * gutter + " ".join(fit(c.heading, w) for c, w in columns)
            return Strip([Segment(fit(text, width), style)], width)
        i = round(self.scroll_y) + y - 1
        if not self.rows and y >= 2:  # an empty view says why, instead of an empty table
            said = wrap(self.empty_message, max(10, width - 4))  # on lines of their own
            line = f"  {said[y - 2]}" if y - 2 < len(said) else ""
            return Strip([Segment(fit(line, width), self.rich_style)])
        if i >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        entry = self.rows[i]
        return self._render_row(y, entry, columns, width, i == self.cursor)

    def _render_row(
        self,
        y: int,
        entry: QueueEntry,
        columns: tuple[tuple[Column, int], ...],
        width: int,
        cursor: bool,
    ) -> Strip:
        health_style = self.get_component_rich_style(f"filing-table--{entry.health.value}")
        base = self.rich_style
        if entry.health is Health.BREACHED:
            base = base + Style(bold=True)  # breached rows stand out without colour too
        if cursor:
            base = base + self.get_component_rich_style("filing-table--cursor")
        now = self.clock()
        segments = []
        clock_keys: list[str] = []
        clock_texts: list[str] = []
        if self.marked:
            marked = entry.id in self.marked
            segments.append(Segment(MARK if marked else " ", base + Style(bold=marked)))
        for n, (column, cells) in enumerate(columns):
            if n:
                segments.append(Segment(" ", base))
            value = self._cell(entry, column.key, now)
            if column.key in CLOCK_COLUMNS:
                clock_keys.append(column.key)
                clock_texts.append(value)
            style = base + health_style if column.key == "health" else base
            segments.append(Segment(fit(value, cells), style))
        self._clock_texts[y] = (entry.id, tuple(clock_keys), tuple(clock_texts))
        return Strip(segments).adjust_cell_length(width, base)

    def _cell(self, entry: QueueEntry, key: str, now: datetime) -> str:
        if key == "health":
            return f"{entry.health.glyph} {entry.health.word}"
        if key == "id":
            return entry.id
        if key == "domain":
            return inert(entry.domain)
        if key == "entity":
            return inert(entry.entity)
        if key == "province":
            return inert(entry.province)
        if key == "stage":
            return rule(entry.stage).short
        if key == "in_stage":
            return duration_in_words(now - entry.times.entered_at)
        if key == "left":
            return entry.left(self.reference, now)
        if key == "eta":
            if entry.eta is None:
                return "-"
            p50 = entry.eta.p50.astimezone(BEIJING).date().isoformat()
            return p50 if entry.eta.basis is Basis.HISTORY else f"≈{p50}"
        if key == "assignee":
            return inert(entry.assignee or "-")
        flags = inert(", ".join(entry.flags(self.reference.policy, now)))
        if key == "marks":
            return flags or inert(entry.assignee or "-")
        return flags
