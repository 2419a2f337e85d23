"""The dashboard's `/` box: a query typed as you go, with the count of matches on its border
and, while the query is wrong, the error on the line below it (the text stays as typed)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from icp_tui.config import Reference
from icp_tui.display import inert
from icp_tui.domain.query import Query, QueryError, parse_query


class QueryBox(Vertical):
    """The query input (id "filter") and its error line."""

    DEFAULT_CSS = """
    QueryBox { height: auto; }
    QueryBox #query-error { display: none; color: $error; padding: 0 1; }
    QueryBox.wrong #query-error { display: block; }
    QueryBox.wrong #filter { border: tall $error; }
    """

    class Changed(Message):
        """The text now makes a valid query (the table follows it)."""

        def __init__(self, query: Query) -> None:
            self.query = query
            super().__init__()

    def __init__(self, reference: Reference, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.reference = reference

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="query: words, health:, stage:, province:, assignee:, due:<2bd … (? lists)",
            id="filter",
            # Opened again over a query, the next key refines it rather than replacing it.
            select_on_focus=False,
        )
        yield Static(id="query-error")

    def show(self, shown: bool) -> None:
        """Open or close the box (the input too: closed, it takes no key)."""
        self.display = self.input.display = shown

    @property
    def input(self) -> Input:
        return self.query_one("#filter", Input)

    def parse(self, text: str) -> Query | None:
        """The query `text` says, or None (and the error shown) if it is wrong."""
        try:
            query = parse_query(text, self.reference.provinces, as_typed=True)
        except QueryError as error:
            self.query_one("#query-error", Static).update(Text(inert(str(error))))
            self.input.border_subtitle = None
            self.add_class("wrong")
            return None
        self.remove_class("wrong")
        return query

    def counted(self, matches: int, of: int) -> None:
        """Show how many filings of the view the query selects (no count while it is wrong)."""
        shown = self.input.value and not self.has_class("wrong")
        subtitle = f"{matches} of {of} in this view" if shown else None
        if subtitle != self.input.border_subtitle:  # asked at every tick: setting it repaints
            self.input.border_subtitle = subtitle

    @on(Input.Changed, "#filter")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        query = self.parse(event.value)
        if query is None:
            query = self._before_last_word(event.value)
        if query is not None:
            self.post_message(self.Changed(query))

    def _before_last_word(self, text: str) -> Query | None:
        """While the word being typed is wrong, the words before it: the query the user last
        had whole (the half-typed "foo" of "foo:bar" would show no filing at all)."""
        words = text.rsplit(None, 1)
        try:
            head = words[0] if len(words) > 1 else ""
            return parse_query(head, self.reference.provinces, as_typed=True)
        except QueryError:
            return None  # wrong before it too: the table keeps what it shows
