"""The statistics screen (`g`): the queue as pictures, where a person would rather look.

Pure presentation of a `report.Report` (computed by `report.build_report`): filings per stage
split by health as horizontal bars, SLA breaches per day as a sparkline, and the authority
review time per province against its target. Every bar uses a glyph per health as well as a
colour, so the screen reads at 80x24, in 16 colours and with NO_COLOR. Everything is built as
rich `Text`, never markup, so no data can style or break the screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Sparkline, Static

from icp_tui.display import inert
from icp_tui.domain.filing import stamp
from icp_tui.domain.naming import counted
from icp_tui.domain.sla import HEALTH_ORDER, Health
from icp_tui.domain.stages import STAGE_ORDER, rule
from icp_tui.report import Report

#: One block per health, densest for the most urgent, so the bars read without colour.
HEALTH_BLOCKS: dict[Health, str] = {
    Health.BREACHED: "█",
    Health.AT_RISK: "▓",
    Health.ON_TRACK: "▒",
    Health.WAITING: "░",
    Health.DONE: "·",
}
LABEL_WIDTH = 13
TARGET_MARK = "│"


def split_bar(counts: Sequence[int], cells: int) -> list[int]:
    """Cells for each count so that they add up to `cells` (largest remainder), and any
    count above zero gets at least one cell when there is room."""
    total = sum(counts)
    if total == 0 or cells <= 0:
        return [0] * len(counts)
    exact = [count * cells / total for count in counts]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: cells - sum(shares)]:
        shares[i] += 1
    # A small count rounded to nothing would vanish from the picture: take a cell from the
    # largest share instead.
    for i, count in enumerate(counts):
        if count and not shares[i]:
            largest = max(range(len(shares)), key=lambda j: shares[j])
            if shares[largest] > 1:
                shares[largest] -= 1
                shares[i] = 1
    return shares


class StageBars(Widget):
    """Filings per stage, one bar per stage, split by health; bar length ~ filings."""

    COMPONENT_CLASSES = {f"stage-bars--{h.value}" for h in HEALTH_ORDER}
    # The stats screen ships with its widgets: its look travels with them.
    DEFAULT_CSS = """
    StageBars { height: auto; }
    StageBars > .stage-bars--breached { color: $error; text-style: bold; }
    StageBars > .stage-bars--at_risk { color: $warning; }
    StageBars > .stage-bars--on_track { color: $success; }
    StageBars > .stage-bars--waiting { color: $text-muted; }
    StageBars > .stage-bars--done { color: $text-disabled; }
    """

    def __init__(self, report: Report, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report = report

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(STAGE_ORDER)  # the legend, then one line per stage

    def render(self) -> Text:
        report = self.report
        styles = {h: self.get_component_rich_style(f"stage-bars--{h.value}") for h in HEALTH_ORDER}
        text = Text(no_wrap=True, overflow="crop")
        text.append(" " * LABEL_WIDTH)
        for health in HEALTH_ORDER:
            text.append(f"{HEALTH_BLOCKS[health]} {health.word}", styles[health])
            text.append("  ")
        widest = max((report.stage_total(s) for s in STAGE_ORDER), default=0) or 1
        room = max(1, self.content_size.width - LABEL_WIDTH - 7)
        for stage in STAGE_ORDER:
            counts = [report.by_stage[stage][h] for h in HEALTH_ORDER]
            total = sum(counts)
            length = round(total * room / widest)
            if total and not length:
                length = 1
            text.append("\n")
            text.append(f"{rule(stage).short:<{LABEL_WIDTH - 1}} ")
            text.append(f"{total:>5} ")
            for health, cells in zip(HEALTH_ORDER, split_bar(counts, length), strict=True):
                text.append(HEALTH_BLOCKS[health] * cells, styles[health])
        return text


class ProvinceReviewBars(Widget):
    """Median authority review days per province, with the province's target marked."""

    COMPONENT_CLASSES = {"review-bars--ok", "review-bars--over", "review-bars--target"}
    DEFAULT_CSS = """
    ProvinceReviewBars { height: auto; }
    ProvinceReviewBars > .review-bars--ok { color: $success; }
    ProvinceReviewBars > .review-bars--over { color: $error; text-style: bold; }
    ProvinceReviewBars > .review-bars--target { color: $text; text-style: bold; }
    """

    def __init__(self, report: Report, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report = report

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.report.authority_review))

    def render(self) -> Text:
        provinces = self.report.authority_review
        if not provinces:
            return Text("No finished authority reviews yet.", style="italic")
        ok = self.get_component_rich_style("review-bars--ok")
        over = self.get_component_rich_style("review-bars--over")
        mark = self.get_component_rich_style("review-bars--target")
        scale = max(max(p.median_bd, p.target_bd) for p in provinces) or 1
        room = max(10, self.content_size.width - LABEL_WIDTH - 31)
        text = Text(no_wrap=True, overflow="crop")
        for n, p in enumerate(provinces):
            if n:
                text.append("\n")
            filled = round(p.median_bd * room / scale)
            target_at = min(room - 1, round(p.target_bd * room / scale))
            style = over if p.over_target else ok
            text.append(f"{inert(p.province)[: LABEL_WIDTH - 1]:<{LABEL_WIDTH}}")
            for cell in range(room):
                if cell == target_at:
                    text.append(TARGET_MARK, mark)
                elif cell < filled:
                    text.append(HEALTH_BLOCKS[Health.BREACHED], style)
                else:
                    text.append(" ")
            text.append(f" {p.median_bd:>4g} p90 {p.p90_bd:>2} of {p.target_bd:>2} bd ")
            text.append(
                "✖ over" if p.over_target else f"n={p.reviews}", over if p.over_target else ""
            )
        return text


