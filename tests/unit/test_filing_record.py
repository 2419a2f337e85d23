"""The stored form of a filing: from_record checks everything, to_record/from_record round-trip."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import pytest

from icp_tui.domain.errors import IcpError, InvalidRecord
from icp_tui.domain.filing import (
    BEIJING,
    Checklist,
    EntityType,
    Filing,
    Note,
    check_filing,
    from_record,
    stamp,
    stamp_seconds,
    time_of_day,
    to_record,
)
from icp_tui.domain.stages import Stage
from icp_tui.domain.transitions import add_note, advance, assign, record_ticket, undo

S = Stage
FID = "ICP-2025-00042"
WHERE = f"filing {FID!r}"


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BEIJING)


@pytest.fixture
def full_filing(filing_from_moves: Callable[..., Filing]) -> Filing:
    """Approved after a return, a resubmission and an undone move, with every field set."""
    filing = filing_from_moves(
        [
            (S.PRELIMINARY_REVIEW, bj(2025, 3, 3, 10)),
            (S.RETURNED, bj(2025, 3, 3, 15)),
            (S.PRELIMINARY_REVIEW, bj(2025, 3, 5, 9, 30)),
            (S.AWAITING_PHOTO, bj(2025, 3, 5, 16)),
            (S.PHOTO_REVIEW, bj(2025, 3, 6, 10)),
        ],
        id=FID,
        domain="例子.中国",
        entity="杭州示例网络科技有限公司",
        entity_type=EntityType.COMPANY,
        province="Zhejiang",
        by="王芳",
    )
    filing = add_note(
        filing, bj(2025, 3, 6, 11), "李雷", "申请人说照片明天补；[red]x[/red] \x1b[31m"
    )
    filing = assign(filing, bj(2025, 3, 6, 11, 5), "李雷", "王芳")
    wrong = advance(filing, bj(2025, 3, 6, 11, 10), "李雷", to=S.RETURNED, reason="照片模糊")
    filing = undo(wrong, filing, wrong.version, bj(2025, 3, 6, 11, 12), "李雷")
    filing = advance(filing, bj(2025, 3, 7, 9), "bob")  # awaiting_submission
    filing = record_ticket(filing, bj(2025, 3, 7, 9, 1), "bob", "TK-20250307-0042")
    filing = advance(filing, bj(2025, 3, 7, 14), "bob")  # sms_verification
    filing = advance(filing, datetime(2025, 3, 8, 1, 0, tzinfo=UTC), "bob")  # authority
    filing = advance(filing, bj(2025, 4, 2, 16), "bob", icp_number="浙ICP备2025012345号-1")
    return filing


@pytest.fixture
def record(full_filing: Filing) -> dict[str, Any]:
    return to_record(full_filing)


class _NoOffset(tzinfo):
    """A zone that knows no offset: its times are written without one."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def _history_entry(filing: Filing, index: int, **fields: Any) -> Filing:
    history = list(filing.history)
    history[index] = replace(history[index], **fields)
    return replace(filing, history=tuple(history))


def _note_entry(filing: Filing, **fields: Any) -> Filing:
    return replace(filing, notes=(replace(filing.notes[0], **fields),))


#: Changes to a good filing, and whether the loader refuses the filing they make.
FILING_CHANGES: dict[str, tuple[Callable[[Filing], Filing], bool]] = {
    "nothing": (lambda f: f, False),
    "empty id": (lambda f: replace(f, id=""), True),
    "empty domain": (lambda f: replace(f, domain=""), True),
    "empty entity": (lambda f: replace(f, entity=""), True),
    "empty province": (lambda f: replace(f, province=""), True),
    "version 0": (lambda f: replace(f, version=0), True),
    "entered_at without offset": (
        lambda f: replace(f, entered_at=f.entered_at.replace(tzinfo=None)),
        True,
    ),
    "submitted_at in 1960": (lambda f: replace(f, submitted_at=bj(1960, 1, 1)), True),
    "submitted_at in 1970": (lambda f: replace(f, submitted_at=bj(1970, 6, 1)), True),
    "updated_at in 2199": (lambda f: replace(f, updated_at=bj(2199, 6, 1)), True),
    "updated_at in 2300": (lambda f: replace(f, updated_at=bj(2300, 1, 1)), True),
    "sms_sent_at in a zone with no offset": (
        lambda f: replace(f, sms_sent_at=datetime(2025, 3, 7, tzinfo=_NoOffset())),
        True,
    ),
    "a move without offset": (
        lambda f: _history_entry(f, 2, at=f.history[2].at.replace(tzinfo=None)),
        True,
    ),
    "a move by nobody": (lambda f: _history_entry(f, 1, by=""), True),
    "a note by nobody": (lambda f: _note_entry(f, by=""), True),
    "an empty note": (lambda f: _note_entry(f, text=""), True),
    "a note in 1900": (lambda f: _note_entry(f, at=bj(1900, 1, 1)), True),
    "a history out of order": (lambda f: replace(f, history=f.history[::-1]), True),
    "a stage the history does not end in": (lambda f: replace(f, stage=S.WITHDRAWN), True),
    "an empty assignee, ticket and reason": (
        lambda f: _history_entry(replace(f, assignee="", ticket=""), 1, reason=""),
        False,
    ),
}


