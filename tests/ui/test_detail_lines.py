"""A labelled line of the detail draws as a two-column Rich grid drew it (the label dim in ten
cells, the value wrapped beside it), cell for cell and style for style: it is drawn without the
grid now, which cost half of drawing a filing's panes."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from icp_tui.ui.detail import LabelledLine

VALUES = [
    ("entered", "2026-11-25 09:00 by linyu", ""),
    ("used", "3 of 5 bd: breached", "bold"),
    ("note", "2026-11-25 12:13 by zhaomin: called the applicant, who will resubmit", "dim"),
    ("mail to", "阿里云备案中心, 浙江省杭州市余杭区文一西路969号 阿里巴巴西溪园区", ""),
    ("why", "https://beian.example.com/a-very-long-unbroken-address-to-check", ""),
    ("", "postal code 311121, phone 95187 (9:00-18:00)", ""),
]


def grid(line: LabelledLine) -> Table:
    """How the line was drawn before: a Rich grid."""
    table = Table.grid(expand=True)
    table.add_column(width=10, no_wrap=True, style="dim")
    table.add_column(ratio=1)
    table.add_row(line.label, Text(line.value, line.style))
    return table


def drawn(renderable: LabelledLine | Table, width: int) -> list[list[tuple[str, object]]]:
    console = Console(width=width, color_system="truecolor", force_terminal=True)
    lines = console.render_lines(renderable, console.options.update_width(width))
    return [[(s.text, s.style) for s in Segment.simplify(line)] for line in lines]


@pytest.mark.parametrize("width", [12, 20, 21, 29, 44, 80])
@pytest.mark.parametrize(("label", "value", "style"), VALUES)
def test_a_labelled_line_draws_as_the_grid_did(
    label: str, value: str, style: str, width: int
) -> None:
    line = LabelledLine(label, value, style)
    assert drawn(line, width) == drawn(grid(line), width)
