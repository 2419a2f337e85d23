"""A full disk: the exit status says exactly whether the change was stored.

A 2 MiB tmpfs is filled up to a few pages short, at every size from "not even the journal
line fits" to "everything fits". Compaction is made due each time (its sidecar is removed), so
the sweep passes through every step after the change: the new base, its sidecar, the new
journal.
"""

from __future__ import annotations

from pathlib import Path

from server_helpers import PAGE, fill, run_here, tmpfs

from icp_tui.store import FilingStore, summary_path


def _notes(db: Path, filing_id: str, text: str) -> int:
    store = FilingStore(db)
    store.load()
    return sum(1 for note in store.get(filing_id).notes if note.text == text)


def test_exit_status_matches_what_was_stored_at_every_free_size() -> None:
    with tmpfs("2m") as mount:
        (mount / "config").mkdir()
        db = mount / "db" / "filings.json"
        db.parent.mkdir()
        created = run_here("demo", "--count", "40", db=db)
        assert created.returncode == 0, created.stderr
        filing_id = _first_id(db)
        pristine = _files(db.parent)
        outcomes: set[tuple[int, bool]] = set()
        pages = 0
        while (0, False) not in outcomes:  # until everything fits
            assert pages < 100, outcomes
            # Longer than a page, so the journal line never fits in its last page's slack.
            text = f"disk-full note {pages} " + "x" * PAGE
            _restore(db.parent, pristine)
            summary_path(db).unlink()  # makes a compaction due
            filler = fill(mount, pages * PAGE)
            try:
                result = run_here("note", filing_id, text, db=db)
            finally:
                filler.unlink()
            stored = _notes(db, filing_id, text)
            assert result.returncode in (0, 1), (pages, result.returncode, result.stderr)
            assert "Traceback" not in result.stderr, result.stderr
            assert stored == (1 if result.returncode == 0 else 0), (pages, result.stderr)
            if result.returncode == 1:
                assert result.stdout == "" and len(result.stderr.splitlines()) == 1
                assert "nothing was changed" in result.stderr, result.stderr
            elif result.stderr:
                assert result.stdout == f"note added to {filing_id}\n"
                assert "warning: compaction" in result.stderr and "postponed" in result.stderr
            outcomes.add((result.returncode, bool(result.stderr)))
            pages += 1
        # The sweep really went through all three outcomes.
        assert outcomes == {(1, True), (0, True), (0, False)}, outcomes


def test_a_retry_after_a_failure_stores_the_change_once() -> None:
    """`note ID x || note ID x`: the second run happens only if the first did not save."""
    with tmpfs("2m") as mount:
        (mount / "config").mkdir()
        db = mount / "db" / "filings.json"
        db.parent.mkdir()
        assert run_here("demo", "--count", "40", db=db).returncode == 0
        filing_id = _first_id(db)
        pristine = _files(db.parent)
        for pages in range(0, 30, 3):
            text = f"retried note {pages} " + "x" * PAGE
            _restore(db.parent, pristine)
            summary_path(db).unlink()
            filler = fill(mount, pages * PAGE)
            try:
                if run_here("note", filing_id, text, db=db).returncode != 0:
                    filler.unlink()  # the operator frees some space and retries
                    assert run_here("note", filing_id, text, db=db).returncode == 0
            finally:
                filler.unlink(missing_ok=True)
            assert _notes(db, filing_id, text) == 1, pages


def _files(folder: Path) -> dict[str, bytes]:
    return {f.name: f.read_bytes() for f in folder.iterdir()}


def _restore(folder: Path, files: dict[str, bytes]) -> None:
    for f in folder.iterdir():
        f.unlink()
    for name, data in files.items():
        (folder / name).write_bytes(data)


def _first_id(db: Path) -> str:
    store = FilingStore(db)
    store.load()
    return sorted(store.ids())[0]
