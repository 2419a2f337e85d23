"""The Filing record, its history of transitions and notes, and their stored form."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from icp_tui.domain.errors import HistoryOutOfOrder, InvalidRecord
from icp_tui.domain.stages import CLOSED, Stage, can_move

#: Beijing time has had no daylight saving since 1991, so a fixed offset is exact.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def stamp(moment: datetime | None) -> str:
    """A time as staff read it: Beijing time to the minute ("-" for none)."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if moment else "-"


def stamp_seconds(moment: datetime) -> str:
    """Beijing time to the second: where two times a minute apart must read as different."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def time_of_day(moment: datetime, *, seconds: bool = False) -> str:
    """The Beijing clock time alone ("15:04", or "15:04:05"), where the day goes without saying."""
    return moment.astimezone(BEIJING).strftime("%H:%M:%S" if seconds else "%H:%M")


#: The calendar counts from MIN_YEAR to MAX_YEAR; a stored time must fall strictly inside, so
#: that its due dates (up to a year of business days later) do too.
MIN_YEAR, MAX_YEAR = 1970, 2199


class EntityType(StrEnum):
    """Who applies: a company (or other organisation) or a person."""

    COMPANY = "company"
    INDIVIDUAL = "individual"


@dataclass(frozen=True, slots=True)
class Transition:
    """One entry of a filing's history: who moved it, when, from where to where, and why."""

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


class HistoryEntry(Protocol):
    """What reading a history needs of an entry: a Transition, or the lighter entry a step
    in time reads records into (`asof.Entry`)."""

    @property
    def at(self) -> datetime: ...
    @property
    def by(self) -> str: ...
    @property
    def source(self) -> Stage | None: ...
    @property
    def target(self) -> Stage: ...
    @property
    def reason(self) -> str: ...
    @property
    def undo(self) -> bool: ...
    @property
    def moved(self) -> bool: ...


E = TypeVar("E", bound=HistoryEntry)


@dataclass(frozen=True, slots=True)
class Note:
    """A free-text note by a member of staff."""

    at: datetime
    by: str
    text: str


@dataclass(frozen=True, slots=True)
class Checklist:
    """What the applicant has provided besides the application itself."""

    admin_photo: bool = False
    materials_mailed: bool = False
    materials_received: bool = False


@dataclass(frozen=True, slots=True)
class Filing:
    """One ICP filing application and everything the tool records about it."""

    id: str
    domain: str
    entity: str
    entity_type: EntityType
    province: str
    stage: Stage
    entered_at: datetime
    submitted_at: datetime
    history: tuple[Transition, ...]
    version: int = 1
    assignee: str | None = None
    checklist: Checklist = field(default_factory=Checklist)
    ticket: str | None = None
    icp_number: str | None = None
    notes: tuple[Note, ...] = ()
    updated_at: datetime | None = None
    updated_by: str | None = None
    #: The latest SMS resend in the SMS check (None: only the one sent on entering it); the
    #: 24 hours count from it.
    sms_sent_at: datetime | None = None

    @property
    def closed(self) -> bool:
        """Approved, rejected or withdrawn."""
        return self.stage in CLOSED

    @property
    def last_transition(self) -> Transition:
        """The latest history entry (a move, or a change recorded in place)."""
        return self.history[-1]

    @property
    def last_move(self) -> Transition:
        """The history entry that put the filing in its current stage."""
        return last_move(self.history)

    @property
    def latest_at(self) -> datetime:
        """The time of the latest history entry (the max: older databases may hold notes
        stamped out of order)."""
        return max(entry.at for entry in self.history)

    @property
    def order_submitted_at(self) -> datetime:
        """When the current order was first submitted: order expiry counts from it. A filing
        the authority rejected and the applicant resubmitted is a new order."""
        start = self.history[0].at
        for entry in self.history:
            if _submits(entry) and entry.source is Stage.REJECTED:
                start = entry.at
        return start

    @property
    def submissions(self) -> int:
        """How many times the applicant submitted: the first time and each resubmission."""
        return sum(1 for entry in self.history if _submits(entry))

    def changed(self, at: datetime, by: str, **fields: Any) -> Filing:
        """A copy with `fields` replaced, the version bumped and the change attributed.

        Refused (HistoryOutOfOrder) when `at` is before the latest history entry: every count
        of review days reads the history in time order.
        """
        latest = self.latest_at
        if at < latest:
            raise HistoryOutOfOrder(
                f"{self.id}: its latest history entry is at {stamp_seconds(latest)}; a change "
                f"stamped {stamp_seconds(at)} is earlier and would break the time order of its "
                "history: nothing was changed"
            )
        return replace(self, version=self.version + 1, updated_at=at, updated_by=by, **fields)


