"""CSV import with hostile values: stored exactly as given, or the file refused with a message
and the database unchanged (transfer.plan_import / apply_import, in process)."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_helpers import (
    NOW,
    assert_one_line_error,
    folder_bytes,
    hand_filing,
    hostile_text,
    nonblank,
    raw_controls,
    run_cli,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_tui.config import Reference
from icp_tui.display import inert
from icp_tui.domain.errors import IcpError
from icp_tui.domain.stages import Stage
from icp_tui.store import FilingStore

transfer = pytest.importorskip("icp_tui.transfer", reason="icp_tui/transfer.py does not exist")
if not hasattr(transfer, "plan_import"):  # pragma: no cover - depends on the project's state
    pytest.skip("icp_tui.transfer has no plan_import", allow_module_level=True)

FAST = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COLUMNS = ("domain", "entity", "province", "submitted_at", "assignee", "ticket", "icp_number")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    """A fresh database of one filing in its own folder, per hypothesis example."""
    root = tmp_path_factory.mktemp("import-cases")

    def fresh() -> Path:
        path = Path(tempfile.mkdtemp(dir=root)) / "filings.json"
        FilingStore.create(path, [hand_filing(1, Stage.PRELIMINARY_REVIEW)])
        return path

    return fresh


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def plan(text: str, reference: Reference, store: FilingStore) -> Any:
    return transfer.plan_import(
        io.StringIO(text, newline=""),
        reference,
        transfer.stored_filings(store),
        "importer",
        NOW,
    )


cell = nonblank(hostile_text(max_pieces=10)).map(lambda s: s.replace("\x00", "0"))


@FAST
@given(domain=cell, entity=cell, assignee=cell, ticket=cell, icp=cell)
def test_hostile_cells_are_imported_exactly(
    reference: Reference,
    scratch: Callable[[], Path],
    domain: str,
    entity: str,
    assignee: str,
    ticket: str,
    icp: str,
) -> None:
    """Cells written the way export writes them (formula prefixes defused) come back exact."""
    domain = "hostile.example.cn"  # a host name (issue 12); the other cells stay hostile
    values = [domain, entity, "Beijing", "2026-11-20T10:00+08:00", assignee, ticket, icp]
    text = csv_text([list(COLUMNS), [transfer.defuse_formula(v) for v in values]])
    store = FilingStore(scratch())
    store.load()
    planned = plan(text, reference, store)
    assert planned.errors == [], planned.errors
    (filing,) = planned.filings
    assert (filing.domain, filing.entity) == (domain, entity)
    assert (filing.assignee, filing.ticket, filing.icp_number) == (assignee, ticket, icp)

    assert transfer.apply_import(store, planned) == 1
    fresh = FilingStore(store.path)
    fresh.load()
    stored = fresh.get(filing.id)
    assert (stored.domain, stored.entity, stored.assignee) == (domain, entity, assignee)


csv_soup = st.lists(
    st.one_of(
        hostile_text(max_pieces=6),
        st.sampled_from(
            [",", '"', '""', "\r\n", "\n", "\r", ",,,,", "Beijing", "2026-11-20T10:00+08:00"]
        ),
        st.sampled_from(["domain,entity,province,submitted_at\r\n", "\ufeff", "id,", "ICP-2026-1"]),
    ),
    max_size=25,
).map("".join)


@FAST
@given(text=csv_soup, skip_bad=st.booleans())
def test_any_csv_is_imported_or_refused_with_messages_and_nothing_written(
    reference: Reference, scratch: Callable[[], Path], text: str, skip_bad: bool
) -> None:
    path = scratch()
    store = FilingStore(path)
    store.load()
    before = folder_bytes(path.parent)
    planned = plan(text, reference, store)
    for error in planned.errors:
        assert error.startswith("line "), error
        assert not raw_controls(inert(error))
    try:
        added = transfer.apply_import(store, planned, skip_bad=skip_bad)
    except IcpError as error:
        assert planned.errors, "refused without saying why"
        assert "\n" not in str(error)
        assert folder_bytes(path.parent) == before, "a refused import changed the database"
        return
    assert not planned.errors or skip_bad
    assert added == len(planned.filings)
    fresh = FilingStore(path)
    fresh.load()
    for filing in planned.filings:
        assert fresh.get(filing.id) == filing


@FAST
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_csv_file_never_crash(
    reference: Reference, scratch: Callable[[], Path], data: bytes
) -> None:
    path = scratch()
    source = path.parent / "in.csv"
    source.write_bytes(data)
    store = FilingStore(path)
    store.load()
    before = folder_bytes(path.parent)
    planned = transfer.plan_import_file(
        source, reference, transfer.stored_filings(store), "importer", NOW
    )
    if planned.errors:
        with pytest.raises(IcpError):
            transfer.apply_import(store, planned)
        assert folder_bytes(path.parent) == before


def test_importing_the_database_itself_is_refused_in_one_line(tmp_path: Path) -> None:
    """A JSON file given as the CSV (the database, by mistake): one line saying what is
    wrong, once (it was said twice, and the same columns twice in each line)."""
    db = tmp_path / "db" / "f.json"
    db.parent.mkdir()
    FilingStore.create(db, [hand_filing(1, Stage.PRELIMINARY_REVIEW)])
    before = folder_bytes(db.parent)
    refused = run_cli(["import", str(db)], cwd=tmp_path, private=tmp_path / "me", db=db)
    line = assert_one_line_error(refused, "no column domain, entity, province, submitted_at")
    assert "it needs" not in line and "nothing was imported" in line
    assert line.startswith(f"icp-tui: {db}: line 1: ")  # which file, as a bad row's line says
    assert folder_bytes(db.parent) == before
