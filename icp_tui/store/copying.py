"""Copying a queue from one store to another (`icp-tui migrate SOURCE TARGET`), verified.

Either direction works, since both ends are used only through the store contract. A target
that does not exist yet is created holding the whole queue in one write; an existing one gets
each missing filing added as it is (same id, version and history), so running the copy again
adds nothing, and a copy cut short is finished by running it again. A filing the target holds
differently is never overwritten: the copy stops and says which. Afterwards every filing of
the source is read back from the target and compared whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from icp_tui.domain.filing import Filing, to_record
from icp_tui.domain.naming import counted
from icp_tui.store import (
    DatabaseMissing,
    Location,
    StoreError,
    create_store,
    display_location,
    open_store,
)


class CopyMismatch(StoreError):
    """The target holds a filing differently from the source, or the copy did not verify."""


@dataclass(frozen=True)
class CopyReport:
    """What a copy did and what its verification found."""

    source: str
    target: str
    copied: int
    already_there: int
    verified: int
    target_total: int

    def line(self) -> str:
        """The one-line report."""
        return (
            f"copied {counted(self.copied, 'filing')} from {self.source} to {self.target} "
            f"({self.already_there} already there); verified: all {self.verified} are in the "
            f"target, every record identical (the target holds {self.target_total})"
        )


def copy_queue(source: Location, target: Location) -> CopyReport:
    """Copy every filing of `source` missing from `target` (creating it if need be), then
    verify that the target holds each one exactly as the source does."""
    source_name, target_name = display_location(source), display_location(target)
    if source_name == target_name:
        raise StoreError(f"{source_name} is both the source and the target: nothing to copy")
    origin = open_store(source)
    origin.load()
    ids = origin.ids()
    destination = open_store(target)
    try:
        destination.load()
    except DatabaseMissing:
        destination = create_store(target, (origin.get(fid) for fid in ids))
        copied, already = len(ids), 0
    else:
        copied = already = 0
        for fid in ids:
            filing = origin.get(fid)
            if fid in destination:
                _same(filing, destination.get(fid), target_name)
                already += 1
                continue
            destination.add(_as_is(filing))
            copied += 1
    checked = open_store(target)
    checked.load()
    for fid in ids:
        if fid not in checked:
            raise CopyMismatch(f"verification failed: {fid} is missing from {target_name}")
        _same(origin.get(fid), checked.get(fid), target_name)
    return CopyReport(source_name, target_name, copied, already, len(ids), len(checked))


def _as_is(filing: Filing) -> Callable[[set[str]], Filing]:
    """A `make` for Store.add that adds `filing` unchanged (its id is known to be free)."""

    def make(existing: set[str]) -> Filing:
        return filing

    return make


def _same(expected: Filing, found: Filing, target: str) -> None:
    if to_record(expected) != to_record(found):
        raise CopyMismatch(
            f"{expected.id} differs in {target} (version {found.version} there, "
            f"{expected.version} in the source): it was left as it is; nothing more was copied"
        )