def last_move(history: Sequence[E]) -> E:
    """The entry of `history` that put the filing in the stage it ends in."""
    return next(entry for entry in reversed(history) if entry.moved)


def _submits(entry: Transition) -> bool:
    """A (re)submission by the applicant, as opposed to an undo back into preliminary review."""
    return entry.moved and entry.target is Stage.PRELIMINARY_REVIEW and not entry.undo


def submission_groups(history: tuple[Transition, ...]) -> list[tuple[Transition, ...]]:
    """The history cut where each submission starts: the history is read per submission."""
    groups: list[list[Transition]] = []
    for entry in history:
        if _submits(entry) or not groups:
            groups.append([])
        groups[-1].append(entry)
    return [tuple(group) for group in groups]


T = TypeVar("T")


def once_per_moment(convert: Callable[[datetime], T]) -> Callable[[datetime], T]:
    """`convert`, worked out once per datetime object: a filing built in one go (an import)
    shares one datetime between several of its times. Keyed by identity, so use it only
    while those datetimes are alive (within one call)."""
    done: dict[int, T] = {}

    def once(moment: datetime) -> T:
        value = done.get(id(moment))
        if value is None:
            value = done[id(moment)] = convert(moment)
        return value

    return once


def to_record(filing: Filing) -> dict[str, Any]:
    """The stored (JSON) form of a filing."""
    # A filing built in one go (an import) shares one datetime between several of its times,
    # and isoformat is most of the cost of this: each object is formatted once. str() of a
    # StrEnum is its value, at a fifth of the cost of .value (10,000s of records at once).
    iso = once_per_moment(datetime.isoformat)

    return {
        "id": filing.id,
        "version": filing.version,
        "domain": filing.domain,
        "entity": filing.entity,
        "entity_type": str(filing.entity_type),
        "province": filing.province,
        "stage": str(filing.stage),
        "entered_at": iso(filing.entered_at),
        "submitted_at": iso(filing.submitted_at),
        "assignee": filing.assignee,
        "checklist": {
            "admin_photo": filing.checklist.admin_photo,
            "materials_mailed": filing.checklist.materials_mailed,
            "materials_received": filing.checklist.materials_received,
        },
        "ticket": filing.ticket,
        "icp_number": filing.icp_number,
        "notes": [{"at": iso(n.at), "by": n.by, "text": n.text} for n in filing.notes],
        "history": [
            {
                "at": iso(t.at),
                "by": t.by,
                "from": str(t.source) if t.source else None,
                "to": str(t.target),
                "reason": t.reason,
                **_UNDO_MARK[t.undo],
            }
            for t in filing.history
        ],
        "updated_at": iso(filing.updated_at) if filing.updated_at else None,
        "updated_by": filing.updated_by,
        "sms_sent_at": iso(filing.sms_sent_at) if filing.sms_sent_at else None,
    }


#: Only an undo carries the key (older records have none).
_UNDO_MARK: dict[bool, dict[str, bool]] = {False: {}, True: {"undo": True}}


_REQUIRED = ("id", "domain", "entity", "entity_type", "province", "stage", "entered_at")


def from_record(record: Any) -> Filing:
    """Read and check a stored filing; InvalidRecord says which filing and field is wrong."""
    filing = _plain_filing(record)
    if filing is None:
        filing = _checked_filing(record)
    check_history(filing)
    return filing


_ENTITY_TYPE_BY_ID: dict[str, EntityType] = {kind.value: kind for kind in EntityType}
_CHECKLIST_KEYS = ("admin_photo", "materials_mailed", "materials_received")


def _plain_filing(record: Any) -> Filing | None:
    """The common, valid record read without the per-field reader (None: anything unusual,
    for `_checked_filing` to read or explain). A step in time at 50,000 filings decodes
    thousands of records: the reader was half of each."""
    fields = plain_fields(record, Transition)
    return None if fields is None else Filing(*fields)


