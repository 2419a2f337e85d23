"""Export to CSV / JSON and import from CSV: round trip, refusal, duplicates, hostile text."""

from __future__ import annotations

import csv
import errno
import io
import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icp_tui.config import Reference, Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain import transitions
from icp_tui.domain.filing import BEIJING, EntityType, Filing, check_history
from icp_tui.domain.stages import Stage
from icp_tui.queue import Queue
from icp_tui.store import FilingStore, StoreError, filing_store, journal_path
from icp_tui.transfer import (
    CSV_KEYS,
    IMPORT_REASON,
    LIST_KEYS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ImportPlan,
    ImportRefused,
    apply_import,
    defuse_formula,
    export_rows,
    plan_import,
    plan_import_file,
    restore_formula,
    stored_filings,
    write_csv,
    write_json,
)

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)
README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lists_every_column_import_reads_and_export_writes() -> None:
    readme = README.read_text(encoding="utf-8")
    for column in {*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *CSV_KEYS}:
        assert f"`{column}`" in readme, column


IMPORTER = "importer"
HEADER = ["domain", "entity", "entity_type", "province", "submitted_at", "stage", "assignee", "id"]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(Settings())


@pytest.fixture(scope="module")
def demo(reference: Reference) -> list[Filing]:
    return generate_filings(60, NOW, reference.policy, reference.provinces, seed=3)


def make_store(path: Path, filings: Iterable[Filing] = ()) -> FilingStore:
    FilingStore.create(path, filings)
    store = FilingStore(path)
    store.load()
    return store


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file of the database folder (base, journal, lock), to prove nothing was written."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def csv_file(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def export_csv(store: FilingStore, reference: Reference, path: Path) -> list[dict[str, object]]:
    queue = Queue(reference, NOW)
    store.load(queue.put)
    rows = export_rows(queue.select(), store.get, reference, NOW)
    with path.open("w", encoding="utf-8", newline="") as handle:
        write_csv(rows, handle)
    return rows


def import_file(store: FilingStore, reference: Reference, path: Path, **kw: bool) -> ImportPlan:
    plan = plan_import_file(path, reference, stored_filings(store), IMPORTER, NOW)
    apply_import(store, plan, **kw)
    return plan


def fresh(path: Path) -> FilingStore:
    store = FilingStore(path)
    store.load()
    return store


# -- export ------------------------------------------------------------------------------------


def test_csv_opens_in_a_spreadsheet(
    tmp_path: Path, reference: Reference, demo: list[Filing]
) -> None:
    store = make_store(tmp_path / "db" / "filings.json", demo)
    out = tmp_path / "export.csv"
    export_csv(store, reference, out)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_KEYS
    assert tuple(rows[0][: len(LIST_KEYS)]) == LIST_KEYS
    assert {"submitted_at", "entered_at"} <= set(rows[0])
    assert len(rows) == 1 + len(demo)
    assert any(not row[2].isascii() for row in rows[1:]), "Chinese entity names kept"
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    sample = demo[0]
    assert datetime.fromisoformat(by_id[sample.id]["submitted_at"]) == sample.submitted_at


def test_json_export_is_the_list_json_objects(reference: Reference, demo: list[Filing]) -> None:
    queue = Queue(reference, NOW)
    for filing in demo:
        queue.put(filing)
    entries = queue.select()
    by_id = {f.id: f for f in demo}
    progress: list[tuple[int, int]] = []
    rows = export_rows(
        entries, by_id.__getitem__, reference, NOW, progress=lambda *p: progress.append(p)
    )
    out = io.StringIO()
    write_json(rows, out)
    assert json.loads(out.getvalue()) == [e.list_json(reference, NOW) for e in entries]
    assert progress[-1] == (len(demo), len(demo))


@given(st.text(max_size=12))
def test_formula_quoting_is_undone_exactly(text: str) -> None:
    quoted = defuse_formula(text)
    assert restore_formula(quoted) == text
    assert quoted[:1] not in ("=", "+", "-", "@"), "a spreadsheet would run it"


