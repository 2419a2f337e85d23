"""What a QA pass found on the command line: import counts, the mailing detail in `show`,
materials that cannot go back, and the rough edges of issue 13 item 15."""

from __future__ import annotations

from cli_helpers import Runner, as_json, ok, user_error
from test_cli import new_filing


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
    assert "imported 1 filings" in result.stdout
    assert "0 already present; 1 bad rows" in result.stdout