def plain_fields(
    record: Any, entry: Callable[[datetime, str, Stage | None, Stage, str, bool], E]
) -> tuple[Any, ...] | None:
    """The fields of a common, valid record in `Filing`'s order, its history entries made by
    `entry` (None: anything unusual, for the per-field reader)."""
    try:
        texts = (record["id"], record["domain"], record["entity"], record["province"])
        if not all(type(text) is str and text for text in texts):
            return None
        version = record.get("version", 1)
        checklist = record.get("checklist")
        if checklist is None:
            checklist = {}
        listed = (record.get("history", []), record.get("notes", []))
        if type(checklist) is not dict or not all(type(items) is list for items in listed):
            return None
        ticks = tuple(checklist.get(key, False) for key in _CHECKLIST_KEYS)
        if type(version) is not int or version < 1 or not all(type(t) is bool for t in ticks):
            return None
        optional = (
            record.get("assignee"),
            record.get("ticket"),
            record.get("icp_number"),
            record.get("updated_by"),
        )
        if not all(text is None or type(text) is str for text in optional):
            return None
        entered = _plain_time(record["entered_at"])
        if entered is None:
            return None
        submitted = _plain_time(record.get("submitted_at")) or entered
        history = tuple(_plain_entry(item, entry) for item in listed[0])
        notes = tuple(_plain_note(item) for item in listed[1])
        if not history:
            return None
        assignee, ticket, icp_number, updated_by = optional
        return (
            *texts[:3],
            _ENTITY_TYPE_BY_ID[record["entity_type"]],
            texts[3],
            _STAGE_BY_ID[record["stage"]],
            entered,
            submitted,
            history,
            version,
            assignee,
            Checklist(*ticks),
            ticket,
            icp_number,
            notes,
            _plain_time(record.get("updated_at")),
            updated_by,
            _plain_time(record.get("sms_sent_at")),
        )
    except (KeyError, TypeError, ValueError, AttributeError, InvalidRecord):
        return None