class StatsScreen(Screen[None]):
    """Pictures of the queue from a `Report`; escape, q or g closes it."""

    BINDINGS = [Binding("escape,q,g", "close", "Close", id="stats.close")]
    DEFAULT_CSS = """
    StatsScreen #stats-title { height: auto; padding: 0 1; background: $panel; }
    StatsScreen #stats-body { height: 1fr; padding: 0 1; }
    StatsScreen .stats-heading { margin-top: 1; text-style: bold; }
    StatsScreen .stats-note { color: $text-muted; }
    StatsScreen #breach-sparkline { height: 2; }
    """

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        report = self.report
        title = Text()
        title.append("Queue statistics", "bold")
        title.append(f" at {stamp(report.now)} (Beijing): {counted(report.total, 'filing')}\n")
        title.append("  ".join(f"{h.glyph} {report.by_health[h]} {h.word}" for h in HEALTH_ORDER))
        yield Static(title, id="stats-title")
        days = report.breaches_per_day
        counts = [n for _, n in days]
        with VerticalScroll(id="stats-body"):
            yield Static(Text("Filings per stage, by health"), classes="stats-heading")
            yield StageBars(report, id="stage-bars")
            yield Static(Text(_breach_heading(days)), classes="stats-heading")
            sparkline = Sparkline(counts, id="breach-sparkline")
            sparkline.styles.width = 2 * len(counts)  # two cells a day
            yield sparkline
            yield Static(Text(_axis(days, 2 * len(counts))), classes="stats-note")
            yield Static(
                Text(
                    f"Authority review, median business days per province ({TARGET_MARK} "
                    f"target) and P90; reviews decided in the last {report.window_days} days"
                ),
                classes="stats-heading",
            )
            yield ProvinceReviewBars(report, id="review-bars")
            yield Static(Text(_slow_heading(report)), classes="stats-heading")
            yield Static(_slow_lines(report), id="slow-reviews")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#stats-body").focus()  # so the arrow keys and pgup/pgdn scroll

    def action_close(self) -> None:
        self.dismiss(None)


#: The slowest filings listed under "slower than 9 in 10" (the report lists them all).
SLOW_SHOWN = 10


def _slow_heading(report: Report) -> str:
    return (
        f"Slower than 9 in 10: {counted(len(report.slower_than_p90), 'filing')} in authority "
        "review past their province's P90"
    )


def _slow_lines(report: Report) -> Text:
    slow = report.slower_than_p90
    if not slow:
        return Text("none", style="italic")
    text = Text(no_wrap=True, overflow="ellipsis")
    for n, s in enumerate(slow[:SLOW_SHOWN]):
        if n:
            text.append("\n")
        text.append(f"{s.id:<15} P90 {stamp(s.p90)[:10]}  {inert(s.province)[:12]:<12} ")
        text.append(inert(s.domain))
    if len(slow) > SLOW_SHOWN:
        text.append(f"\n… and {len(slow) - SLOW_SHOWN} more (icp-tui report lists them all)")
    return text


def _breach_heading(days: Sequence[tuple[date, int]]) -> str:
    total = sum(n for _, n in days)
    text = f"SLA breaches per day, last {len(days)} days: {total} in all"
    if total:
        day, most = max(days, key=lambda d: d[1])
        text += f", most {most} on {day:%m-%d}"
    return text


def _axis(days: Sequence[tuple[date, int]], width: int) -> str:
    """The first and last dates under the sparkline."""
    if not days:
        return ""
    first, last = f"{days[0][0]:%m-%d}", f"{days[-1][0]:%m-%d} (today)"
    return first + last.rjust(max(1, width - len(first)))