@pytest.mark.parametrize("change", list(FILING_CHANGES))
def test_check_filing_refuses_what_reading_the_stored_form_refuses(
    full_filing: Filing, change: str
) -> None:
    # The bulk paths check the filing itself instead of reading its stored form back; they
    # must refuse exactly what the loader would.
    make, refused = FILING_CHANGES[change]
    filing = make(full_filing)
    with pytest.raises(InvalidRecord) if refused else contextlib.nullcontext():
        from_record(to_record(filing))
    if not refused:
        check_filing(filing)
        return
    with pytest.raises(InvalidRecord) as caught:
        check_filing(filing)
    assert f"filing {filing.id!r}" in str(caught.value)  # named, as the loader names it


#: What check_filing says of some of the changes above (in one line, as the loader would).
CHECK_MESSAGES = {
    "empty domain": "'domain' must be a non-empty string, not ''",
    "version 0": "'version' must be a whole number from 1, not 0",
    "submitted_at in 1960": "'submitted_at' must be a time with an offset, after 1970 and "
    "before 2199, not 1960-01-01T00:00:00+08:00",
    "a move without offset": "'history[2].at' must be a time with an offset, after 1970 and "
    "before 2199, not 2025-03-05T09:30:00",
    "a move by nobody": "history[1]: 'by' must be a non-empty string",
    "an empty note": "notes[0]: 'by' and 'text' must not be empty",
    "a note in 1900": "'notes[0].at' must be a time with an offset, after 1970 and before "
    "2199, not 1900-01-01T00:00:00+08:00",
}


@pytest.mark.parametrize("change", list(CHECK_MESSAGES))
def test_check_filing_says_what_is_wrong(full_filing: Filing, change: str) -> None:
    make, _ = FILING_CHANGES[change]
    with pytest.raises(InvalidRecord) as refused:
        check_filing(make(full_filing))
    message = CHECK_MESSAGES[change]
    separator = " " if message.startswith(("history", "notes")) else ": "
    assert str(refused.value) == f"{WHERE}{separator}{message}"


# -- times as staff read them -----------------------------------------------------------------


def test_times_read_in_beijing_time() -> None:
    moment = datetime(2025, 3, 3, 7, 4, 5, tzinfo=UTC)  # 15:04:05 in Beijing
    assert stamp(moment) == "2025-03-03 15:04"
    assert stamp(None) == "-"
    assert stamp_seconds(moment) == "2025-03-03 15:04:05"
    assert time_of_day(moment) == "15:04"
    assert time_of_day(moment, seconds=True) == "15:04:05"


# -- round trip --------------------------------------------------------------------------------


def test_full_filing_round_trips(full_filing: Filing) -> None:
    assert full_filing.stage is S.APPROVED
    assert full_filing.notes and full_filing.ticket and full_filing.icp_number
    assert any(t.undo for t in full_filing.history)
    again = from_record(to_record(full_filing))
    assert again == full_filing
    assert to_record(again) == to_record(full_filing)


def test_a_resent_sms_and_a_full_checklist_round_trip(full_filing: Filing) -> None:
    filing = replace(
        full_filing,
        checklist=Checklist(admin_photo=True, materials_mailed=True, materials_received=True),
        sms_sent_at=bj(2025, 3, 7, 18, 30),
    )
    record = to_record(filing)
    assert record["sms_sent_at"] == "2025-03-07T18:30:00+08:00"
    assert from_record(record) == filing