def _plain_time(value: Any) -> datetime | None:
    """A stored time as `_FieldReader.time` accepts it (None: none given); ValueError else."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or not MIN_YEAR < moment.year < MAX_YEAR:
        raise ValueError(value)
    return moment


def _plain_note(item: Any) -> Note:
    """A stored note as `_note` accepts it; ValueError else."""
    at, by, text = _plain_time(item["at"]), item["by"], item["text"]
    if at is None or type(by) is not str or not by or type(text) is not str or not text:
        raise ValueError(item)
    return Note(at, by, text)


def _checked_filing(record: Any) -> Filing:
    if not isinstance(record, dict):
        raise InvalidRecord(f"a filing is {type(record).__name__}, not an object")
    fid = record.get("id")
    where = f"filing {fid!r}" if isinstance(fid, str) else "a filing"
    for key in _REQUIRED:
        if key not in record:
            raise InvalidRecord(f"{where} has no {key!r}")
    reader = _FieldReader(where, record)
    history = tuple(
        _transition(where, i, item) for i, item in enumerate(reader.list_of("history", dict))
    )
    notes = tuple(_note(where, i, item) for i, item in enumerate(reader.list_of("notes", dict)))
    checklist_raw = record.get("checklist")
    if checklist_raw is None:
        checklist_raw = {}
    if not isinstance(checklist_raw, dict):
        raise InvalidRecord(f"{where}: 'checklist' must be an object")
    checklist = Checklist(
        **{
            key: _FieldReader(where, checklist_raw).boolean(key)
            for key in ("admin_photo", "materials_mailed", "materials_received")
        }
    )
    version = record.get("version", 1)
    if type(version) is not int or version < 1:
        raise InvalidRecord(f"{where}: 'version' must be a whole number from 1, not {version!r}")
    try:
        entity_type = EntityType(reader.text("entity_type"))
    except ValueError:
        raise InvalidRecord(
            f"{where}: 'entity_type' must be company or individual, not {record['entity_type']!r}"
        ) from None
    return Filing(
        id=reader.text("id"),
        domain=reader.text("domain"),
        entity=reader.text("entity"),
        entity_type=entity_type,
        province=reader.text("province"),
        stage=reader.stage("stage"),
        entered_at=reader.time("entered_at"),
        submitted_at=reader.time("submitted_at", default=reader.time("entered_at")),
        history=history,
        version=version,
        assignee=reader.optional_text("assignee"),
        checklist=checklist,
        ticket=reader.optional_text("ticket"),
        icp_number=reader.optional_text("icp_number"),
        notes=notes,
        updated_at=reader.optional_time("updated_at"),
        updated_by=reader.optional_text("updated_by"),
        sms_sent_at=reader.optional_time("sms_sent_at"),
    )


def check_filing(filing: Filing) -> None:
    """Refuse (InvalidRecord) a filing the code built that `from_record` would refuse once
    stored: a text it needs left empty, a time without offset or outside the calendar's
    years, a version below 1, a history that contradicts itself.

    The same checks as reading `to_record(filing)` back, without the round trip, which is
    most of the cost of adding 10,000 filings at once. The types are the type checker's.
    """
    where = f"filing {filing.id!r}"
    for key in ("id", "domain", "entity", "province"):
        if not getattr(filing, key):
            raise InvalidRecord(f"{where}: {key!r} must be a non-empty string, not ''")
    if filing.version < 1:
        raise InvalidRecord(
            f"{where}: 'version' must be a whole number from 1, not {filing.version!r}"
        )
    for key in ("entered_at", "submitted_at", "updated_at", "sms_sent_at"):
        moment = getattr(filing, key)
        if moment is not None and _out_of_range(moment):
            raise _bad_time(where, key, moment)
    # The names of the entries are made only for the message: this runs 10,000s of times.
    for index, entry in enumerate(filing.history):
        if not entry.by:
            raise InvalidRecord(f"{where} history[{index}]: 'by' must be a non-empty string")
        if _out_of_range(entry.at):
            raise _bad_time(where, f"history[{index}].at", entry.at)
    for index, note in enumerate(filing.notes):
        if not note.by or not note.text:
            raise InvalidRecord(f"{where} notes[{index}]: 'by' and 'text' must not be empty")
        if _out_of_range(note.at):
            raise _bad_time(where, f"notes[{index}].at", note.at)
    check_history(filing)


def _bad_time(where: str, key: str, moment: datetime) -> InvalidRecord:
    return InvalidRecord(
        f"{where}: {key!r} must be a time with an offset, after {MIN_YEAR} and before "
        f"{MAX_YEAR}, not {moment.isoformat()}"
    )


def _out_of_range(moment: datetime) -> bool:
    """What the reader refuses of a time: no offset, or outside the calendar's years."""
    return moment.utcoffset() is None or not MIN_YEAR < moment.year < MAX_YEAR


class WithHistory(Protocol):
    """What checking a history reads of a filing (a Filing, or a record read for a rebuild)."""

    @property
    def id(self) -> str: ...
    @property
    def stage(self) -> Stage: ...
    @property
    def entered_at(self) -> datetime: ...
    @property
    def history(self) -> Sequence[HistoryEntry]: ...


def check_history(filing: WithHistory) -> None:
    """Refuse a filing whose history contradicts itself or its stage."""
    where = f"filing {filing.id!r}"
    if not filing.history:
        raise InvalidRecord(f"{where} has an empty history")
    first = filing.history[0]
    if first.source is not None or first.target is not Stage.PRELIMINARY_REVIEW:
        raise InvalidRecord(
            f"{where}: history must start with the submission to preliminary_review"
        )
    previous = first
    # Moves form a timeline; a note or ticket keeps the time it was given (--now may date it).
    last_move_at = first.at
    for entry in filing.history[1:]:
        if entry.source is not previous.target:
            raise InvalidRecord(
                f"{where}: history moves from {entry.source} at {entry.at.isoformat()} "
                f"but the filing was in {previous.target}"
            )
        allowed = (
            not entry.moved  # a note, ticket or assignment recorded in the stage it was in
            or can_move(entry.source, entry.target)
            or (entry.undo and _undoes_into(filing.history, entry))
        )
        if not allowed:
            raise InvalidRecord(
                f"{where}: history has a move {entry.source} -> {entry.target}, "
                "which the stage table does not allow"
            )
        if entry.moved and entry.at < last_move_at:
            raise InvalidRecord(f"{where}: history goes back in time at {entry.at.isoformat()}")
        if entry.moved:
            last_move_at = entry.at
        previous = entry
    if previous.target is not filing.stage:
        raise InvalidRecord(
            f"{where}: stage is {filing.stage} but its history ends in {previous.target}"
        )
    # An undo puts the clock back to when the filing first entered the stage it returns to.
    move = last_move(filing.history)
    if move.at != filing.entered_at and not (move.undo and filing.entered_at <= move.at):
        raise InvalidRecord(
            f"{where}: entered_at {filing.entered_at.isoformat()} is not the time of its "
            f"last move {move.at.isoformat()}"
        )


