"""The command palette (ctrl+p): the dashboard's keys that apply now, then Textual's own."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from icp_tui.ui.keys import DASHBOARD_KEYS, SAVED_VIEW_KEYS


async def first_that_runs(dashboard: Screen[None], actions: list[str]) -> None:
    """Run the first of `actions` that applies now, as a key runs the first of its bindings
    that does: a command refused now (the queue still loading, say) says why as its key does."""
    for action in actions:
        if await dashboard.app.run_action(action, dashboard):
            return


class FilingCommands(Provider):
    """The filing actions in the command palette, made from the dashboard's key table."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str, bool]]:
        """The app's commands first, then Textual's own (theme, keys, quit...)."""
        dashboard = getattr(self.app, "dashboard")  # noqa: B009 (the app imports this module)
        entries: list[tuple[str, Callable[[], object], str, bool]] = [
            (
                key.command,
                partial(first_that_runs, dashboard, [b.action for b in key.bindings()]),
                key.help or f"key {key.typed}",
                True,
            )
            for key in DASHBOARD_KEYS
            if key.command
        ]
        for i, (name, query) in enumerate(getattr(self.app, "settings").views):  # noqa: B009
            key = f"key {SAVED_VIEW_KEYS[i]}: " if i < len(SAVED_VIEW_KEYS) else ""
            actions = [f"saved_view({i})", f"still_loading('View {name}')"]
            run = partial(first_that_runs, dashboard, actions)
            entries.append((f"View: {name}", run, f"{key}{query}", True))
        entries += [
            (c.title, c.callback, c.help, c.discover)
            for c in self.app.get_system_commands(self.screen)
        ]
        return entries

    async def discover(self) -> Hits:
        for title, command, help_text, shown in self._entries():
            if shown:
                yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, command, help_text, _ in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)