# -- import: round trip ------------------------------------------------------------------------


def test_export_then_import_into_an_empty_database_keeps_every_field(
    tmp_path: Path, reference: Reference, demo: list[Filing]
) -> None:
    source = make_store(tmp_path / "a" / "filings.json", demo)
    out = tmp_path / "export.csv"
    exported = export_csv(source, reference, out)
    target = make_store(tmp_path / "b" / "filings.json")

    plan = import_file(target, reference, out)

    assert plan.errors == [] and plan.skipped_duplicates == 0
    assert len(fresh(target.path)) == len(demo)
    again = export_csv(fresh(target.path), reference, tmp_path / "again.csv")
    # Everything but the version (a count of changes) is the same after the round trip: the
    # escalation flag too, since the export carries the review days before the current stay.
    kept = [k for k in CSV_KEYS if k != "version"]
    assert [{k: r[k] for k in kept} for r in again] == [{k: r[k] for k in kept} for r in exported]
    imported = fresh(target.path)
    for original in demo:
        copy = imported.get(original.id)
        assert (copy.domain, copy.entity, copy.entity_type, copy.province) == (
            original.domain,
            original.entity,
            original.entity_type,
            original.province,
        )
        assert (copy.stage, copy.assignee, copy.ticket, copy.icp_number) == (
            original.stage,
            original.assignee,
            original.ticket,
            original.icp_number,
        )
        assert copy.submitted_at == original.submitted_at
        assert copy.entered_at == original.entered_at
        assert {(t.by, t.reason) for t in copy.history} == {(IMPORTER, IMPORT_REASON)}
    assert {f.stage for f in demo} == set(Stage), "the demo covers every stage"


def test_an_imported_filing_is_what_the_domains_own_moves_make(
    tmp_path: Path, reference: Reference, demo: list[Filing]
) -> None:
    # The import builds each filing in one go; replaying its history move by move with the
    # domain's transitions (which check every move) must give exactly the same filing.
    out = tmp_path / "export.csv"
    export_csv(make_store(tmp_path / "a" / "filings.json", demo), reference, out)
    plan = plan_import_file(out, reference, [], IMPORTER, NOW)
    assert plan.errors == [] and len(plan.filings) == len(demo)
    for imported in plan.filings:
        check_history(imported)
        first, *moves = imported.history
        filing = transitions.submit(
            imported.id,
            imported.domain,
            imported.entity,
            imported.entity_type,
            imported.province,
            first.at,
            IMPORTER,
        )
        filing = replace(filing, history=(replace(filing.history[0], reason=IMPORT_REASON),))
        for move in moves:
            if move.target is Stage.WITHDRAWN:
                filing = transitions.withdraw(filing, move.at, IMPORTER, move.reason)
            else:
                number = imported.icp_number if move.target is Stage.APPROVED else None
                filing = transitions.advance(
                    filing, move.at, IMPORTER, move.target, move.reason, number
                )
        filing = replace(
            filing,
            assignee=imported.assignee,
            ticket=imported.ticket,
            icp_number=imported.icp_number,
            sms_sent_at=imported.sms_sent_at,
        )
        assert filing == imported
    targets = [[t.target for t in f.history] for f in plan.filings]
    assert any(Stage.RETURNED in path[:-1] for path in targets), "a resubmitted order"
    assert any(Stage.AWAITING_PHOTO in path[:-1] for path in targets), "review days kept"
    assert {f.stage for f in plan.filings} == set(Stage)


