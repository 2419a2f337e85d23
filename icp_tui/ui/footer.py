"""KeysFooter: Textual's footer, rebuilt only when the keys it shows change.

Textual's Footer takes every "bindings changed" signal (the focus moving into the query box and
back, the highlighted filing changing) as a cue to build all its keys again, and that lays the
whole screen out again: most of `/` and escape. The keys shown rarely differ between the two
(the query box adds none), so the footer compares first; and when only which of them apply
differs (the cursor moved to a filing in another stage), it greys them out in place.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

#: Whether the command palette's key shows, then each key shown: its binding, whether it
#: applies now, its tooltip.
Keys = tuple[bool, tuple[tuple[Binding, bool, str], ...]]


class KeysFooter(Footer):
    """A footer that keeps its keys while the ones to show stay the same."""

    #: What the keys shown were built from (None: nothing built yet).
    _built_from: Keys | None = None

    def compose(self) -> ComposeResult:
        self._built_from = self._keys_to_show() if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen[object]) -> None:
        built = self._built_from
        if built is not None and self.is_attached and screen is self.screen:
            keys = self._keys_to_show()
            if keys == built:
                return
            if _layout(keys) == _layout(built):
                self._built_from = keys
                self._grey_out(keys)
                return
        super().bindings_changed(screen)

    def _grey_out(self, keys: Keys) -> None:
        """Grey out the keys built that no longer apply, and back (as a rebuild draws them):
        a class each, repainted, where a rebuild mounted every key again and laid the screen
        out twice, at every cursor move between stages."""
        enabled = {(binding.key, binding.action): on for binding, on, _ in keys[1]}
        # Textual does not export FooterKey: found by its CSS type, read by what it holds.
        key: Any
        for key in self.query("FooterKey"):
            off = not enabled.get((key.key, key.action), not key.has_class("-disabled"))
            key.set_class(off, "-disabled")
            key._disabled = off  # what a click on it does: a bell when off (as Textual's)

    def _keys_to_show(self) -> Keys:
        """Everything the footer's keys are built from: each shown binding, whether it applies
        now, its tooltip; and the command palette's key."""
        app = self.app
        palette = self.show_command_palette and app.ENABLE_COMMAND_PALETTE
        shown = tuple(
            (binding, enabled, tooltip)  # a Binding is frozen: compared by all it says
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or (palette and key == app.COMMAND_PALETTE_BINDING)
        )
        return (palette, shown)


def _layout(keys: Keys) -> tuple[object, ...]:
    """The keys to show but whether each applies: what the footer's widgets are built from."""
    palette, shown = keys
    return (palette, *((binding, tooltip) for binding, _, tooltip in shown))
