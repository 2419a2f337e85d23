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