def test_round_trip_through_json_text(full_filing: Filing) -> None:
    text = json.dumps(to_record(full_filing), ensure_ascii=False)
    assert "杭州示例网络科技有限公司" in text
    again = from_record(json.loads(text))
    assert again == full_filing
    assert again.entity == "杭州示例网络科技有限公司"
    assert again.domain == "例子.中国"
    assert again.notes[0].text == "申请人说照片明天补；[red]x[/red] \x1b[31m"
    assert again.icp_number == "浙ICP备2025012345号-1"
    assert again.ticket == "TK-20250307-0042"
    assert again.assignee == "王芳"
    assert again.history[0].by == "王芳"


def test_round_trip_keeps_offsets_and_instants(full_filing: Filing) -> None:
    record = to_record(full_filing)
    assert record["entered_at"] == "2025-04-02T16:00:00+08:00"
    authority = next(h for h in record["history"] if h["to"] == "authority_review")
    assert authority["at"] == "2025-03-08T01:00:00+00:00"
    again = from_record(record)
    entry = next(t for t in again.history if t.target is S.AUTHORITY_REVIEW)
    assert entry.at == bj(2025, 3, 8, 9)
    assert entry.at.utcoffset() == timedelta(0)


def test_record_shape(record: dict[str, Any]) -> None:
    assert record["id"] == FID
    assert record["stage"] == "approved"
    assert record["entity_type"] == "company"
    assert record["checklist"] == {
        "admin_photo": True,
        "materials_mailed": False,
        "materials_received": False,
    }
    assert record["history"][0]["from"] is None
    undos = [h for h in record["history"] if h.get("undo")]
    assert len(undos) == 1
    assert undos[0]["from"] == "returned"
    assert undos[0]["to"] == "photo_review"
    assert all("undo" not in h for h in record["history"] if h is not undos[0])


def test_minimal_record_takes_defaults() -> None:
    minimal = {
        "id": "ICP-1",
        "domain": "example.cn",
        "entity": "张三",
        "entity_type": "individual",
        "province": "Beijing",
        "stage": "preliminary_review",
        "entered_at": "2025-03-03T10:00:00+08:00",
        "history": [
            {
                "at": "2025-03-03T10:00:00+08:00",
                "by": "alice",
                "from": None,
                "to": "preliminary_review",
            }
        ],
    }
    filing = from_record(minimal)
    assert filing.version == 1
    assert filing.submitted_at == filing.entered_at == bj(2025, 3, 3, 10)
    assert filing.checklist == Checklist()
    assert filing.notes == ()
    assert filing.assignee is filing.ticket is filing.icp_number is filing.updated_at is None
    assert filing.history[0].reason == ""
    assert filing.entity_type is EntityType.INDIVIDUAL


def test_a_null_reason_reads_as_none(record: dict[str, Any]) -> None:
    # Not what the code writes, but a hand-edited record may hold it: read as no reason given.
    record["history"][0]["reason"] = None
    record["history"][1]["reason"] = None
    filing = from_record(record)
    assert filing.history[0].source is None
    assert filing.history[0].target is S.PRELIMINARY_REVIEW
    assert filing.history[0].reason == filing.history[1].reason == ""
    assert filing.history[1].source is S.PRELIMINARY_REVIEW


def test_note_is_kept_as_given(full_filing: Filing) -> None:
    assert from_record(to_record(full_filing)).notes == (
        Note(bj(2025, 3, 6, 11), "李雷", "申请人说照片明天补；[red]x[/red] \x1b[31m"),
    )


# -- rejected records --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, [], "ICP-1", 42, ("id", "x")])
def test_a_record_must_be_an_object(value: object) -> None:
    with pytest.raises(InvalidRecord, match="not an object"):
        from_record(value)


def test_a_record_that_is_no_object_says_what_it_is() -> None:
    with pytest.raises(InvalidRecord) as refused:
        from_record(["ICP-1"])
    assert str(refused.value) == "a filing is list, not an object"


