"""FilingSummary: the part of a filing that the queue and its SLA need, and its stored row.

Opening 50,000 filings cannot afford to decode and check every full record (history, notes)
just to draw a table. The store keeps a summary row per filing beside the database, written
from checked filings; the queue is built from summaries and full records are read on demand.
Nothing here depends on the calendar or targets, so editing those never invalidates a row.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from icp_tui.domain.errors import InvalidRecord
from icp_tui.domain.filing import (
    Checklist,
    EntityType,
    HistoryEntry,
    once_per_moment,
)
from icp_tui.domain.stages import ALIBABA_CLOUD_REVIEW, Stage

#: Written into the store's summary sidecar: bump it whenever `to_row`/`from_row` change, so
#: sidecars in the old layout are ignored (and rewritten) instead of being misread.
ROW_FORMAT = 4
#: The fields format 4 added: a row of format 3 (a PostgreSQL row written before) lacks them.
_FORMAT_3_FIELDS = 15
#: The decisions that close an authority review.
DECISIONS = (Stage.APPROVED, Stage.REJECTED)

_STAGES = {stage.value: stage for stage in Stage}
_ENTITY_TYPES = {kind.value: kind for kind in EntityType}


class FilingSummary(NamedTuple):
    """What the table shows of a filing, plus what its SLA instants are computed from.

    A NamedTuple, not a frozen dataclass: opening builds 50,000 of these, 4x faster.
    """

    id: str
    version: int
    domain: str
    entity: str
    entity_type: EntityType
    province: str
    stage: Stage
    entered_ts: float
    last_move_ts: float
    #: Closed stretches (epoch seconds) in Alibaba Cloud review stages since the latest
    #: submission, for the "over 3 bd: open a ticket" rule; the current one runs from the last move.
    review_stretches: tuple[tuple[float, float], ...]
    assignee: str | None
    ticket: str | None
    materials_received: bool
    #: When the current order was first submitted (epoch seconds): order expiry counts from it.
    order_submitted_ts: float
    #: The latest SMS resend in the SMS check, if any: its 24 hours count from it.
    sms_sent_ts: float | None
    #: When the filing was first submitted, and its latest history entry (epoch seconds): the
    #: queue at a past instant reads the record only of filings changed since then.
    created_ts: float = -math.inf
    latest_ts: float = math.inf
    #: Its finished authority reviews (entered, decided), for the approval estimate; None in a
    #: row written before they were kept (read the record instead).
    reviews: tuple[tuple[float, float], ...] | None = None

    def to_row(self) -> list[Any]:
        """The stored (JSON) row."""
        return [
            self.id,
            self.version,
            self.domain,
            self.entity,
            self.entity_type.value,
            self.province,
            self.stage.value,
            self.entered_ts,
            self.last_move_ts,
            [list(stretch) for stretch in self.review_stretches],
            self.assignee,
            self.ticket,
            self.materials_received,
            self.order_submitted_ts,
            self.sms_sent_ts,
            self.created_ts,
            self.latest_ts,
            None if self.reviews is None else [list(review) for review in self.reviews],
        ]

    @classmethod
    def from_row(cls, row: Any) -> FilingSummary:
        """Read a stored row; InvalidRecord if it is not one this code wrote."""
        try:
            if type(row) is list and len(row) == _FORMAT_3_FIELDS:
                row = [*row, -math.inf, math.inf, None]  # as "unknown": the record tells
            (fid, version, domain, entity, kind, province, stage, entered, moved, stretches,
             assignee, ticket, received, first, sms, created, latest, reviews) = row  # fmt: skip
            if (
                type(fid) is str
                and fid
                and type(version) is int
                and type(domain) is str
                and domain
                and type(entity) is str
                and entity
                and type(province) is str
                and province
                and type(entered) in _NUMBERS
                and type(moved) in _NUMBERS
                and (assignee is None or type(assignee) is str)
                and (ticket is None or type(ticket) is str)
                and type(received) is bool
                and type(first) in _NUMBERS
                and (sms is None or type(sms) in _NUMBERS)
                and type(created) in _NUMBERS
                and type(latest) in _NUMBERS
            ):
                # 100,000 summaries are kept: a province or a person is one string object,
                # and an instant the row repeats is one float (30 MB less at 100,000).
                entered, moved, first = float(entered), float(moved), float(first)
                created, latest = float(created), float(latest)
                if moved == entered:
                    moved = entered
                if first == entered:
                    first = entered
                if created == first:
                    created = first
                if latest == moved:
                    latest = moved
                if reviews is not None:  # most filings have none: no call for those
                    reviews = _stretches(reviews, moved) if reviews != [] else ()
                return cls(
                    fid,
                    version,
                    domain,
                    entity,
                    _ENTITY_TYPES[kind],
                    sys.intern(province),
                    _STAGES[stage],
                    entered,
                    moved,
                    _stretches(stretches, moved) if stretches else (),
                    None if assignee is None else sys.intern(assignee),
                    ticket,
                    received,
                    first,
                    None if sms is None else float(sms),
                    created,
                    latest,
                    reviews,
                )
        except (TypeError, ValueError, KeyError):
            pass
        raise InvalidRecord(f"not a filing summary row: {str(row)[:80]}")


_NUMBERS = (float, int)


def _seconds(value: Any) -> float:
    if type(value) not in _NUMBERS:
        raise TypeError("epoch seconds expected")
    return float(value)


def _stretches(pairs: Any, moved: float) -> tuple[tuple[float, float], ...]:
    """Stored (start, end) pairs of epoch seconds, an instant seen before kept as one object:
    a stretch often starts where the one before it ended, and the last ends at the last move."""
    result = []
    end = moved
    for a, b in pairs:
        start = _seconds(a)
        if start == end:
            start = end
        end = _seconds(b)
        if end == moved:
            end = moved
        result.append((start, end))
    return tuple(result)


class Summarized(Protocol):
    """What a summary is made of: a Filing, or a record read for a rebuild (`asof.Record`)."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def domain(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def entity_type(self) -> EntityType: ...
    @property
    def province(self) -> str: ...
    @property
    def stage(self) -> Stage: ...
    @property
    def entered_at(self) -> datetime: ...
    @property
    def submitted_at(self) -> datetime: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def ticket(self) -> str | None: ...
    @property
    def checklist(self) -> Checklist: ...
    @property
    def sms_sent_at(self) -> datetime | None: ...
    @property
    def history(self) -> Sequence[HistoryEntry]: ...


