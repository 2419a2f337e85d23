"""The store contract (icp_tui/store/contract.py), checked against every store.

Each test runs once per backend (the `backend` fixture), so a difference in what the two
stores do with versions, conflicts, history, the change feed or bad input fails here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pytest
from store_helpers import T0, fid, make_filing, noter, stopped_wait

from icp_tui.domain.errors import InvalidInput, InvalidRecord, UnknownFiling
from icp_tui.domain.filing import Filing, to_record
from icp_tui.domain.summary import summarize
from icp_tui.domain.transitions import add_note, assign
from icp_tui.store import DuplicateFiling, FilingStore, StaleChange, WakesOnChange
from icp_tui.store.contract import Store
from icp_tui.store.postgres import PostgresStore

LATER = T0 + timedelta(minutes=5)


@dataclass
class Backend:
    """One kind of store: `create` writes a fresh database, `open` is a new handle on it."""

    create: Callable[[Iterable[Filing]], object]
    open: Callable[[], Store]


@pytest.fixture(params=["file", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "file":
        path = tmp_path / "filings.json"
        yield Backend(lambda filings: FilingStore.create(path, filings), lambda: FilingStore(path))
        return
    uri = request.getfixturevalue("postgres_uri")
    opened: list[PostgresStore] = []

    def open_store() -> PostgresStore:
        opened.append(PostgresStore(uri))
        return opened[-1]

    yield Backend(lambda filings: PostgresStore.create(uri, filings).close(), open_store)
    for store in opened:
        store.close()


@pytest.fixture
def stores(backend: Backend) -> tuple[Store, Store]:
    """Two handles on a fresh database of three filings, like two staff members' dashboards."""
    backend.create([make_filing(n) for n in (1, 2, 3)])
    first, second = backend.open(), backend.open()
    first.load()
    second.load()
    return first, second


def test_load_reads_every_filing_in_order(backend: Backend) -> None:
    filings = [make_filing(n) for n in (1, 2, 3)]
    backend.create(filings)
    store: Store = backend.open()
    seen = []
    assert store.load(seen.append) == 3
    assert [s.id for s in seen] == [fid(1), fid(2), fid(3)]
    assert store.ids() == [fid(1), fid(2), fid(3)]
    assert len(store) == 3
    assert fid(2) in store and fid(9) not in store
    assert [to_record(store.get(f.id)) for f in filings] == [to_record(f) for f in filings]
    assert store.summary(fid(1)) == summarize(filings[0])
    assert store.summaries() == [summarize(f) for f in filings]
    assert not store.read_only and store.read_only_reason is None


def test_an_empty_database_opens(backend: Backend) -> None:
    backend.create([])
    store = backend.open()
    assert store.load() == 0
    assert store.ids() == []
    assert store.poll() == []


def test_for_a_step_in_time_a_filing_reads_as_it_was_last_read(
    stores: tuple[Store, Store],
) -> None:
    """`for_rebuild`: the same filing as `get` (what a summary of it, at any instant, reads
    alike), at the version last read, and UnknownFiling for an id there is none of."""
    first, second = stores
    second.commit(fid(1), lambda f: add_note(f, LATER, "bob", "called"), 1)
    for store, version in ((first, 1), (second, 2)):
        read = store.for_rebuild(fid(1))
        assert read.version == version
        assert summarize(read) == summarize(store.get(fid(1))) == store.summary(fid(1))
    with pytest.raises(UnknownFiling):
        first.for_rebuild(fid(9))