def test_a_filing_without_a_usable_id_is_called_a_filing(record: dict[str, Any]) -> None:
    record["id"] = 42
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    assert str(refused.value) == "a filing: 'id' must be a non-empty string, not 42"


@pytest.mark.parametrize(
    "key", ["domain", "entity", "entity_type", "province", "stage", "entered_at"]
)
def test_missing_required_key(record: dict[str, Any], key: str) -> None:
    del record[key]
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    message = str(refused.value)
    assert WHERE in message
    assert repr(key) in message


def test_missing_id(record: dict[str, Any]) -> None:
    del record["id"]
    with pytest.raises(InvalidRecord, match="a filing has no 'id'"):
        from_record(record)


def test_missing_history(record: dict[str, Any]) -> None:
    del record["history"]
    with pytest.raises(InvalidRecord, match=f"{WHERE} has an empty history"):
        from_record(record)


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(record: dict[str, Any]) -> None:
        target: Any = record
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(record: dict[str, Any]) -> None:
        target: Any = record
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


NAIVE = "2025-03-03T10:00:00"

# (mutation, fragments the message must contain besides the filing's name)
BAD_FIELDS: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    ("domain int", _set(("domain",), 42), ("'domain' must be a non-empty string, not 42",)),
    ("domain empty", _set(("domain",), ""), ("'domain'",)),
    ("domain null", _set(("domain",), None), ("'domain'",)),
    ("entity list", _set(("entity",), ["x"]), ("'entity' must be a non-empty string, not ['x']",)),
    ("entity_type unknown", _set(("entity_type",), "robot"), ("'entity_type'", "robot")),
    ("entity_type int", _set(("entity_type",), 1), ("'entity_type'",)),
    ("province null", _set(("province",), None), ("'province'",)),
    (
        "stage unknown",
        _set(("stage",), "finished"),
        ("'stage' must be a known stage, not 'finished'",),
    ),
    ("stage int", _set(("stage",), 3), ("'stage' must be a known stage, not 3",)),
    ("stage list", _set(("stage",), ["approved"]), ("'stage'",)),
    (
        "entered_at number",
        _set(("entered_at",), 1_741_000_000),
        ("'entered_at' must be an ISO 8601 time with offset, not 1741000000",),
    ),
    (
        "entered_at text",
        _set(("entered_at",), "yesterday"),
        ("'entered_at' must be an ISO 8601 time with offset, not 'yesterday'",),
    ),
    (
        "entered_at naive",
        _set(("entered_at",), NAIVE),
        (f"'entered_at' must be a time with a time zone offset, not {NAIVE!r}",),
    ),
    ("submitted_at int", _set(("submitted_at",), 5), ("'submitted_at'",)),
    ("submitted_at naive", _set(("submitted_at",), NAIVE), ("'submitted_at'", "offset")),
    ("version text", _set(("version",), "2"), ("'version'",)),
    ("version zero", _set(("version",), 0), ("'version'",)),
    ("version bool", _set(("version",), True), ("'version'",)),
    ("version float", _set(("version",), 2.0), ("'version'",)),
    ("assignee int", _set(("assignee",), 5), ("'assignee'", "must be a string or null, not 5")),
    ("ticket int", _set(("ticket",), 42), ("'ticket'",)),
    ("icp_number list", _set(("icp_number",), ["x"]), ("'icp_number'",)),
    ("updated_at text", _set(("updated_at",), "soon"), ("'updated_at'",)),
    (
        "updated_at in 1970",
        _set(("updated_at",), "1970-06-01T00:00:00+08:00"),
        ("'updated_at' must be a time after 1970 and before 2199, not '1970-06-01",),
    ),
    (
        "updated_at in 2199",
        _set(("updated_at",), "2199-06-01T00:00:00+08:00"),
        ("'updated_at' must be a time after 1970 and before 2199",),
    ),
    ("updated_at naive", _set(("updated_at",), NAIVE), ("'updated_at'", "offset")),
    ("updated_by int", _set(("updated_by",), 7), ("'updated_by'",)),
    ("checklist text", _set(("checklist",), "yes"), ("'checklist'",)),
    (
        "checklist item text",
        _set(("checklist", "admin_photo"), "yes"),
        ("'admin_photo' must be true or false, not 'yes'",),
    ),
    ("checklist item int", _set(("checklist", "materials_mailed"), 1), ("'materials_mailed'",)),
    (
        "checklist item null",
        _set(("checklist", "materials_received"), None),
        ("'materials_received'",),
    ),
    ("notes object", _set(("notes",), {"text": "x"}), ("'notes' must be a list of objects",)),
    ("notes of text", _set(("notes",), ["x"]), ("'notes'",)),
    ("note without text", _drop(("notes", 0, "text")), ("notes[0]", "'text'")),
    ("note empty text", _set(("notes", 0, "text"), ""), ("notes[0]", "'text'")),
    ("note naive time", _set(("notes", 0, "at"), NAIVE), ("notes[0]", "'at'", "offset")),
    ("note by int", _set(("notes", 0, "by"), 3), ("notes[0]", "'by'")),
    ("history object", _set(("history",), {"0": {}}), ("'history'",)),
    ("history null", _set(("history",), None), ("'history'",)),
    ("history of text", _set(("history",), ["submitted"]), ("'history'",)),
    ("history no at", _drop(("history", 1, "at")), ("history[1]", "'at'")),
    (
        "history naive at",
        _set(("history", 2, "at"), NAIVE),
        ("history[2]: 'at' must be a time with a time zone offset",),
    ),
    (
        "history at in 1970",
        _set(("history", 0, "at"), "1970-06-01T00:00:00+08:00"),
        ("history[0]: 'at' must be a time after 1970",),
    ),
    (
        "history at in 2199",
        _set(("history", -1, "at"), "2199-06-01T00:00:00+08:00"),
        (
            "history[",
            "]: 'at' must be a time after 1970 and before 2199",
        ),
    ),
    ("history empty by", _set(("history", 1, "by"), ""), ("history[1]", "'by'")),
    (
        "history by int",
        _set(("history", 1, "by"), 5),
        ("history[1]: 'by' must be a non-empty string, not 5",),
    ),
    (
        "history unknown to",
        _set(("history", 1, "to"), "limbo"),
        ("history[1]: 'to' must be a known stage, not 'limbo'",),
    ),
    ("history no to", _drop(("history", 1, "to")), ("history[1]", "'to'")),
    ("history from int", _set(("history", 1, "from"), 5), ("history[1]", "'from'")),
    ("history reason int", _set(("history", 1, "reason"), 5), ("history[1]", "'reason'")),
    (
        "history undo text",
        _set(("history", 1, "undo"), "yes"),
        ("history[1]: 'undo' must be true or false, not 'yes'",),
    ),
]


