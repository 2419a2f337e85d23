"""Fuzzed database files: every broken one is refused with one line naming the file; nothing
is rewritten; harmless damage (a torn last journal line) is read as the last whole change.

The files start from a valid database (base, summary sidecar, journal with three changes) and
are damaged one way per property. A damaged base is tried with its sidecar kept (now stale),
removed, and forged to describe the damaged bytes: the first two must be refused when the
database is opened; a forged sidecar may let it open, but then reading the filing is refused.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hostile_helpers import (
    NOW,
    assert_one_line_error,
    folder_bytes,
    hand_filing,
    raw_controls,
    run_cli,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from icp_tui.config import Reference
from icp_tui.domain.errors import IcpError
from icp_tui.domain.filing import Filing, from_record, to_record
from icp_tui.domain.stages import Stage
from icp_tui.services import FilingService, fixed_clock
from icp_tui.store import FilingStore, journal_path

SIDECAR_MODES = ("keep", "drop", "forge")
FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def summary_file(path: Path) -> Path:
    return path.with_name(path.name + ".summary")


# -- the valid database every property damages ------------------------------------------------


@dataclass(frozen=True)
class Files:
    """The bytes of a database's files (None: the file is absent)."""

    base: bytes
    journal: bytes | None
    sidecar: bytes | None
    lock: bytes | None

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "filings.json"
        for target, data in (
            (path, self.base),
            (journal_path(path), self.journal),
            (summary_file(path), self.sidecar),
            (path.with_name(path.name + ".lock"), self.lock),
        ):
            if data is not None:
                target.write_bytes(data)
        return path