def test_reimporting_the_same_file_adds_nothing(
    tmp_path: Path, reference: Reference, demo: list[Filing]
) -> None:
    rows = [
        [f.domain, f.entity, f.entity_type.value, f.province, f.submitted_at.isoformat()]
        for f in demo[:10]
    ]
    rows.append(list(rows[0]))  # the same filing twice in the file
    path = csv_file(tmp_path / "new.csv", HEADER[:5], rows)
    store = make_store(tmp_path / "db" / "filings.json")

    first = import_file(store, reference, path)
    assert (len(first.filings), first.skipped_duplicates) == (10, 1)
    before = folder_bytes(store.path.parent)
    second = import_file(fresh(store.path), reference, path)
    assert (second.filings, second.skipped_duplicates) == ([], 11)
    assert folder_bytes(store.path.parent) == before
    # Its own export, ids included, comes back as all duplicates too.
    export_csv(fresh(store.path), reference, tmp_path / "export.csv")
    third = plan_import_file(
        tmp_path / "export.csv", reference, stored_filings(fresh(store.path)), IMPORTER, NOW
    )
    assert (third.filings, third.skipped_duplicates, third.errors) == ([], 10, [])


def test_a_resubmitted_filing_is_still_a_duplicate_of_its_first_submission(
    reference: Reference, demo: list[Filing]
) -> None:
    resubmitted = next(
        f for f in demo if sum(t.target is Stage.PRELIMINARY_REVIEW for t in f.history) > 1
    )
    first = resubmitted.history[0].at
    text = _csv(
        HEADER[:5],
        [
            [
                resubmitted.domain,
                resubmitted.entity,
                "company",
                resubmitted.province,
                first.isoformat(),
            ]
        ],
    )
    plan = plan_import(text, reference, demo, IMPORTER, NOW)
    assert (plan.filings, plan.skipped_duplicates) == ([], 1)


# -- import: refusal and --skip-bad ------------------------------------------------------------


BAD_FILE_ROWS = [
    ["good1.cn", "好公司", "company", "北京", "2026-11-20T10:00:00+08:00", "", "", ""],  # 2
    ["bad1.cn", "Bad One", "company", "Atlantis", "2026-11-20T10:00:00+08:00", "", "", ""],  # 3
    ["good2.cn", "Two\nLines Ltd.", "个人", "Zhejiang", "2026-11-20 10:00", "", "", ""],  # 4-5
    ["bad2.cn", "Bad Two", "company", "Beijing", "yesterday", "", "", ""],  # 6
    ["good3.cn", "Three", "individual", "Shanghai", "2026-11-19", "approved", "bob", ""],  # 7
    ["   ", "Bad Three", "company", "Beijing", "2026-11-20T10:00+08:00", "nowhere", "", ""],  # 8
]


def test_three_bad_rows_refuse_the_whole_file_and_change_nothing(
    tmp_path: Path, reference: Reference, demo: list[Filing]
) -> None:
    store = make_store(tmp_path / "db" / "filings.json", demo[:5])
    store.add(lambda existing: demo[5])  # a journal too, not only the base file
    path = csv_file(tmp_path / "in.csv", HEADER, BAD_FILE_ROWS)
    before = folder_bytes(store.path.parent)

    plan = plan_import_file(path, reference, stored_filings(store), IMPORTER, NOW)
    with pytest.raises(ImportRefused, match="3 bad rows: nothing was imported"):
        apply_import(store, plan)

    assert [e.split(":")[0] for e in plan.errors] == ["line 3", "line 6", "line 8"]
    assert "unknown province 'Atlantis'" in plan.errors[0]
    assert "submitted_at 'yesterday' is not an ISO 8601 time" in plan.errors[1]
    assert "domain is empty" in plan.errors[2] and "unknown stage 'nowhere'" in plan.errors[2]
    assert all("\n" not in e for e in plan.errors)
    assert folder_bytes(store.path.parent) == before
    assert len(fresh(store.path)) == 6