@pytest.mark.parametrize(
    ("mutate", "fragments"), [c[1:] for c in BAD_FIELDS], ids=[c[0] for c in BAD_FIELDS]
)
def test_wrong_types_name_the_filing_and_the_field(
    record: dict[str, Any],
    mutate: Callable[[dict[str, Any]], None],
    fragments: tuple[str, ...],
) -> None:
    mutate(record)
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    message = str(refused.value)
    assert WHERE in message
    for fragment in fragments:
        assert fragment in message
    assert isinstance(refused.value, IcpError)
    assert "\n" not in message  # one line for the user


@pytest.mark.parametrize("bad_id", [42, "", None])
def test_a_bad_id_is_named(record: dict[str, Any], bad_id: object) -> None:
    record["id"] = bad_id
    with pytest.raises(InvalidRecord, match="'id' must be a non-empty string"):
        from_record(record)


def test_a_long_bad_value_is_shortened(record: dict[str, Any]) -> None:
    record["domain"] = ["x" * 500]
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    assert len(str(refused.value)) < 200
    assert "..." in str(refused.value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (42, "42"),
        (["x" * 55], repr(["x" * 55])),  # 59 characters: shown whole
        (["x" * 56], repr(["x" * 56])[:57] + "..."),  # 60: cut to 57 and marked
        (["x" * 500], repr(["x" * 500])[:57] + "..."),
    ],
)
def test_a_bad_value_is_shown_up_to_59_characters(
    record: dict[str, Any], value: object, shown: str
) -> None:
    record["domain"] = value
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    assert str(refused.value) == f"{WHERE}: 'domain' must be a non-empty string, not {shown}"