def _undoes_into(history: Sequence[HistoryEntry], entry: HistoryEntry) -> bool:
    """An undo returns to a stage the filing really was in before."""
    return any(t.target is entry.target for t in history if t.at <= entry.at and t is not entry)


_STAGE_BY_ID: dict[str, Stage] = {stage.value: stage for stage in Stage}


def _transition(where: str, index: int, item: dict[str, Any]) -> Transition:
    # Opening 50,000 filings reads ~250,000 of these: take the common, valid case without the
    # per-field reader, and let the checked path below explain anything unusual.
    try:
        return _plain_entry(item, Transition)
    except (KeyError, TypeError, ValueError):
        pass
    return _checked_transition(where, index, item)


def _plain_entry(
    item: Any, entry: Callable[[datetime, str, Stage | None, Stage, str, bool], E]
) -> E:
    """A stored history entry as `_checked_transition` accepts it, made by `entry`; KeyError,
    TypeError or ValueError for anything unusual."""
    at = datetime.fromisoformat(item["at"])
    by, source, reason = item["by"], item.get("from"), item.get("reason", "")
    undo = item.get("undo", False)
    if (
        at.tzinfo is not None
        and MIN_YEAR < at.year < MAX_YEAR
        and type(by) is str
        and by
        and (type(reason) is str)
        and type(undo) is bool
    ):
        return entry(
            at,
            by,
            None if source is None else _STAGE_BY_ID[source],
            _STAGE_BY_ID[item["to"]],
            reason,
            undo,
        )
    raise ValueError(item)


def _checked_transition(where: str, index: int, item: dict[str, Any]) -> Transition:
    reader = _FieldReader(f"{where} history[{index}]", item)
    source = item.get("from")
    return Transition(
        at=reader.time("at"),
        by=reader.text("by"),
        source=None if source is None else reader.stage("from"),
        target=reader.stage("to"),
        reason=reader.optional_text("reason") or "",
        undo=reader.boolean("undo"),
    )


def _note(where: str, index: int, item: dict[str, Any]) -> Note:
    reader = _FieldReader(f"{where} notes[{index}]", item)
    return Note(at=reader.time("at"), by=reader.text("by"), text=reader.text("text"))


class _FieldReader:
    """Typed access to one stored object, with messages that name the object and field."""

    __slots__ = ("record", "where")

    def __init__(self, where: str, record: dict[str, Any]) -> None:
        self.where = where
        self.record = record

    def _fail(self, key: str, expected: str) -> InvalidRecord:
        value = self.record.get(key)
        shown = repr(value) if len(repr(value)) < 60 else repr(value)[:57] + "..."
        return InvalidRecord(f"{self.where}: {key!r} must be {expected}, not {shown}")

    def text(self, key: str) -> str:
        value = self.record.get(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string")
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.record.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def boolean(self, key: str) -> bool:
        value = self.record.get(key, False)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false")
        return value

    def stage(self, key: str) -> Stage:
        value = self.record.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a known stage")
        try:
            return Stage(value)
        except ValueError:
            raise self._fail(key, "a known stage") from None

    def time(self, key: str, default: datetime | None = None) -> datetime:
        value = self.record.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            raise self._fail(key, "an ISO 8601 time with offset")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self._fail(key, "an ISO 8601 time with offset") from None
        if parsed.tzinfo is None:
            raise self._fail(key, "a time with a time zone offset")
        if not MIN_YEAR < parsed.year < MAX_YEAR:
            raise self._fail(key, f"a time after {MIN_YEAR} and before {MAX_YEAR}")
        return parsed

    def optional_time(self, key: str) -> datetime | None:
        return None if self.record.get(key) is None else self.time(key)

    def list_of(self, key: str, kind: type) -> list[Any]:
        value = self.record.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
            raise self._fail(key, f"a list of {kind.__name__ if kind is not dict else 'objects'}")
        return value