def test_skip_bad_imports_the_good_rows_and_reports_the_rest(
    tmp_path: Path, reference: Reference
) -> None:
    store = make_store(tmp_path / "db" / "filings.json")
    path = csv_file(tmp_path / "in.csv", HEADER, BAD_FILE_ROWS)

    plan = import_file(store, reference, path, skip_bad=True)

    assert len(plan.errors) == 3
    stored = {f.domain: f for f in stored_filings(fresh(store.path))}
    assert set(stored) == {"good1.cn", "good2.cn", "good3.cn"}
    assert stored["good1.cn"].province == "Beijing"  # from the Chinese alias
    assert stored["good2.cn"].entity == "Two\nLines Ltd."
    assert stored["good2.cn"].entity_type is EntityType.INDIVIDUAL
    assert stored["good2.cn"].submitted_at == datetime(2026, 11, 20, 10, tzinfo=BEIJING)
    assert stored["good3.cn"].stage is Stage.APPROVED and stored["good3.cn"].assignee == "bob"


def test_a_file_that_cannot_be_read_is_refused_even_with_skip_bad(
    tmp_path: Path, reference: Reference
) -> None:
    store = make_store(tmp_path / "db" / "filings.json")
    missing = csv_file(tmp_path / "m.csv", ["domain", "entity"], [["a.cn", "A"]])
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(
        "domain,entity,province,submitted_at\na.cn,北京公司,Beijing,2026-11-20\n".encode("gbk")
    )
    for path, expected in (
        (missing, "line 1: the header has no column province, submitted_at"),
        (gbk, "line 2: the file is not UTF-8"),
        (tmp_path / "empty.csv", "line 1: the file is empty"),
    ):
        path.touch()
        plan = plan_import_file(path, reference, [], IMPORTER, NOW)
        assert plan.fatal and plan.errors[0].startswith(expected)
        with pytest.raises(ImportRefused):
            apply_import(store, plan, skip_bad=True)


# -- import: what a row may say ----------------------------------------------------------------


def _csv(header: list[str], rows: list[list[str]]) -> io.StringIO:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return io.StringIO(out.getvalue(), newline="")


def test_header_names_are_forgiving_and_extra_columns_ignored(reference: Reference) -> None:
    text = _csv(
        ["\ufeffDomain", "Entity", "Entity type", "Province", "Submitted at", "Notes", "Stage"],
        [["a.cn", "甲公司", "企业", "浙江", "2026-11-20T09:00+08:00", "ignored", "Withdrawn"]],
    )
    plan = plan_import(text, reference, [], IMPORTER, NOW)
    assert plan.errors == []
    (filing,) = plan.filings
    assert (filing.entity_type, filing.province, filing.stage) == (
        EntityType.COMPANY,
        "Zhejiang",
        Stage.WITHDRAWN,
    )


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_gets_a_valid_history_at_the_submission_time(
    reference: Reference, stage: Stage
) -> None:
    at = "2026-11-02T10:00:00+08:00"
    plan = plan_import(
        _csv(HEADER, [["x.cn", "X", "", "Beijing", at, stage.value, "", ""]]),
        reference,
        [],
        IMPORTER,
        NOW,
    )
    (filing,) = plan.filings
    assert filing.stage is stage
    assert filing.entered_at == filing.submitted_at == datetime.fromisoformat(at)
    assert all(t.at == filing.submitted_at for t in filing.history)
    assert filing.history[-1].target is stage
    assert filing.assignee is None