def summarize(filing: Summarized) -> FilingSummary:
    """The summary of a (checked) filing."""
    # One epoch time per datetime object: a filing built in one go (an import) shares one
    # between several of its times, and timestamp() is most of the rest of the cost.
    ts = once_per_moment(datetime.timestamp)

    # One pass over the history (a step in time summarizes thousands of rebuilt filings).
    # Stretches from moves only: a note or ticket does not change the stage, and an older
    # database may hold one stamped out of order, which must not cut a stretch short or make
    # one run backwards.
    history = filing.history
    first = history[0]
    order_start = latest = first.at
    last: HistoryEntry | None = None  # the latest move
    submitted = filing.submitted_at
    stretches = []
    reviewed = False
    for entry in history:
        at = entry.at
        if at > latest:
            latest = at
        source, target = entry.source, entry.target
        if source is target:
            continue  # a change recorded in place
        if last is not None and last.target in ALIBABA_CLOUD_REVIEW and last.at >= submitted:
            stretches.append((ts(last.at), ts(at)))
        if target is Stage.PRELIMINARY_REVIEW and source is Stage.REJECTED and not entry.undo:
            order_start = at  # resubmitted after a rejection: a new order (order_submitted_at)
        elif target is Stage.AUTHORITY_REVIEW:
            reviewed = True
        last = entry
    assert last is not None, "a checked history starts with the submission, a move"
    return FilingSummary(
        id=filing.id,
        version=filing.version,
        domain=filing.domain,
        entity=filing.entity,
        entity_type=filing.entity_type,
        province=filing.province,
        stage=filing.stage,
        entered_ts=ts(filing.entered_at),
        last_move_ts=ts(last.at),
        review_stretches=tuple(stretches),
        assignee=filing.assignee,
        ticket=filing.ticket,
        materials_received=filing.checklist.materials_received,
        order_submitted_ts=ts(order_start),
        sms_sent_ts=ts(filing.sms_sent_at) if filing.sms_sent_at else None,
        created_ts=ts(first.at),
        latest_ts=ts(latest),
        reviews=tuple(
            (ts(entered), ts(decided))
            for entered, decided in (authority_reviews(history) if reviewed else ())
        ),
    )


def authority_reviews(history: Sequence[HistoryEntry]) -> Iterator[tuple[datetime, datetime]]:
    """When each finished authority review of a history was entered and decided, oldest first.

    A decision that was later undone does not count; the review it reopened keeps its first
    entry time, as the SLA clock does after an undo.
    """
    entered: datetime | None = None
    #: The entry of a review that an undo took back to the SMS check, for an undo of that undo.
    left: datetime | None = None
    finished: list[tuple[datetime, datetime]] = []
    for entry in history:
        if not entry.moved:
            continue  # a note, ticket or assignment: the review goes on
        if entry.target is Stage.AUTHORITY_REVIEW:
            if entry.undo:
                if entry.source in DECISIONS and finished:
                    finished.pop()
                elif entry.source not in DECISIONS:
                    entered = left
                continue  # the review goes on from its first entry
            entered = entry.at
        elif entry.source is Stage.AUTHORITY_REVIEW and entered is not None:
            if entry.target in DECISIONS:
                finished.append((entered, entry.at))
            else:  # an undo back to the SMS check: not a finished review
                left, entered = entered, None
    yield from finished