@pytest.mark.parametrize("falsy", [[], 0, "", False])
def test_a_falsy_checklist_of_the_wrong_type_is_refused(
    record: dict[str, Any], falsy: object
) -> None:
    record["checklist"] = falsy
    with pytest.raises(InvalidRecord, match="'checklist'"):
        from_record(record)


def test_a_null_checklist_means_nothing_provided(record: dict[str, Any]) -> None:
    record["checklist"] = None
    assert from_record(record).checklist == Checklist()


# -- histories that contradict themselves ------------------------------------------------------


def _simple_record(history: list[tuple[str | None, str, str]], **fields: Any) -> dict[str, Any]:
    """A record whose history is [(from, to, at), ...]; stage and entered_at from the last."""
    record: dict[str, Any] = {
        "id": FID,
        "domain": "example.cn",
        "entity": "Example Co., Ltd.",
        "entity_type": "company",
        "province": "Beijing",
        "stage": history[-1][1],
        "entered_at": history[-1][2],
        "submitted_at": history[0][2],
        "history": [{"at": at, "by": "alice", "from": a, "to": b} for a, b, at in history],
    }
    record.update(fields)
    return record


T = [f"2025-03-0{d}T10:00:00+08:00" for d in range(3, 10)]  # Mon 3-3 .. Sun 3-9


def test_a_consistent_simple_record_is_accepted() -> None:
    filing = from_record(
        _simple_record(
            [(None, "preliminary_review", T[0]), ("preliminary_review", "awaiting_photo", T[1])]
        )
    )
    assert filing.stage is S.AWAITING_PHOTO


@pytest.mark.parametrize(
    "first",
    [
        ("returned", "preliminary_review", T[0]),  # a source before the submission
        (None, "awaiting_photo", T[0]),  # submitted straight to another stage
    ],
)
def test_history_must_start_with_the_submission(first: tuple[str | None, str, str]) -> None:
    record = _simple_record([first])
    with pytest.raises(InvalidRecord, match=f"{WHERE}: history must start with the submission"):
        from_record(record)


def test_history_must_not_skip() -> None:
    record = _simple_record(
        [
            (None, "preliminary_review", T[0]),
            ("preliminary_review", "awaiting_photo", T[1]),
            ("photo_review", "awaiting_submission", T[2]),  # never entered photo_review
        ]
    )
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    message = str(refused.value)
    assert WHERE in message
    assert "history moves from photo_review" in message
    assert "the filing was in awaiting_photo" in message


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("preliminary_review", "sms_verification"),  # skips the Alibaba Cloud review
        ("preliminary_review", "approved"),
    ],
)
def test_history_must_follow_the_table(source: str, target: str) -> None:
    record = _simple_record([(None, "preliminary_review", T[0]), (source, target, T[1])])
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    message = str(refused.value)
    assert WHERE in message
    assert f"{source} -> {target}" in message
    assert "does not allow" in message


def test_sms_check_cannot_be_withdrawn_in_the_history_either() -> None:
    record = _simple_record(
        [
            (None, "preliminary_review", T[0]),
            ("preliminary_review", "awaiting_photo", T[1]),
            ("awaiting_photo", "photo_review", T[2]),
            ("photo_review", "awaiting_submission", T[3]),
            ("awaiting_submission", "sms_verification", T[4]),
            ("sms_verification", "withdrawn", T[5]),
        ]
    )
    with pytest.raises(InvalidRecord, match="sms_verification -> withdrawn"):
        from_record(record)


def test_an_undo_must_return_to_a_stage_the_filing_was_in() -> None:
    record = _simple_record(
        [
            (None, "preliminary_review", T[0]),
            ("preliminary_review", "awaiting_photo", T[1]),
            ("awaiting_photo", "approved", T[2]),
        ]
    )
    record["history"][-1]["undo"] = True
    with pytest.raises(InvalidRecord, match="awaiting_photo -> approved"):
        from_record(record)


def test_a_real_undo_is_accepted() -> None:
    record = _simple_record(
        [
            (None, "preliminary_review", T[0]),
            ("preliminary_review", "awaiting_photo", T[1]),
            ("awaiting_photo", "preliminary_review", T[1].replace("10:00", "10:03")),
        ],
        entered_at=T[0],  # an undo puts the clock back
    )
    record["history"][-1]["undo"] = True
    assert from_record(record).stage is S.PRELIMINARY_REVIEW


