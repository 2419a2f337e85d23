"""KeysFooter: Textual's footer, rebuilt only when the keys it shows change.

Textual's Footer takes every "bindings changed" signal (the focus moving into the query box and
back, the highlighted filing changing) as a cue to build all its keys again, and that lays the
whole screen out again: most of `/` and escape. The keys shown rarely differ between the two
(the query box adds none), so the footer compares first.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """A footer that keeps its keys while the ones to show stay the same."""

    #: What the keys shown were built from (None: nothing built yet).
    _built_from: tuple[Hashable, ...] | None = None

    def compose(self) -> ComposeResult:
        self._built_from = self._keys_to_show() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        if (
            self._built_from is not None
            and self.is_attached
            and screen is self.screen
            and self._keys_to_show() == self._built_from
        ):
            return
        super().bindings_changed(screen)

    def _keys_to_show(self) -> tuple[Hashable, ...]:
        """Everything the footer's keys are built from: each shown binding, whether it applies
        now, its tooltip; and the command palette's key."""
        app = self.app
        palette = self.show_command_palette and app.ENABLE_COMMAND_PALETTE
        shown = (
            (binding, enabled, tooltip)  # a Binding is frozen: compared by all it says
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or (palette and key == app.COMMAND_PALETTE_BINDING)
        )
        return (palette, *shown)
