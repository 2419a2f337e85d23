"""Marks: the filings picked with space (or all of a view) for one action on many, and the
words of what such an action did."""

from __future__ import annotations

from collections.abc import Iterable

from icp_tui.display import inert
from icp_tui.queue import QueueEntry
from icp_tui.services import BatchResult

#: The refused filings a summary lists by name; past this, it says how many more.
LISTED = 5


def batch_summary(result: BatchResult, done: str) -> str:
    """ "4 taken; 1 refused: ICP-2026-00003 was changed by bob at ...", one refusal a line.

    Each line is made inert on its own, so only the lines joined here break the notice."""
    said = f"{len(result.done)} {done}"
    if not result.refused:
        return inert(said)
    lines = [inert(f"{said}; {len(result.refused)} refused:")]
    for filing_id, why in result.refused[:LISTED]:
        lines.append(inert(why if filing_id in why else f"{filing_id}: {why}"))
    if len(result.refused) > LISTED:
        lines.append(f"and {len(result.refused) - LISTED} more")
    return "\n".join(lines)


def people_seen(entries: Iterable[QueueEntry], me: str) -> list[str]:
    """Whom filings can be given to: me, then everyone the queue has assigned, by name."""
    others = {e.assignee for e in entries if e.assignee and e.assignee != me}
    return [me, *sorted(others, key=str.casefold)]


def marked_filings(n: int) -> str:
    """ "the marked filing", "the 5 marked filings"."""
    return "the marked filing" if n == 1 else f"the {n} marked filings"
