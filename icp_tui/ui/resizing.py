"""Widgets whose new size repaints them without laying the screen out a second time.

Textual lays the screen out once more whenever a layout changed a widget's size (its
`virtual_size` is a reactive that asks for a layout): a filing of another height in the detail
pane, or the query box shown, laid the screen out and painted what moved twice. The first
layout has already placed every widget at its new size; a scroll container whose scrollbar
comes or goes lays the screen out by itself (`show_vertical_scrollbar`), so for a widget that
does not scroll its own lines (not a ScrollView) the second layout changes nothing.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive


def size_that_repaints() -> Reactive[Size]:
    """A `virtual_size` to declare on such a widget's class (one per class: a reactive knows
    the class it is declared on)."""
    return Reactive(Size(0, 0), layout=False)
