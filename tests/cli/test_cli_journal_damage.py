"""The command line on a damaged journal: one line naming it, exit 1, then `icp-tui repair`."""

from __future__ import annotations

from cli_helpers import Runner, ok, unchanged, user_error

from icp_tui.store import journal_path


def test_damaged_journal_is_refused_until_repaired(run: Runner) -> None:
    ok(run("demo", "--count", "5"))
    ok(run("note", "ICP-2026-00001", "acknowledged"))
    journal = journal_path(run.db)
    journal.write_bytes(journal.read_bytes() + b"garbage\n")
    same = unchanged(run.db.parent)
    user_error(run("list"), str(journal), "line 3", "icp-tui repair")
    user_error(run("note", "ICP-2026-00001", "next"), str(journal), "line 3")
    same()

    said = ok(run("repair"))
    assert "saved 1 change from" in said and "dropped line 3;" in said and "kept as" in said
    shown = ok(run("show", "ICP-2026-00001"))
    assert "acknowledged" in shown
    ok(run("note", "ICP-2026-00001", "next"))
    assert "nothing to repair" in ok(run("repair"))


def test_a_changed_byte_that_leaves_valid_json_is_refused(run: Runner) -> None:
    """ "n3" becomes "nX" in the last line: still JSON, still a valid filing, but not what was
    written, and the line's checksum says so."""
    ok(run("demo", "--count", "5"))
    for n in range(4):
        ok(run("note", "ICP-2026-00001", f"n{n}"))
    journal = journal_path(run.db)
    data = journal.read_bytes()
    last = data.rindex(b"\n", 0, len(data) - 1) + 1
    assert data.count(b'"n3"', last) == 1
    journal.write_bytes(data[:last] + data[last:].replace(b'"n3"', b'"nX"'))
    same = unchanged(run.db.parent)
    user_error(run("list"), str(journal), "line 5", "checksum", "icp-tui repair")
    user_error(run("show", "ICP-2026-00001"), str(journal), "line 5")
    same()
    said = ok(run("repair"))
    assert "dropped line 5;" in said, said
    shown = ok(run("show", "ICP-2026-00001"))
    assert "n2" in shown and "nX" not in shown and "n3" not in shown