def test_ids_are_kept_checked_and_generated_after_the_highest(
    reference: Reference, demo: list[Filing]
) -> None:
    assert max(f.id for f in demo if f.id.startswith("ICP-2026-")) < "ICP-2026-90000"
    rows = [
        ["a.cn", "A", "", "Beijing", "2026-11-20T10:00+08:00", "", "", ""],
        ["b.cn", "B", "", "Beijing", "2026-11-20T10:00+08:00", "", "", "ICP-2026-90000"],
        ["c.cn", "C", "", "Beijing", "2026-11-20T10:00+08:00", "", "", "icp-42"],
        ["", "F", "", "Beijing", "2026-11-20T10:00+08:00", "", "", "ICP-2026-95000"],
        ["d.cn", "D", "", "Beijing", "2025-03-03T10:00+08:00", "", "", ""],
        ["e.cn", "E", "", "Beijing", "2026-11-20T10:00+08:00", "", "", ""],
    ]
    plan = plan_import(_csv(HEADER, rows), reference, demo, IMPORTER, NOW)
    assert plan.errors == [
        "line 4: id 'icp-42' is not like ICP-2026-00042",
        "line 5: domain is empty",
    ]
    ids = {f.domain: f.id for f in plan.filings}
    # A bad row's id stays reserved (it will be imported once fixed): new ids come after it.
    assert ids == {
        "a.cn": "ICP-2026-95001",
        "b.cn": "ICP-2026-90000",
        "d.cn": ids["d.cn"],
        "e.cn": "ICP-2026-95002",
    }
    assert ids["d.cn"].startswith("ICP-2025-")
    assert plan.generated == {ids["a.cn"], ids["d.cn"], ids["e.cn"]}


def test_same_id_twice_in_a_file_for_different_filings_is_an_error(
    reference: Reference,
) -> None:
    rows = [
        ["a.cn", "A", "", "Beijing", "2026-11-20T10:00+08:00", "", "", "ICP-2026-00001"],
        ["b.cn", "B", "", "Beijing", "2026-11-20T10:00+08:00", "", "", "ICP-2026-00001"],
    ]
    plan = plan_import(_csv(HEADER, rows), reference, [], IMPORTER, NOW)
    assert plan.errors == ["line 3: id ICP-2026-00001 is also on line 2, for another filing"]


def test_times_in_the_future_or_before_entry_are_refused(reference: Reference) -> None:
    later = (NOW + timedelta(hours=1)).isoformat()
    rows = [
        ["a.cn", "A", "", "Beijing", later, "", "", ""],
        ["b.cn", "B", "", "Beijing", "0201-11-20", "", "", ""],
    ]
    plan = plan_import(_csv(HEADER, rows), reference, [], IMPORTER, NOW)
    assert plan.errors == [
        f"line 2: submitted_at {later!r} is in the future",
        "line 3: submitted_at '0201-11-20' is not a plausible year",
    ]
    text = _csv(
        [*HEADER, "entered_at"],
        [
            [
                "c.cn",
                "C",
                "",
                "Beijing",
                "2026-11-20T10:00+08:00",
                "authority_review",
                "",
                "",
                "2026-11-19T10:00+08:00",
            ]
        ],
    )
    plan = plan_import(text, reference, [], IMPORTER, NOW)
    assert plan.errors == ["line 2: entered_at is before submitted_at"]


HOSTILE = {
    # A domain must be a host name (issue 12), so the hostile text is in the other fields.
    "domain": "bold.cn",
    "entity": '=HYPERLINK("http://evil","click") \x1b[31mred\x1b[0m [red]markup[/red]',
    "assignee": "  @alice\u202e  ",
    "ticket": "-1+1",
}


def test_hostile_values_are_stored_exactly_and_survive_an_export(
    tmp_path: Path, reference: Reference
) -> None:
    store = make_store(tmp_path / "db" / "filings.json")
    path = csv_file(
        tmp_path / "in.csv",
        ["domain", "entity", "province", "submitted_at", "assignee", "ticket"],
        [
            [
                HOSTILE["domain"],
                HOSTILE["entity"],
                "Beijing",
                "2026-11-20",
                HOSTILE["assignee"],
                HOSTILE["ticket"],
            ]
        ],
    )
    import_file(store, reference, path)
    (filing,) = stored_filings(fresh(store.path))
    assert (filing.domain, filing.entity, filing.assignee, filing.ticket) == tuple(
        HOSTILE[k] for k in ("domain", "entity", "assignee", "ticket")
    )

    out = tmp_path / "out.csv"
    export_csv(fresh(store.path), reference, out)
    with out.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["entity"].startswith("'=HYPERLINK"), "a spreadsheet must not run it"
    assert row["ticket"] == "'-1+1"
    other = make_store(tmp_path / "other" / "filings.json")
    import_file(other, reference, out)
    assert fresh(other.path).get(filing.id) == filing