def test_a_commit_is_one_version_on_and_seen_by_others(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    saved = mine.commit(fid(1), noter("called the applicant"), expected_version=1)
    assert saved.version == 2
    assert mine.get(fid(1)).version == 2
    assert mine.summary(fid(1)).version == 2
    assert theirs.get(fid(1)).version == 1  # as last read, until they poll
    assert [f.version for f in theirs.poll()] == [2]
    assert theirs.get(fid(1)) == saved
    assert theirs.summary(fid(1)).version == 2
    assert [s.version for s in theirs.summaries()] == [2, 1, 1]


def test_history_is_appended_not_rewritten(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    before = mine.get(fid(1))
    mine.commit(fid(1), noter("first"))
    mine.commit(fid(1), lambda f: assign(f, LATER, "bob", "carol"))
    theirs.poll()
    after = theirs.get(fid(1))
    assert after.history[: len(before.history)] == before.history
    assert [t.by for t in after.history[len(before.history) :]] == ["alice", "bob"]
    assert after.notes[0].text == "first" and after.assignee == "carol"


def test_a_stale_change_is_refused_with_who_and_when(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    theirs.commit(fid(1), noter("theirs", by="bob", at=T0 + timedelta(minutes=7)))
    with pytest.raises(StaleChange) as refused:
        mine.commit(fid(1), noter("mine"), expected_version=1)
    message = str(refused.value)
    assert "bob" in message and "2026-11-20 14:10" in message and "not saved" in message
    assert "\n" not in message
    assert refused.value.current.version == 2
    assert refused.value.current.notes[0].text == "theirs"
    fresh = theirs.get(fid(1))
    assert fresh.version == 2 and [n.text for n in fresh.notes] == ["theirs"]


def test_without_an_expected_version_a_change_applies_to_the_current(
    stores: tuple[Store, Store],
) -> None:
    mine, theirs = stores
    theirs.commit(fid(1), noter("theirs", by="bob"))
    saved = mine.commit(fid(1), noter("mine"))  # mine still shows version 1
    assert saved.version == 3
    assert [n.text for n in saved.notes] == ["theirs", "mine"]


def test_a_change_to_an_unknown_filing_is_refused(stores: tuple[Store, Store]) -> None:
    mine, _ = stores
    with pytest.raises(UnknownFiling, match="ICP-2026-00099"):
        mine.commit(fid(99), noter("nobody"))
    with pytest.raises(UnknownFiling):
        mine.get(fid(99))
    with pytest.raises(UnknownFiling):
        mine.summary(fid(99))


def test_a_change_that_fails_saves_nothing(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores

    def refuse(filing: Filing) -> Filing:
        raise InvalidInput("a note must not be empty")

    with pytest.raises(InvalidInput):
        mine.commit(fid(1), refuse)
    with pytest.raises(ValueError, match="version"):
        mine.commit(fid(1), lambda f: replace(add_note(f, LATER, "alice", "x"), version=7))
    assert theirs.poll() == []
    assert mine.get(fid(1)).version == 1
    assert mine.commit(fid(1), noter("still works")).version == 2


def test_add_sees_existing_ids_and_refuses_a_duplicate(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    seen: list[set[str]] = []

    def make(existing: set[str]) -> Filing:
        seen.append(set(existing))
        return make_filing(4)

    added = mine.add(make)
    assert seen == [{fid(1), fid(2), fid(3)}]
    assert added == make_filing(4)
    assert mine.ids() == [fid(1), fid(2), fid(3), fid(4)]
    with pytest.raises(DuplicateFiling, match="ICP-2026-00002"):
        theirs.add(lambda existing: make_filing(2))
    assert [f.id for f in theirs.poll()] == [fid(4)]
    assert theirs.ids() == [fid(1), fid(2), fid(3), fid(4)]
    assert theirs.get(fid(2)) == make_filing(2)


def test_add_many_saves_every_filing_in_one_commit(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    seen: list[set[str]] = []
    done: list[tuple[int, int]] = []

    def make(existing: set[str]) -> list[Filing]:
        seen.append(set(existing))
        return [make_filing(n) for n in range(4, 2504)]

    added = mine.add_many(make, lambda n, total: done.append((n, total)))
    assert seen == [{fid(1), fid(2), fid(3)}]
    assert [f.id for f in added] == [fid(n) for n in range(4, 2504)]
    assert done == [(1000, 2500), (2000, 2500), (2500, 2500)]
    changed = theirs.poll()
    assert changed is None or len(changed) == 2500  # past the poll's list limit: reread
    assert theirs.ids() == [fid(n) for n in range(1, 2504)]
    assert theirs.get(fid(2503)) == make_filing(2503)
    assert mine.add_many(lambda existing: []) == []


def test_add_many_with_one_bad_filing_saves_none(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    with pytest.raises(DuplicateFiling, match="ICP-2026-00002"):
        mine.add_many(lambda existing: [make_filing(4), make_filing(2), make_filing(5)])
    with pytest.raises(DuplicateFiling, match="ICP-2026-00006"):
        mine.add_many(lambda existing: [make_filing(6), make_filing(6)])
    bad = replace(make_filing(7), history=())  # a record the loader would refuse
    with pytest.raises(InvalidRecord):
        mine.add_many(lambda existing: [make_filing(8), bad])
    assert theirs.poll() == []
    fresh = mine
    fresh.load()
    assert fresh.ids() == [fid(1), fid(2), fid(3)]


def test_poll_lists_each_changed_filing_once_at_its_latest(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    assert theirs.poll() == []
    mine.commit(fid(2), noter("a"))
    mine.commit(fid(2), noter("b"))
    mine.commit(fid(3), noter("c"))
    mine.add(lambda existing: make_filing(5))
    changed = theirs.poll()
    assert changed is not None
    assert sorted((f.id, f.version) for f in changed) == [(fid(2), 3), (fid(3), 2), (fid(5), 1)]
    assert theirs.poll() == []
    assert sorted(f.id for f in mine.poll()) == [fid(2), fid(3), fid(5)]  # its own too


def test_load_forgets_what_poll_would_have_listed(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    mine.commit(fid(1), noter("a"))
    assert theirs.load() == 3
    assert theirs.get(fid(1)).version == 2
    assert theirs.poll() == []


def test_compact_if_due_keeps_every_filing(stores: tuple[Store, Store]) -> None:
    mine, theirs = stores
    for n in range(5):
        mine.commit(fid(1), noter(f"n{n}"))
    mine.compact_if_due()
    assert theirs.load() == 3
    assert theirs.get(fid(1)).version == 6


def test_a_wait_for_change_ends_when_told_to_stop(stores: tuple[Store, Store]) -> None:
    """The dashboard leaving sets `stop`: its wait ends then (False, nothing changed), not at
    its timeout, so quitting is not held up by the thread that follows changes."""
    store, other = stores
    assert isinstance(store, WakesOnChange)
    store.wait_for_change(0.0)  # the first wait starts watching (listening) and says "poll"
    assert stopped_wait(store) == [False]
    other.commit(fid(1), noter("after the stop"))  # a later wait still wakes on a change
    assert store.wait_for_change(30.0)
