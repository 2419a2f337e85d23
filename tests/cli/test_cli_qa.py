"""What a QA pass found on the command line: import counts, the mailing detail in `show`,
materials that cannot go back, and the rough edges of issue 13 item 15."""

from __future__ import annotations

from cli_helpers import NOW, USER, Runner, as_json, ok, user_error
from rich.cells import cell_len
from test_cli import new_filing

LAST_YEAR = "2025-11-25T10:00+08:00"


def test_show_gives_the_mailing_address_and_the_materials_state(run: Runner) -> None:
    # DOMAIN.md: the address, addressee, phone and postal code of a filing that needs mailing.
    filing_id = new_filing(run, "Guizhou")
    ok(run("advance", filing_id))
    text = ok(run("show", filing_id))
    assert "materials: pending" in text
    for part in ("Alibaba Cloud Information Authentication Division", "Guiyang City", "550081"):
        assert part in text, part
    assert "18586949808" in text
    assert as_json(run("show", filing_id, "--json"))["materials"] == "pending"
    ok(run("materials", filing_id, "mailed"))
    assert "materials: mailed" in ok(run("show", filing_id))
    ok(run("materials", filing_id, "received"))
    assert as_json(run("show", filing_id, "--json"))["materials"] == "received"


def test_show_has_no_mailing_lines_where_the_province_asks_for_none(run: Runner) -> None:
    filing_id = new_filing(run, "Zhejiang")
    assert "mail to" not in ok(run("show", filing_id))
    assert as_json(run("show", filing_id, "--json"))["materials"] is None


def test_materials_mailed_after_received_is_refused(run: Runner) -> None:
    filing_id = new_filing(run, "Guizhou")
    ok(run("advance", filing_id))
    ok(run("materials", filing_id, "received"))
    user_error(run("materials", filing_id, "mailed"), filing_id, "already received")
    assert as_json(run("show", filing_id, "--json"))["materials"] == "received"


def test_import_of_a_new_id_on_an_open_domain_is_a_bad_row(run: Runner) -> None:
    taken = new_filing(run, domain="taken.cn")
    csv = run.cwd / "rows.csv"
    csv.write_text(
        "id,domain,entity,province,submitted_at\n"
        "ICP-2026-09999,taken.cn,E,Zhejiang,2026-11-25T09:00+08:00\n"
        "ICP-2026-09998,free.cn,E,Zhejiang,2026-11-25T09:00+08:00\n",
        encoding="utf-8",
    )
    result = run("import", str(csv), "--skip-bad")
    assert result.returncode == 0, result.stderr
    assert f"line 2: taken.cn already has an open filing ({taken})" in result.stderr
    assert f"imported 1 filing from {csv}; 0 already present; 1 bad row\n" == result.stdout


# -- issue 13 item 15 (and 7, 13): the command line's rough edges ------------------------------


def test_global_options_are_accepted_after_the_command(run: Runner) -> None:
    elsewhere = run.cwd / "other" / "f.json"
    elsewhere.parent.mkdir()
    said = ok(run("demo", "--count", "30", "--db", str(elsewhere), "--now", NOW, db=None, now=None))
    assert said == f"wrote 30 demo filings to {elsewhere}\n"
    assert len(as_json(run("list", "--json", "--db", str(elsewhere), db=None))) == 30
    # Given after the command, it wins over the one before.
    assert len(as_json(run("list", "--json", "--db", str(elsewhere)))) == 30
    settings = run.cwd / "settings.toml"
    settings.write_text("refresh_seconds = 7\n", encoding="utf-8")
    assert str(settings) in ok(run("config", "--config", str(settings)))


def test_list_help_describes_its_options(run: Runner) -> None:
    text = ok(run("list", "--help"))
    assert "JSON" in text and "only this stage" in text and "only this health" in text


def test_list_has_a_header_the_assignee_and_aligned_columns(run: Runner) -> None:
    first = new_filing(run, domain="a.cn", entity="杭州某某科技有限公司")
    new_filing(run, domain="a-much-longer-domain.example.cn", entity="E")
    ok(run("assign", first, USER))
    header, *rows = ok(run("list")).splitlines()
    assert header.startswith("HEALTH") and "ASSIGNEE" in header
    assert any(USER in row for row in rows if first in row)
    # Each column starts at the same cell on every line (a Chinese character takes two).
    for name, values in [
        ("DOMAIN", ("a.cn", "a-much-longer-domain.example.cn")),
        ("ENTITY", ("杭州某某科技有限公司", "E")),
        ("PROVINCE", ("Zhejiang",)),
    ]:
        column = cell_len(header[: header.index(name)])
        for row in (r + "  " for r in rows):  # the last column is not padded
            value = next(v for v in values if f"  {v}  " in row)
            assert cell_len(row[: row.index(f"  {value}  ") + 2]) == column, row


def test_filing_ids_by_number_alone_and_in_any_case(run: Runner) -> None:
    filing_id = new_filing(run)
    number = str(int(filing_id.rsplit("-", 1)[1]))
    assert as_json(run("show", number, "--json"))["id"] == filing_id
    assert as_json(run("show", filing_id.lower(), "--json"))["id"] == filing_id
    assert ok(run("note", number, "hello")) == f"note added to {filing_id}\n"
    user_error(run("show", "999"), "999")


def test_a_number_two_filings_share_is_refused_naming_both(run: Runner) -> None:
    ok(run("init"))
    ok(run("add", "--domain", "a.cn", "--entity", "E", "--province", "Beijing", now=LAST_YEAR))
    ok(run("add", "--domain", "b.cn", "--entity", "E", "--province", "Beijing"))
    user_error(run("show", "1"), "ICP-2025-00001", "ICP-2026-00001", "whole id")


def test_list_stage_and_health_by_label_prefix_and_hyphen(run: Runner) -> None:
    filing_id = new_filing(run, "Beijing")  # 20 bd: due within 2026, an official year
    for _ in range(5):
        ok(run("advance", filing_id))
    by_id = as_json(run("list", "--json", "--stage", "authority_review"))
    assert [e["id"] for e in by_id] == [filing_id]
    for typed in ("authority", "Authority-Review", "auth"):
        assert as_json(run("list", "--json", "--stage", typed)) == by_id, typed
    assert as_json(run("list", "--json", "--health", "on-track")) == by_id
    assert as_json(run("list", "--json", "--health", "at-risk")) == []
    refused = run("list", "--stage", "a")
    assert refused.returncode == 2 and "ambiguous" in refused.stderr


def test_assigning_a_name_never_seen_warns_but_assigns(run: Runner) -> None:
    filing_id = new_filing(run)
    result = run("assign", filing_id, "nobody-such-user")
    assert result.returncode == 0 and result.stdout == f"{filing_id} assigned to nobody-such-user\n"
    assert result.stderr.count("\n") == 1 and "warning" in result.stderr
    assert "nobody-such-user" in result.stderr
    assert as_json(run("show", filing_id, "--json"))["assignee"] == "nobody-such-user"
    ok(run("assign", filing_id, USER))  # the user who added it: seen, so no warning
    ok(run("assign", filing_id, "nobody-such-user"))  # assigned once: seen now
