"""A filing as it was at a past instant, rebuilt from its history.

Every change to a filing appends an entry to its history: a move between stages, or a change
recorded in place (a note, a ticket, an assignment, the mailed materials, an SMS resend, an
undo). Replaying the entries up to an instant therefore gives the record as it was then: its
stage and when it entered it, its assignee, ticket, checklist and notes. `--now` evaluates
today's records at another time; this rebuilds the records themselves.

What the history does not hold is taken from the record: the ICP number (only an approved
filing has one, and approval is final) and the text of notes (matched to their "note added"
entries by time and author; a note that was undone is gone from the record, so it is gone
from the rebuilt filing too).

A step in time summarizes thousands of records at an instant: those are read as a `Record`
(the same checks as `from_record`, lighter entries, no Filing made) and summarized at the
instant straight from the replayed fields (`summary_as_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from icp_tui.domain.errors import InvalidRecord
from icp_tui.domain.filing import (
    Checklist,
    EntityType,
    Filing,
    HistoryEntry,
    Note,
    check_history,
    plain_fields,
)
from icp_tui.domain.stages import Stage
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.domain.transitions import SMS_RESENT


class Entry(NamedTuple):
    """A history entry read for a rebuild: a Transition's fields, at a fifth of the cost of
    making one (a step in time at 50,000 filings reads the histories of thousands)."""

    at: datetime
    by: str
    source: Stage | None
    target: Stage
    reason: str = ""
    undo: bool = False

    @property
    def moved(self) -> bool:
        """A move between stages; otherwise a change recorded in place (note, ticket, ...)."""
        return self.source is not self.target


class Record(NamedTuple):
    """A stored filing read and checked as `from_record` reads it, with a Filing's fields in
    its order, its history of `Entry`s: what a step in time summarizes at past instants."""

    id: str
    domain: str
    entity: str
    entity_type: EntityType
    province: str
    stage: Stage
    entered_at: datetime
    submitted_at: datetime
    history: tuple[Entry, ...]
    version: int = 1
    assignee: str | None = None
    checklist: Checklist = Checklist()
    ticket: str | None = None
    icp_number: str | None = None
    notes: tuple[Note, ...] = ()
    updated_at: datetime | None = None
    updated_by: str | None = None
    sms_sent_at: datetime | None = None


def read_for_rebuild(stored: Any) -> Record | None:
    """The common, valid stored filing (decoded JSON), read and checked for a rebuild; None
    for anything else, which `from_record` reads the slower way or refuses with a reason."""
    fields = plain_fields(stored, Entry)
    if fields is None:
        return None
    record = Record(*fields)
    try:
        check_history(record)
    except InvalidRecord:
        return None
    return record


class Replayed(Protocol):
    """What a rebuild reads of a filing besides its history entries."""

    @property
    def history(self) -> Sequence[HistoryEntry]: ...
    @property
    def notes(self) -> Sequence[Note]: ...
    @property
    def icp_number(self) -> str | None: ...
    @property
    def version(self) -> int: ...


def as_of(filing: Filing, at: datetime) -> Filing | None:
    """`filing` as it was at `at`; None if it had not been submitted yet."""
    if filing.history[0].at > at:
        return None
    if filing.latest_at <= at:
        return filing  # nothing has happened to it since: the record is the answer
    return rebuild(filing, at)


def summary_as_of(record: Record | Filing, at: datetime) -> FilingSummary | None:
    """`summarize(as_of(filing, at))`, without making the whole rebuilt Filing."""
    history = record.history
    if history[0].at > at:
        return None
    fields = _replayed(record, at)
    if fields is None:
        return None
    if len(fields["history"]) == len(history):
        # Nothing has happened to it since: the record is the answer (as `as_of` has it).
        return summarize(record)
    if isinstance(record, Filing):
        return summarize(replace(record, **fields))
    return summarize(record._replace(**fields))


def rebuild(filing: Filing, at: datetime) -> Filing | None:
    """Replay the history of `filing` up to and including `at` (None: not submitted yet)."""
    fields = _replayed(filing, at)
    return None if fields is None else replace(filing, **fields)


def _replayed(filing: Replayed, at: datetime) -> _State | None:
    """The fields of `filing` that its history changes, as they were at `at` (None: not
    submitted yet)."""
    entries = [entry for entry in filing.history if entry.at <= at]
    if not entries:
        return None
    notes = list(filing.notes)
    first = entries[0]
    # The fields the entries change, replayed as plain dicts and put into one record at the
    # end: a record per entry would cost most of a dashboard's step in time at 50,000 filings.
    state: _State = {
        "stage": first.target,
        "entered_at": first.at,
        "submitted_at": first.at,
        "assignee": None,
        "checklist": Checklist(),
        "ticket": None,
        "icp_number": None,
        "notes": (),
        "sms_sent_at": None,
    }
    previous = state
    for entry in entries[1:]:
        before, state = state, _apply(state, previous, entry, filing, notes)
        previous = before
    last = entries[-1]
    return {
        **state,
        "history": tuple(entries),
        "updated_at": last.at,
        "updated_by": last.by,
        # Versions count changes; older databases count some the history does not show.
        "version": max(1, filing.version - (len(filing.history) - len(entries))),
    }


#: The fields of a filing that its history entries change (the rest is the record's).
_State = dict[str, Any]


def _apply(
    state: _State, previous: _State, entry: HistoryEntry, filing: Replayed, notes: list[Note]
) -> _State:
    """`state` after `entry`; `previous` is the state before the entry that made `state`
    (what an undo returns to: an undo always takes back the change just before it)."""
    if entry.undo:
        entered = state["entered_at"]
        if previous["stage"] is not state["stage"]:
            entered = previous["entered_at"]
        return {**previous, "stage": entry.target, "entered_at": entered}
    if entry.moved:
        target = entry.target
        changes: _State = {"stage": target, "entered_at": entry.at}
        if target is not Stage.WITHDRAWN:
            changes["sms_sent_at"] = None
        if target is Stage.PHOTO_REVIEW:
            changes["checklist"] = replace(state["checklist"], admin_photo=True)
        elif target is Stage.PRELIMINARY_REVIEW:
            changes.update(submitted_at=entry.at, checklist=Checklist(), ticket=None)
        elif target is Stage.APPROVED:
            changes["icp_number"] = filing.icp_number
        return {**state, **changes}
    reason = entry.reason
    if reason == "note added":
        note = next((n for n in notes if n.at == entry.at and n.by == entry.by), None)
        if note is None:
            return state  # undone since: its text is no longer kept
        notes.remove(note)
        return {**state, "notes": (*state["notes"], note)}
    if reason.startswith("ticket "):
        return {**state, "ticket": reason.removeprefix("ticket ")}
    if reason.startswith("assigned to "):
        return {**state, "assignee": reason.removeprefix("assigned to ")}
    if reason == "unassigned":
        return {**state, "assignee": None}
    if reason in ("materials mailed", "materials received"):
        received = reason == "materials received" or state["checklist"].materials_received
        checklist = replace(state["checklist"], materials_mailed=True, materials_received=received)
        return {**state, "checklist": checklist}
    if reason == SMS_RESENT:
        return {**state, "sms_sent_at": entry.at}
    return state