@dataclass(frozen=True)
class Template:
    files: Files
    #: Filing records (by filing id) after 0, 1, 2 ... journal entries.
    states: list[dict[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, reference: Reference) -> Template:
    folder = tmp_path_factory.mktemp("fuzz-template")
    path = folder / "filings.json"
    filings = [
        hand_filing(1, Stage.PRELIMINARY_REVIEW, domain="[red]evil.cn", entity="深圳市某某科技"),
        hand_filing(2, Stage.AWAITING_PHOTO),
        hand_filing(3, Stage.AUTHORITY_REVIEW, hours_ago=300),
        hand_filing(4, Stage.APPROVED, hours_ago=900),
    ]
    store = FilingStore.create(path, filings)
    assert summary_file(path).exists(), "the store writes no summary sidecar"
    states = [{f.id: to_record(f) for f in filings}]
    service = FilingService(store, reference, actor="dave", clock=fixed_clock(NOW))
    changes: list[Callable[[], Filing]] = [
        lambda: service.note("ICP-2026-00001", "\x1b[31mcall back\x1b[0m 😀"),
        lambda: service.advance("ICP-2026-00002", Stage.PHOTO_REVIEW),
        lambda: service.assign("ICP-2026-00003", "[@click=app.quit]"),
    ]
    for change in changes:
        saved = change()
        states.append({**states[-1], saved.id: to_record(saved)})
    files = Files(
        base=path.read_bytes(),
        journal=journal_path(path).read_bytes(),
        sidecar=summary_file(path).read_bytes(),
        lock=path.with_name(path.name + ".lock").read_bytes(),
    )
    assert files.journal is not None and files.journal.count(b"\n") == 4
    return Template(files, states)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    """A fresh empty folder per hypothesis example (tmp_path is per test, not per example)."""
    root = tmp_path_factory.mktemp("fuzz-cases")

    def fresh() -> Path:
        return Path(tempfile.mkdtemp(dir=root))

    return fresh


# -- opening a database and judging the outcome ----------------------------------------------


@dataclass
class Outcome:
    stage: str  # "ok", or where it was refused: "load" or "get"
    message: str | None
    records: dict[str, dict[str, Any]] | None = None


def open_db(path: Path) -> Outcome:
    """Open as the tools do, then read every filing; check the refusal and the files."""
    before = folder_bytes(path.parent)
    stage = "load"
    outcome: Outcome
    try:
        store = FilingStore(path)
        store.load()
        stage = "get"
        records = {fid: to_record(store.get(fid)) for fid in store.ids()}
        outcome = Outcome("ok", None, records)
    except IcpError as error:
        message = str(error)
        assert str(path) in message, f"the message does not name {path}: {message!r}"
        assert "\n" not in message, message
        outcome = Outcome(stage, message)
    assert folder_bytes(path.parent) == before, "opening the database changed its files"
    return outcome


#: Base records (by index) that a later journal entry replaces: with a forged sidecar, damage
#: to them is never read (the journal's version is the filing), and compaction drops it.
JOURNALED = frozenset({0, 1, 2})


def assert_refused(outcome: Outcome, sidecar: str = "drop", *, shadowed: bool = False) -> None:
    if sidecar == "forge" and shadowed:
        return  # opened or refused cleanly (open_db checked the message and the files)
    assert outcome.stage != "ok", "a damaged database was opened as if it were fine"
    if sidecar != "forge":
        assert outcome.stage == "load", f"refused only on reading the filing: {outcome.message}"


# -- damaging the base -------------------------------------------------------------------------


def record_lines(base: bytes) -> list[int]:
    """Indexes (in base.split(b"\\n")) of the one-per-line record lines."""
    lines = base.split(b"\n")
    return [i for i, line in enumerate(lines) if i >= 2 and line.startswith(b'"')]


def get_record(base: bytes, n: int) -> dict[str, Any]:
    line = base.split(b"\n")[record_lines(base)[n]]
    body = line[line.index(b": ") + 2 :].removesuffix(b",")
    record: dict[str, Any] = json.loads(body)
    return record


def put_record(base: bytes, n: int, record: Any) -> bytes:
    """The base with its n-th record line holding `record` (the layout kept)."""
    lines = base.split(b"\n")
    i = record_lines(base)[n]
    line = lines[i]
    key = line[: line.index(b": ") + 2]
    comma = b"," if line.endswith(b",") else b""
    lines[i] = key + json.dumps(record, ensure_ascii=False).encode() + comma
    return b"\n".join(lines)


def with_base(files: Files, base: bytes, sidecar: str, folder: Path) -> Path:
    """Write `files` with a damaged base and the sidecar kept, dropped or forged."""
    kept = files.sidecar if sidecar in ("keep", "forge") else None
    path = replace(files, base=base, sidecar=kept).write(folder)
    if sidecar == "forge" and kept is not None:
        forge_sidecar(path)
    return path


def forge_sidecar(path: Path) -> None:
    """Make the sidecar describe the base's current bytes exactly (as if the damage had
    happened before the writer summed the file): only reading a record can then see it."""
    sidecar = summary_file(path)
    document = json.loads(sidecar.read_bytes())
    data = path.read_bytes()
    st_base = os.stat(path)
    document["base"].update(
        size=st_base.st_size,
        mtime_ns=st_base.st_mtime_ns,
        ino=st_base.st_ino,
        crc32=zlib.crc32(data),
    )
    sidecar.write_bytes(json.dumps(document).encode())
    os.utime(path, ns=(st_base.st_atime_ns, st_base.st_mtime_ns))


# -- strategies ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
not_a_string = json_values.filter(lambda v: not isinstance(v, str))
not_a_string_or_null = not_a_string.filter(lambda v: v is not None)
not_a_bool = json_values.filter(lambda v: not isinstance(v, bool))
not_an_object = json_values.filter(lambda v: not isinstance(v, dict))
STAGE_IDS = {s.value for s in Stage}
unknown_stage = st.text(max_size=20).filter(lambda s: s not in STAGE_IDS) | st.sampled_from(
    ["Preliminary_Review", "approved ", "WITHDRAWN", "photo-review", "已批准"]
)
naive_time = st.datetimes(
    min_value=NOW.replace(tzinfo=None) - timedelta(days=3000),
    max_value=NOW.replace(tzinfo=None) + timedelta(days=3000),
).map(lambda d: d.isoformat())
not_a_time = st.text(max_size=25).filter(lambda s: not s[:4].isdigit()) | naive_time
bad_time = not_a_string_or_null | not_a_time
bad_required_time = not_a_string | not_a_time
bad_text = not_a_string | st.just("")
bad_version = st.one_of(
    st.integers(max_value=0),
    st.booleans(),
    st.floats(),
    not_a_string_or_null.filter(lambda v: type(v) is not int),
    st.text(max_size=3),
).filter(lambda v: not (type(v) is int and v >= 1))

#: (path in the record, a strategy of values that make it invalid)
WRONG: list[tuple[tuple[Any, ...], st.SearchStrategy[Any]]] = [
    (("id",), bad_text),
    (("domain",), bad_text),
    (("entity",), bad_text),
    (("province",), bad_text),
    (("entity_type",), bad_text | st.sampled_from(["Company", "person", "企业"])),
    (("stage",), not_a_string | unknown_stage),
    (("entered_at",), bad_required_time),
    (("submitted_at",), bad_time),
    (("updated_at",), bad_time),
    (("assignee",), not_a_string_or_null),
    (("ticket",), not_a_string_or_null),
    (("icp_number",), not_a_string_or_null),
    (("updated_by",), not_a_string_or_null),
    (("version",), bad_version),
    (("checklist",), not_an_object.filter(lambda v: v is not None)),
    (("checklist", "admin_photo"), not_a_bool),
    (("history",), not_a_string_or_null.filter(lambda v: not isinstance(v, list))),
    (("history",), st.just([])),
    (("history", 0), not_an_object),
    (("history", 0, "at"), bad_required_time),
    (("history", 0, "by"), bad_text),
    (("history", 0, "to"), not_a_string | unknown_stage),
    (("history", 0, "reason"), not_a_string_or_null),
    (("history", 0, "undo"), not_a_bool),
    (("history", -1, "from"), not_a_string | unknown_stage),
    (("history", -1, "at"), bad_required_time),
    (("notes",), not_a_string_or_null.filter(lambda v: not isinstance(v, list))),
    (("notes", 0), not_an_object),
    (("notes", 0, "at"), bad_required_time),
    (("notes", 0, "by"), bad_text),
    (("notes", 0, "text"), bad_text),
]
REQUIRED_KEYS = ("id", "domain", "entity", "entity_type", "province", "stage", "entered_at")


def set_in(record: dict[str, Any], where: tuple[Any, ...], value: Any) -> bool:
    """Set record[where...] = value; False if the path does not exist in this record."""
    target: Any = record
    for key in where[:-1]:
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return False
    last = where[-1]
    if isinstance(target, list):
        if not target or not -len(target) <= last < len(target):
            return False
    elif not isinstance(target, dict):
        return False
    target[last] = value
    return True


@st.composite
def wrong_field(draw: st.DrawFn, template: Template) -> tuple[int, dict[str, Any]]:
    """A base record with one field made invalid (or a required one removed)."""
    n = draw(st.integers(min_value=0, max_value=3))
    record = get_record(template.files.base, n)
    if draw(st.integers(0, 9)) == 0:
        del record[draw(st.sampled_from(REQUIRED_KEYS))]
        return n, record
    where, values = draw(st.sampled_from(WRONG))
    if where[0] == "notes" and len(where) > 1 and not record["notes"]:
        record["notes"] = [{"at": NOW.isoformat(), "by": "x", "text": "y"}]
    if where[0] == "history" and where[1:2] == (-1,) and len(record["history"]) < 2:
        n, record = 2, get_record(template.files.base, 2)  # one with several moves
    assert set_in(record, where, draw(values)), where
    return n, record


@st.composite
def contradicting_history(draw: st.DrawFn, template: Template) -> tuple[int, dict[str, Any]]:
    """A record whose history contradicts its stage or itself (each piece valid on its own)."""
    n = draw(st.integers(min_value=1, max_value=3))  # filings with two moves or more
    record = get_record(template.files.base, n)
    history = record["history"]
    kind = draw(st.sampled_from(["stage", "drop", "time", "entered", "first", "undo"]))
    if kind == "stage":
        record["stage"] = draw(st.sampled_from(sorted(STAGE_IDS - {record["stage"]})))
    elif kind == "drop":
        del history[draw(st.integers(0, len(history) - 2))]
    elif kind == "time":
        i = draw(st.integers(1, len(history) - 1))
        history[i]["at"] = (NOW - timedelta(days=4000)).isoformat()
    elif kind == "entered":
        record["entered_at"] = (NOW - timedelta(days=draw(st.integers(1, 900)))).isoformat()
    elif kind == "first":
        history[0]["to"] = draw(st.sampled_from(sorted(STAGE_IDS - {"preliminary_review"})))
    else:  # an "undo" back into a stage it never was in
        history.append(
            {
                "at": NOW.isoformat(),
                "by": "x",
                "from": record["stage"],
                "to": "sms_verification" if record["stage"] != "sms_verification" else "returned",
                "reason": "",
                "undo": True,
            }
        )
        record["stage"], record["entered_at"] = history[-1]["to"], NOW.isoformat()
        assume(record["stage"] not in {h["to"] for h in history[:-1]})
    return n, record


# -- the base: random bytes, truncation, wrong shapes ------------------------------------------


@FAST
@given(data=st.binary(max_size=3000), sidecar=st.sampled_from(SIDECAR_MODES))
def test_random_bytes_are_refused(
    template: Template, scratch: Callable[[], Path], data: bytes, sidecar: str
) -> None:
    path = with_base(template.files, data, sidecar, scratch())
    assert_refused(open_db(path), sidecar)


def test_an_empty_file_is_refused_and_says_it_is_empty(
    template: Template, scratch: Callable[[], Path]
) -> None:
    for sidecar in SIDECAR_MODES:
        outcome = open_db(with_base(template.files, b"", sidecar, scratch()))
        assert_refused(outcome, "drop")
        assert outcome.message is not None and "empty" in outcome.message


@FAST
@given(st.data())
def test_a_truncated_base_is_refused(
    template: Template, scratch: Callable[[], Path], data: st.DataObject
) -> None:
    base = template.files.base
    cut = data.draw(st.integers(min_value=0, max_value=len(base) - 2), label="cut")
    sidecar = data.draw(st.sampled_from(SIDECAR_MODES), label="sidecar")
    assert_refused(open_db(with_base(template.files, base[:cut], sidecar, scratch())), sidecar)


def test_the_final_newline_alone_is_harmless(
    template: Template, scratch: Callable[[], Path]
) -> None:
    for sidecar in SIDECAR_MODES:
        path = with_base(template.files, template.files.base[:-1], sidecar, scratch())
        outcome = open_db(path)
        assert outcome.stage == "ok", outcome.message
        assert outcome.records == template.states[-1]


wrong_shapes = st.one_of(
    not_an_object,
    st.dictionaries(st.text(max_size=8), json_values, max_size=4).filter(
        lambda d: "filings" not in d or "_meta" not in d
    ),
    st.builds(
        lambda meta, filings: {"_meta": meta, "filings": filings},
        json_values,
        not_an_object,
    ),
    st.builds(
        lambda meta, filings: {"_meta": meta, "filings": filings},
        st.just({"1": {"schema_version": 1, "generation": 1}}),
        st.dictionaries(
            st.text(max_size=4).filter(lambda k: not k.isdigit()) | st.just("1"),
            not_an_object,
            min_size=1,
            max_size=3,
        ),
    ),
    st.builds(
        lambda meta: {"_meta": meta, "filings": {}},
        not_an_object
        | st.just({})
        | st.dictionaries(st.just("1"), st.fixed_dictionaries({"schema_version": bad_version})),
    ),
)


@FAST
@given(value=wrong_shapes, layout=st.sampled_from(["compact", "indented"]))
def test_json_of_the_wrong_shape_is_refused(
    template: Template, scratch: Callable[[], Path], value: Any, layout: str
) -> None:
    text = json.dumps(value, indent=2 if layout == "indented" else None, ensure_ascii=False)
    path = with_base(template.files, text.encode(), "drop", scratch())
    assert_refused(open_db(path))


# -- the base: one record damaged ------------------------------------------------------------


@FAST
@given(st.data())
def test_a_field_of_the_wrong_type_is_refused(
    template: Template, scratch: Callable[[], Path], data: st.DataObject
) -> None:
    n, record = data.draw(wrong_field(template), label="damaged record")
    sidecar = data.draw(st.sampled_from(SIDECAR_MODES), label="sidecar")
    base = put_record(template.files.base, n, record)
    outcome = open_db(with_base(template.files, base, sidecar, scratch()))
    assert_refused(outcome, sidecar, shadowed=n in JOURNALED)


@FAST
@given(st.data())
def test_any_value_in_any_field_is_read_or_refused_cleanly(
    template: Template, scratch: Callable[[], Path], data: st.DataObject
) -> None:
    """Any JSON value anywhere in a record: the database opens or is refused, never crashes,
    and what opens is the record as stored."""
    n = data.draw(st.integers(0, 3), label="record")
    record = get_record(template.files.base, n)
    where = data.draw(
        st.sampled_from(
            [(k,) for k in record]
            + [("history", 0, k) for k in record["history"][0]]
            + [("checklist", k) for k in record["checklist"]]
            + [("surprise",)]
        ),
        label="field",
    )
    value = data.draw(json_values, label="value")
    assert set_in(record, where, value)
    sidecar = data.draw(st.sampled_from(SIDECAR_MODES), label="sidecar")
    base = put_record(template.files.base, n, record)
    outcome = open_db(with_base(template.files, base, sidecar, scratch()))
    if outcome.stage == "ok":
        assert outcome.records is not None
        if n == 3:  # the journal does not touch this one: it reads as stored
            assert outcome.records[record["id"]] == to_record(from_record(record))
        else:  # the journal's later version of the filing is what counts
            assert outcome.records == template.states[-1]


@FAST
@given(st.data())
def test_a_history_that_contradicts_the_stage_is_refused(
    template: Template, scratch: Callable[[], Path], data: st.DataObject
) -> None:
    n, record = data.draw(contradicting_history(template), label="record")
    sidecar = data.draw(st.sampled_from(SIDECAR_MODES), label="sidecar")
    base = put_record(template.files.base, n, record)
    outcome = open_db(with_base(template.files, base, sidecar, scratch()))
    assert_refused(outcome, sidecar, shadowed=n in JOURNALED)


@FAST
@given(
    st.sampled_from([(0, 1), (1, 0), (0, 3), (2, 3)]),
    st.sampled_from(SIDECAR_MODES),
    st.sampled_from(["id", "doc"]),
)
def test_duplicate_ids_and_documents_are_refused(
    template: Template,
    scratch: Callable[[], Path],
    pair: tuple[int, int],
    sidecar: str,
    what: str,
) -> None:
    src, dst = pair
    base = template.files.base
    if what == "id":
        record = get_record(base, dst)
        record["id"] = get_record(base, src)["id"]
        base = put_record(base, dst, record)
    else:  # the same document number twice
        lines = base.split(b"\n")
        i, j = record_lines(base)[src], record_lines(base)[dst]
        key = lines[i][: lines[i].index(b": ")]
        lines[j] = key + lines[j][lines[j].index(b": ") :]
        base = b"\n".join(lines)
    outcome = open_db(with_base(template.files, base, sidecar, scratch()))
    assert_refused(outcome, sidecar, shadowed=dst in JOURNALED)


# -- the sidecar alone damaged: it is only a cache ----------------------------------------------


@FAST
@given(st.data())
def test_a_damaged_sidecar_never_stops_a_good_database(
    template: Template, scratch: Callable[[], Path], data: st.DataObject
) -> None:
    sidecar = template.files.sidecar
    assert sidecar is not None
    kind = data.draw(st.sampled_from(["bytes", "truncate", "json", "row"]), label="kind")
    if kind == "bytes":
        damaged = data.draw(st.binary(max_size=500))
    elif kind == "truncate":
        damaged = sidecar[: data.draw(st.integers(0, len(sidecar) - 1))]
    elif kind == "json":
        damaged = json.dumps(data.draw(json_values)).encode()
    else:  # a row that is not a summary any more (the base description still matches)
        document = json.loads(sidecar)
        row = document["rows"][data.draw(st.integers(0, 3))]
        index = data.draw(st.integers(0, len(row) - 1))
        old = row[index]
        row[index] = data.draw(json_values.filter(lambda v: v != old))
        damaged = json.dumps(document).encode()
    path = replace(template.files, sidecar=damaged).write(scratch())
    outcome = open_db(path)
    if kind != "row":
        assert outcome.stage == "ok", outcome.message
        assert outcome.records == template.states[-1]
    elif outcome.stage == "ok":  # a row that still reads as a summary is believed (a cache)
        assert outcome.records == template.states[-1]


# -- the journal ---------------------------------------------------------------------------------


def journal_lines(files: Files) -> list[bytes]:
    assert files.journal is not None
    return files.journal.split(b"\n")[:-1]  # header, then one line per change


bad_line = st.one_of(
    st.binary(min_size=1, max_size=200).filter(lambda b: b"\n" not in b),
    st.builds(lambda v: json.dumps(v, ensure_ascii=False).encode(), json_values).filter(
        lambda b: b"\n" not in b
    ),
    st.builds(
        lambda put, doc: json.dumps({"put": put, "doc_id": doc}).encode(),
        json_values,
        json_values,
    ),
)


@FAST
@given(st.data())
def test_a_damaged_journal_line_before_the_last_is_refused(
    template: Template, scratch: Callable[[], Path], data: st.DataObject
) -> None:
    lines = journal_lines(template.files)
    i = data.draw(st.integers(0, len(lines) - 2), label="line index")
    kind = data.draw(st.sampled_from(["garbage", "record"]), label="kind")
    if kind == "garbage":
        lines[i] = data.draw(bad_line, label="line")
    else:
        assume(i > 0)
        _, record = data.draw(wrong_field(template), label="record")
        entry = json.loads(lines[i])
        entry["put"] = record
        lines[i] = json.dumps(entry, ensure_ascii=False).encode()
    files = replace(template.files, journal=b"\n".join(lines) + b"\n")
    path = files.write(scratch())
    outcome = open_db(path)
    assert_refused(outcome)
    assert outcome.message is not None and str(journal_path(path)) in outcome.message


@FAST
@given(st.data())
def test_a_torn_journal_is_read_up_to_its_last_whole_change(
    template: Template, scratch: Callable[[], Path], data: st.DataObject
) -> None:
    journal = template.files.journal
    assert journal is not None
    cut = data.draw(st.integers(0, len(journal)), label="cut")
    path = replace(template.files, journal=journal[:cut]).write(scratch())
    outcome = open_db(path)
    if b"\n" not in journal[:cut]:  # journals are put in place whole: a cut header is damage
        assert_refused(outcome)
        return
    assert outcome.stage == "ok", outcome.message
    whole = max(0, journal[:cut].count(b"\n") - 1)
    assert outcome.records == template.states[whole]


@FAST
@given(tail=st.binary(min_size=1, max_size=100).filter(lambda b: b"\n" not in b))
def test_an_unreadable_last_journal_line_is_a_torn_write(
    template: Template, scratch: Callable[[], Path], tail: bytes
) -> None:
    """A last line without its newline was never acknowledged: ignored. One that ends in its
    newline was written whole, so damage to it is refused, whether it parses or not."""
    lines = journal_lines(template.files)
    for ending in (b"", b"\n"):
        files = replace(template.files, journal=b"\n".join([*lines[:-1], tail]) + ending)
        outcome = open_db(files.write(scratch()))
        if ending:
            assert_refused(outcome)
        else:
            assert outcome.stage == "ok", outcome.message
            assert outcome.records == template.states[-2]


def test_a_journal_newer_than_the_base_is_refused(
    template: Template, scratch: Callable[[], Path]
) -> None:
    lines = journal_lines(template.files)
    header = json.loads(lines[0])
    header["generation"] += 5
    lines[0] = json.dumps(header).encode()
    path = replace(template.files, journal=b"\n".join(lines) + b"\n").write(scratch())
    assert_refused(open_db(path))


# -- the command line on damaged files -------------------------------------------------------


def _damaged_cases(template: Template) -> dict[str, Files]:
    files = template.files
    base = files.base
    lines = journal_lines(files)
    rnd = random.Random(7)

    def record(n: int, **changes: Any) -> bytes:
        return put_record(base, n, {**get_record(base, n), **changes})

    middle = [*lines[:2], b'{"put": {"id": 5}, "doc_id": "two"}', *lines[2:]]
    return {
        "empty": replace(files, base=b""),
        "random bytes": replace(files, base=bytes(rnd.randrange(256) for _ in range(400))),
        "truncated": replace(files, base=base[: len(base) // 2]),
        "a list": replace(files, base=b"[1, 2, 3]\n", sidecar=None),
        "unknown stage": replace(files, base=record(1, stage="archived")),
        "naive date": replace(files, base=record(0, entered_at="2026-11-20T10:00:00")),
        "wrong type": replace(files, base=record(2, version="3")),
        "duplicate id": replace(files, base=record(1, id="ICP-2026-00001")),
        "contradicting history": replace(files, base=record(3, stage="awaiting_photo")),
        "journal middle line": replace(files, journal=b"\n".join(middle) + b"\n"),
    }


CASES = [
    "empty",
    "random bytes",
    "truncated",
    "a list",
    "unknown stage",
    "naive date",
    "wrong type",
    "duplicate id",
    "contradicting history",
    "journal middle line",
]


@pytest.mark.parametrize("case", CASES)
def test_the_command_line_refuses_a_damaged_file_in_one_line(
    template: Template, tmp_path: Path, private: Path, case: str
) -> None:
    path = _damaged_cases(template)[case].write(tmp_path / "db")
    before = folder_bytes(path.parent)
    line = assert_one_line_error(
        run_cli(["list"], cwd=tmp_path, private=private, db=path), str(path)
    )
    assert line.startswith("icp-tui: ")
    assert_one_line_error(
        run_cli(["note", "ICP-2026-00001", "hello"], cwd=tmp_path, private=private, db=path),
        str(path),
    )
    assert folder_bytes(path.parent) == before


def test_a_forged_sidecar_does_not_hide_a_damaged_record(
    template: Template, tmp_path: Path, private: Path
) -> None:
    """Damage the checks cannot see (the sidecar describes the damaged bytes exactly): the
    filing is refused as soon as it is read, by `show` and by a change, naming the file."""
    base = put_record(
        template.files.base, 3, {**get_record(template.files.base, 3), "stage": "archived"}
    )
    path = with_base(template.files, base, "forge", tmp_path / "db")
    before = folder_bytes(path.parent)
    for args in (["show", "ICP-2026-00004"], ["note", "ICP-2026-00004", "x"]):
        assert_one_line_error(run_cli(args, cwd=tmp_path, private=private, db=path), str(path))
    listed = run_cli(["list"], cwd=tmp_path, private=private, db=path)
    assert listed.returncode in (0, 1) and "Traceback" not in listed.stderr, str(listed)
    assert not raw_controls(listed.stdout, allow_newline=True)
    assert folder_bytes(path.parent) == before