def test_import_progress_reports_the_end(tmp_path: Path, reference: Reference) -> None:
    store = make_store(tmp_path / "db" / "filings.json")
    rows = [[f"s{i}.cn", f"S{i}", "", "Beijing", "2026-11-20T10:00+08:00"] for i in range(3)]
    plan = plan_import(_csv(HEADER[:5], rows), reference, [], IMPORTER, NOW)
    calls: list[tuple[int, int]] = []
    assert apply_import(store, plan, progress=lambda *p: calls.append(p)) == 3
    assert calls == [(3, 3)]


def test_an_import_is_one_commit_all_or_nothing(
    tmp_path: Path, reference: Reference, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path / "db" / "filings.json")
    rows = [[f"s{i}.cn", f"S{i}", "", "Beijing", "2026-11-20T10:00+08:00"] for i in range(3)]
    plan = plan_import(_csv(HEADER[:5], rows), reference, [], IMPORTER, NOW)
    before = folder_bytes(store.path.parent)
    real_append = filing_store.append_line

    def disk_full_at_the_last_row(journal: Path, line: bytes, **kw: object) -> None:
        if b"s2.cn" in line:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_append(journal, line, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(filing_store, "append_line", disk_full_at_the_last_row)
    with pytest.raises(StoreError, match="No space left"):
        apply_import(store, plan)
    assert folder_bytes(store.path.parent) == before
    assert fresh(store.path).ids() == []
    monkeypatch.setattr(filing_store, "append_line", real_append)
    assert apply_import(store, plan) == 3
    _header, *lines = journal_path(store.path).read_bytes().splitlines()
    assert len(lines) == 1  # one locked, fsynced append for the whole file
    assert sorted(f.domain for f in stored_filings(fresh(store.path))) == [
        "s0.cn",
        "s1.cn",
        "s2.cn",
    ]


# -- import: a new id is a new filing ------------------------------------------------------------


def _row_of(filing: Filing, filing_id: str) -> list[str]:
    return [
        filing.domain,
        filing.entity,
        filing.entity_type.value,
        filing.province,
        filing.submitted_at.isoformat(),
        "",
        "",
        filing_id,
    ]


def test_a_new_id_on_an_open_filings_domain_is_a_bad_row_not_already_present(
    reference: Reference, demo: list[Filing]
) -> None:
    # QA: a copied row given a new id was counted "1 already present" and vanished silently.
    open_filing = next(f for f in demo if not f.closed)
    text = _csv(HEADER, [_row_of(open_filing, "ICP-2026-09999")])
    plan = plan_import(text, reference, demo, IMPORTER, NOW)
    assert (plan.filings, plan.skipped_duplicates) == ([], 0)
    assert plan.errors == [
        f"line 2: {open_filing.domain} already has an open filing ({open_filing.id}): "
        "a domain gets one open filing at a time"
    ]


def test_a_stored_id_is_already_present_only_with_the_same_filing(
    reference: Reference, demo: list[Filing]
) -> None:
    first, other = demo[0], demo[1]
    same = _csv(HEADER, [_row_of(first, first.id)])
    plan = plan_import(same, reference, demo, IMPORTER, NOW)
    assert (plan.filings, plan.skipped_duplicates, plan.errors) == ([], 1, [])
    clash = _row_of(other, first.id)
    plan = plan_import(_csv(HEADER, [clash]), reference, demo, IMPORTER, NOW)
    assert plan.skipped_duplicates == 0
    assert plan.errors == [f"line 2: id {first.id} is already in the database, for another filing"]
