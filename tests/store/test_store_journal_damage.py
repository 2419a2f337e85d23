"""A damaged journal is refused like a damaged base, kept as it is, and mended only on request.

The three damages of issue 11 (a flipped byte in the last whole line, a garbage line appended,
the journal cut to 10 or 0 bytes) used to be read as "no such change", and the next writer
then cut the acknowledged changes away for good.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from store_helpers import edit_journal, fid, new_db, noter, snapshot_files, temp_files

from icp_tui.store import FilingStore, JournalDamaged, journal_path
from icp_tui.store.journal import CRC_MARK, JOURNAL_FORMAT


def _flip_a_byte_in_the_last_line(journal: Path) -> int:
    data = bytearray(journal.read_bytes())
    start = data.rindex(b"\n", 0, len(data) - 1) + 1
    data[start + 2] ^= 0x20  # '"put"' becomes '"Put"'... or worse
    journal.write_bytes(bytes(data))
    return data.count(b"\n")


def _change_a_note_in_the_last_line(journal: Path) -> int:
    """Still valid JSON, still a valid filing: only the checksum can tell."""
    data = journal.read_bytes()
    start = data.rindex(b"\n", 0, len(data) - 1) + 1
    assert data.count(b"acknowledged two", start) == 1
    journal.write_bytes(
        data[:start] + data[start:].replace(b"acknowledged two", b"acknowledged twX")
    )
    return data.count(b"\n")


def _make_the_header_older(journal: Path) -> int:
    """Generation 1 becomes 0: read as a stale journal, its changes would vanish unnoticed."""
    data = journal.read_bytes()
    assert data.startswith(b'{"journal": %d, "generation": 1, ' % JOURNAL_FORMAT)
    journal.write_bytes(data.replace(b'"generation": 1, ', b'"generation": 0, ', 1))
    return 1


def _append_garbage(journal: Path) -> int:
    with open(journal, "ab") as handle:
        handle.write(b"\x00garbage\xff\n")
    return journal.read_bytes().count(b"\n")


def _cut_to(size: int) -> Callable[[Path], int]:
    def cut(journal: Path) -> int:
        journal.write_bytes(journal.read_bytes()[:size])
        return 1

    return cut


DAMAGES = {
    "flipped byte in the last line": _flip_a_byte_in_the_last_line,
    "a note changed, still JSON": _change_a_note_in_the_last_line,
    "header generation changed, still JSON": _make_the_header_older,
    "garbage line appended": _append_garbage,
    "cut to 10 bytes": _cut_to(10),
    "cut to 0 bytes": _cut_to(0),
}


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_damaged_journal_is_refused_named_and_never_rewritten(
    tmp_path: Path, damage: Callable[[Path], int]
) -> None:
    path = new_db(tmp_path)
    writer = FilingStore(path)
    writer.commit(fid(1), noter("acknowledged one"))
    writer.commit(fid(2), noter("acknowledged two"))
    journal = journal_path(path)
    size = journal.stat().st_size
    line = damage(journal)
    before = snapshot_files(path)
    where = re.escape(f"{journal} line {line}:")
    attempts: list[Callable[[], object]] = [
        lambda: FilingStore(path).load(),
        lambda: FilingStore(path).commit(fid(3), noter("next")),
        lambda: FilingStore(path).compact(),
        lambda: FilingStore(path).compact_if_due(),
    ]
    if journal.stat().st_size != size:  # an open handle notices a journal of another size
        attempts.append(lambda: writer.commit(fid(3), noter("next")))

    for attempt in attempts:
        with pytest.raises(JournalDamaged, match=where) as refused:
            attempt()
        message = str(refused.value)
        assert "\n" not in message and "icp-tui repair" in message and "backup" in message
    assert snapshot_files(path) == before
    assert temp_files(path) == []


def test_a_torn_tail_without_newline_is_still_dropped(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("acknowledged"))
    with open(journal_path(path), "ab") as handle:
        handle.write(b'{"put": {"id": "ICP-2026-0')
    store = FilingStore(path)
    assert store.load() == 3
    assert [n.text for n in store.get(fid(1)).notes] == ["acknowledged"]


def test_repair_keeps_a_copy_and_saves_every_readable_change(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    writer = FilingStore(path)
    writer.commit(fid(1), noter("first"))
    writer.commit(fid(2), noter("second"))
    writer.commit(fid(1), noter("third"))
    journal = journal_path(path)
    lines = journal.read_bytes().split(b"\n")
    lines[2] = lines[2][:-5] + b"#####"  # the change to filing 2 is damaged
    damaged = b"\n".join(lines)
    journal.write_bytes(damaged)

    repaired = FilingStore(path).repair()
    assert repaired.copy is not None and repaired.copy.read_bytes() == damaged
    assert repaired.copy.parent == path.parent
    assert (repaired.kept, repaired.dropped) == (2, [3])
    assert (
        "saved 2 changes" in str(repaired)
        and "dropped line 3;" in str(repaired)
        and str(repaired.copy) in str(repaired)
    )
    store = FilingStore(path)
    store.load()
    assert [n.text for n in store.get(fid(1)).notes] == ["first", "third"]
    assert store.get(fid(2)).notes == ()
    # Mended for good: the next change and the next repair find nothing wrong.
    store.commit(fid(2), noter("after the repair"))
    again = FilingStore(path).repair()
    assert again.copy is None and "nothing to repair" in str(again)


@pytest.mark.parametrize("size", [0, 10])
def test_repair_of_a_cut_journal_keeps_what_the_base_holds(tmp_path: Path, size: int) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("lost with the journal"))
    _cut_to(size)(journal_path(path))
    repaired = FilingStore(path).repair()
    assert repaired.copy is not None and (repaired.kept, repaired.dropped) == (0, [1])
    store = FilingStore(path)
    assert store.load() == 3
    assert store.get(fid(1)).notes == ()


def test_repair_drops_a_readable_line_that_is_not_a_valid_change(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("kept"))
    FilingStore(path).commit(fid(2), noter("bad stage"))
    # A line whose checksum matches but whose record is not a valid filing.
    stage = b'"stage":"preliminary_review"'
    edit_journal(path, lambda line: line.replace(stage, b'"stage":"x"'), only=3)
    with pytest.raises(JournalDamaged, match="line 3: filing 'ICP-2026-00002'"):
        FilingStore(path).load()
    repaired = FilingStore(path).repair()
    assert (repaired.kept, repaired.dropped) == (1, [3])
    store = FilingStore(path)
    store.load()
    assert [n.text for n in store.get(fid(1)).notes] == ["kept"]


def test_repair_says_line_for_one_and_lines_for_several(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    for n in (1, 2, 3):
        FilingStore(path).commit(fid(n), noter(f"note {n}"))
    journal = journal_path(path)
    journal.write_bytes(journal.read_bytes() + b"garbage\nmore garbage\n")
    said = str(FilingStore(path).repair())
    assert "saved 3 changes" in said and "dropped lines 5, 6;" in said, said


def _as_format_1(journal: Path) -> None:
    """The journal as icp-tui wrote it before the checksums: header 1, lines without one."""
    header, *lines = journal.read_bytes().split(b"\n")
    old = [b'{"journal": 1, "generation": %d}' % orjson.loads(header)["generation"]]
    old += [line[: line.rfind(CRC_MARK)] + b"}" if CRC_MARK in line else line for line in lines]
    journal.write_bytes(b"\n".join(old))


def test_an_older_journal_without_checksums_still_opens_and_is_compacted_first(
    tmp_path: Path,
) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("before the upgrade"))
    journal = journal_path(path)
    _as_format_1(journal)
    assert CRC_MARK not in journal.read_bytes()
    store = FilingStore(path)
    assert store.load() == 3
    assert [n.text for n in store.get(fid(1)).notes] == ["before the upgrade"]
    # The first change folds the old journal into the base: no journal mixes the formats.
    store.commit(fid(2), noter("after the upgrade"))
    header, *lines = journal.read_bytes().splitlines()
    assert header.startswith(b'{"journal": %d,' % JOURNAL_FORMAT)
    assert len(lines) == 1 and CRC_MARK in lines[0]
    again = FilingStore(path)
    again.load()
    assert [n.text for n in again.get(fid(1)).notes] == ["before the upgrade"]
    assert [n.text for n in again.get(fid(2)).notes] == ["after the upgrade"]


def test_a_line_without_its_checksum_in_a_checksummed_journal_is_damage(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("one"))
    FilingStore(path).commit(fid(2), noter("two"))
    journal = journal_path(path)
    header, *lines = journal.read_bytes().split(b"\n")
    lines[1] = lines[1][: lines[1].rfind(CRC_MARK)] + b"}"  # valid JSON, a valid change
    journal.write_bytes(b"\n".join([header, *lines]))
    with pytest.raises(JournalDamaged, match=re.escape(f"{journal} line 3: it has no checksum")):
        FilingStore(path).load()


def test_repair_drops_a_changed_line_by_its_checksum(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("acknowledged one"))
    FilingStore(path).commit(fid(2), noter("acknowledged two"))
    _change_a_note_in_the_last_line(journal_path(path))
    repaired = FilingStore(path).repair()
    assert (repaired.kept, repaired.dropped) == (1, [3]), repaired
    store = FilingStore(path)
    store.load()
    assert [n.text for n in store.get(fid(1)).notes] == ["acknowledged one"]
    assert store.get(fid(2)).notes == ()  # the changed note is in the kept copy only


def test_repair_of_an_older_journal_keeps_its_lines_without_checksums(tmp_path: Path) -> None:
    path = new_db(tmp_path)
    FilingStore(path).commit(fid(1), noter("kept"))
    journal = journal_path(path)
    _as_format_1(journal)
    journal.write_bytes(journal.read_bytes() + b"garbage\n")
    repaired = FilingStore(path).repair()
    assert (repaired.kept, repaired.dropped) == (1, [3]), repaired
    assert [n.text for n in FilingStore(path).get(fid(1)).notes] == ["kept"]