def test_an_undo_in_the_same_second_as_the_move_is_accepted() -> None:
    # Times given with --now may all be the same: the undo still returns to a stage the
    # filing was in at that instant.
    record = _simple_record(
        [
            (None, "preliminary_review", T[0]),
            ("preliminary_review", "awaiting_photo", T[0]),
            ("awaiting_photo", "preliminary_review", T[0]),
        ]
    )
    record["history"][-1]["undo"] = True
    assert from_record(record).stage is S.PRELIMINARY_REVIEW


def test_a_move_back_that_is_no_undo_is_refused() -> None:
    # Returning to a stage the filing was in is allowed only as an undo.
    record = _simple_record(
        [
            (None, "preliminary_review", T[0]),
            ("preliminary_review", "awaiting_photo", T[1]),
            ("awaiting_photo", "photo_review", T[2]),
            ("photo_review", "awaiting_photo", T[3]),
        ]
    )
    with pytest.raises(InvalidRecord, match="photo_review -> awaiting_photo, which the stage"):
        from_record(record)


def test_an_undo_cannot_return_to_a_stage_the_filing_reaches_only_later() -> None:
    record = _simple_record(
        [
            (None, "preliminary_review", T[0]),
            ("preliminary_review", "returned", T[1]),
            ("returned", "photo_review", T[2]),  # the undo: never in photo_review before
            ("photo_review", "returned", T[3]),
            ("returned", "preliminary_review", T[4]),
            ("preliminary_review", "awaiting_photo", T[5]),
            ("awaiting_photo", "photo_review", T[6]),
        ]
    )
    record["history"][2]["undo"] = True
    with pytest.raises(InvalidRecord, match="returned -> photo_review, which the stage"):
        from_record(record)


def test_history_must_end_in_the_stage() -> None:
    record = _simple_record(
        [(None, "preliminary_review", T[0]), ("preliminary_review", "awaiting_photo", T[1])],
        stage="photo_review",
    )
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    message = str(refused.value)
    assert WHERE in message
    assert "stage is photo_review but its history ends in awaiting_photo" in message


def test_history_must_not_go_back_in_time() -> None:
    record = _simple_record(
        [
            (None, "preliminary_review", T[2]),
            ("preliminary_review", "awaiting_photo", T[1]),  # a day before the submission
        ]
    )
    with pytest.raises(InvalidRecord) as refused:
        from_record(record)
    message = str(refused.value)
    assert WHERE in message
    assert "history goes back in time" in message
    assert T[1] in message


def test_offsets_are_compared_as_instants() -> None:
    # 02:30Z is 10:30 Beijing: after the 10:00 submission, though the digits are smaller.
    later_in_utc = "2025-03-03T02:30:00+00:00"
    filing = from_record(
        _simple_record(
            [(None, "preliminary_review", T[0]), ("preliminary_review", "returned", later_in_utc)]
        )
    )
    assert filing.entered_at == bj(2025, 3, 3, 10, 30)
    earlier_in_utc = "2025-03-03T01:30:00+00:00"  # 09:30 Beijing: before the submission
    with pytest.raises(InvalidRecord, match="back in time"):
        from_record(
            _simple_record(
                [
                    (None, "preliminary_review", T[0]),
                    ("preliminary_review", "returned", earlier_in_utc),
                ]
            )
        )


def test_entered_at_must_be_the_last_move() -> None:
    record = _simple_record(
        [(None, "preliminary_review", T[0]), ("preliminary_review", "awaiting_photo", T[1])],
        entered_at=T[2],
    )
    with pytest.raises(InvalidRecord, match=f"{WHERE}: entered_at .* is not the time of its last"):
        from_record(record)


def test_entered_at_must_not_be_before_the_last_move() -> None:
    # Only an undo puts the clock back to an earlier time.
    record = _simple_record(
        [(None, "preliminary_review", T[0]), ("preliminary_review", "awaiting_photo", T[1])],
        entered_at=T[0],
    )
    with pytest.raises(InvalidRecord, match=f"{WHERE}: entered_at .* is not the time of its last"):
        from_record(record)


def test_checks_do_not_modify_the_record(record: dict[str, Any]) -> None:
    kept = copy.deepcopy(record)
    from_record(record)
    assert record == kept
