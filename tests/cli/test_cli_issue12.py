"""Issue 12 through the command line: ordered history, tickets per submission, provisional
2027, ICP numbers, reasons, SMS resends, expiry, domains and import, as a user runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_helpers import Runner, as_json, ok, unchanged, user_error


def add(run: Runner, now: str, domain: str = "example.cn", province: str = "Beijing") -> str:
    if not run.db.exists():
        ok(run("init"))
    return ok(run("add", "--domain", domain, "--entity", "E", "--province", province, now=now))[:-1]


def listed(run: Runner, now: str) -> dict[str, dict]:
    result = run("list", "--json", now=now)
    assert result.returncode == 0, result.stderr
    return {row["id"]: row for row in json.loads(result.stdout)}


def provisional_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if "2027 is provisional" in line]


def test_a_back_dated_change_is_refused_and_the_verdict_stays_right(run: Runner) -> None:
    filing_id = add(run, "2026-03-02T09:00")
    ok(run("advance", filing_id, now="2026-03-02T10:00"))
    ok(run("advance", filing_id, now="2026-03-12T10:00"))
    check = unchanged(run.db.parent)
    line = user_error(
        run("note", filing_id, "x", now="2026-03-02T12:00"),
        filing_id,
        "2026-03-12 10:00",
        "2026-03-02 12:00",
    )
    assert "nothing was changed" in line
    check()
    row = listed(run, "2026-03-13T10:00")[filing_id]
    assert row["escalate"] is False  # 1 bd of Alibaba Cloud review, not 9


def test_a_change_stamped_ahead_of_the_clock_is_refused_but_reading_ahead_is_not(
    run: Runner,
) -> None:
    filing_id = add(run, "2026-11-25T09:00")
    check = unchanged(run.db.parent)
    user_error(run("advance", filing_id, now="2030-01-01T09:00"), "ahead of the clock")
    user_error(run("note", filing_id, "x", now="2030-01-01T09:00"), "ahead of the clock")
    check()
    assert listed(run, "2030-01-01T09:00")[filing_id]["health"] == "breached"


def test_a_resubmission_needs_a_new_ticket(run: Runner) -> None:
    filing_id = add(run, "2026-03-02T09:00")
    ok(run("ticket", filing_id, "TK-1", now="2026-03-06T09:00"))
    ok(run("advance", filing_id, "--to", "returned", "--reason", "materials missing",
           now="2026-03-06T11:00"))  # fmt: skip
    ok(run("advance", filing_id, now="2026-03-09T10:00"))
    row = listed(run, "2026-03-13T10:00")[filing_id]
    assert (row["escalate"], row["ticket"]) == (True, None)
    assert "needs ticket" in ok(run("list", now="2026-03-13T10:00"))
    shown = as_json(run("show", filing_id, "--json", now="2026-03-13T10:00"))
    assert shown["submissions"] == 2
    assert any(h["reason"] == "ticket TK-1" for h in shown["history"])
    report = as_json(run("report", "--format", "json", now="2026-03-13T10:00"))
    assert [t["id"] for t in report["needs_ticket"]] == [filing_id]


def test_every_output_in_a_provisional_year_says_so(run: Runner, tmp_path: Path) -> None:
    # Zhejiang's authority review takes 30 bd: entered 2026-11-25, due in January 2027.
    filing_id = add(run, "2026-11-25T09:00", province="Zhejiang")
    for hour in (10, 11, 12, 13, 14):
        ok(run("advance", filing_id, now=f"2026-11-25T{hour}:00"))
    now = "2026-11-25T15:00"
    listing = run("list", now=now)
    assert len(provisional_lines(listing)) == 1
    result = run("list", "--json", now=now)
    assert len(provisional_lines(result)) == 1
    (row,) = json.loads(result.stdout)
    assert row["provisional_years"] == [2027]
    answer = run("calendar", "due", "2026-11-25T14:00", "30", db=None, now=None)
    assert len(provisional_lines(answer)) == 1
    assert row["due"] == answer.stdout.strip() == "2027-01-07T23:59:59+08:00"
    shown = run("show", filing_id, "--json", now=now)
    assert len(provisional_lines(shown)) == 1
    assert json.loads(shown.stdout)["provisional_years"] == [2027]
    assert len(provisional_lines(run("show", filing_id, now=now))) == 1
    exported = run("export", now=now)
    assert len(provisional_lines(exported)) == 1
    header, line = exported.stdout.splitlines()[:2]
    assert "provisional_years" in header.split(",") and ",2027," in line
    report = ok(run("report", now=now))
    assert "2027 is provisional" in report
    assert as_json(run("report", "--format", "json", now=now))["provisional_years"] == [2027]

    # The official schedule in the team's data folder makes 2027 official: no more warnings.
    data = tmp_path / "team-data"
    data.mkdir()
    (data / "holidays.toml").write_text(
        "[2027]\nholidays = [2027-01-01, 2027-02-05, 2027-02-06, 2027-02-07, 2027-02-08]\n",
        encoding="utf-8",
    )
    official = run("list", "--json", now=now, env={"ICP_TUI_DATA": str(data)})
    assert official.returncode == 0 and official.stderr == "", official.stderr
    assert json.loads(official.stdout)[0]["provisional_years"] == []


def test_approval_records_a_checked_icp_number(run: Runner) -> None:
    filing_id = add(run, "2026-11-20T09:00", province="Zhejiang")
    for hour in (10, 11, 12, 13, 14):
        ok(run("advance", filing_id, now=f"2026-11-20T{hour}:00"))
    check = unchanged(run.db.parent)
    user_error(run("advance", filing_id, now="2026-11-25T09:00"), "ICP number")
    user_error(
        run("advance", filing_id, "--icp-number", "京ICP备2026012345号", now="2026-11-25T09:00"),
        "expected 浙ICP备",
    )
    check()
    said = run(
        "advance", filing_id, "--icp-number", "浙ICP备2026012345号-1", now="2026-11-25T09:00"
    )
    said_to = f"{filing_id} moved from 'authority' to 'approved' (ICP number 浙ICP备2026012345号-1)"
    assert said.stdout == said_to + "\n", said.stderr
    shown = as_json(run("show", filing_id, "--json", now="2026-11-25T10:00"))
    assert shown["icp_number"] == "浙ICP备2026012345号-1"
    assert "ICP no.:   浙ICP备2026012345号-1" in ok(run("show", filing_id, now="2026-11-25T10:00"))


def test_returning_needs_a_reason_listed_or_other(run: Runner) -> None:
    filing_id = add(run, "2026-11-20T09:00")
    check = unchanged(run.db.parent)
    user_error(run("advance", filing_id, "--to", "returned", now="2026-11-20T10:00"), "reason")
    check()
    ok(run("advance", filing_id, "--to", "returned", "--reason", "Materials Missing",
           now="2026-11-20T10:00"))  # fmt: skip
    ok(run("advance", filing_id, now="2026-11-21T10:00"))
    ok(run("advance", filing_id, "--to", "returned", "--reason", "logo too small",
           now="2026-11-21T11:00"))  # fmt: skip
    history = as_json(run("show", filing_id, "--json", now="2026-11-22T10:00"))["history"]
    reasons = [h["reason"] for h in history if h["to"] == "returned"]
    assert reasons == ["materials missing", "other: logo too small"]


def test_a_resent_sms_restarts_the_24_hours(run: Runner) -> None:
    filing_id = add(run, "2026-11-20T09:00")
    for hour in (10, 11, 12, 13):
        ok(run("advance", filing_id, now=f"2026-11-20T{hour}:00"))
    assert listed(run, "2026-11-21T13:30")[filing_id]["health"] == "breached"
    assert listed(run, "2026-11-21T13:30")[filing_id]["expires_at"] is None  # submitted
    user_error(run("sms-resent", "ICP-2026-99999", now="2026-11-21T12:00"))
    said = ok(run("sms-resent", filing_id, now="2026-11-21T12:00"))
    assert filing_id in said
    row = listed(run, "2026-11-21T13:30")[filing_id]
    assert (row["health"], row["left"]) == ("on_track", "22 h left")
    shown = as_json(run("show", filing_id, "--json", now="2026-11-21T13:30"))
    assert [a["at"] for a in shown["sms_attempts"]] == [
        "2026-11-20T13:00:00+08:00",
        "2026-11-21T12:00:00+08:00",
    ]


def test_order_expiry_is_listed(run: Runner) -> None:
    filing_id = add(run, "2026-10-20T09:00")
    row = listed(run, "2026-11-25T15:00")[filing_id]
    assert row["expires_at"] == "2026-12-04T09:00:00+08:00"
    assert row["expiry"] == "expires in 9 d"
    assert "expires in 9 d" in ok(run("list", now="2026-11-25T15:00"))
    report = as_json(run("report", "--format", "json", now="2026-11-30T15:00"))
    assert [e["id"] for e in report["expiring"]] == [filing_id]
    ok(run("withdraw", filing_id, "--reason", "order expired", now="2026-11-25T15:00"))


def test_domains_are_checked_and_one_open_filing_each(run: Runner) -> None:
    first = add(run, "2026-11-20T09:00", domain="例子.中国")
    check = unchanged(run.db.parent)
    line = user_error(
        run(
            "add",
            "--domain",
            "xn--fsqu00a.xn--fiqs8s",
            "--entity",
            "E",
            "--province",
            "Beijing",
            now="2026-11-20T10:00",
        ),
        first,
        "already has an open filing",
    )
    assert "例子.中国" in line
    for bad in ("not a domain", "http://x.cn", "x_y.cn"):
        user_error(
            run("add", "--domain", bad, "--entity", "E", "--province", "Beijing"),
            "not a domain name",
        )
    check()
    assert as_json(run("show", first, "--json"))["domain"] == "例子.中国"
    other = add(run, "2026-11-20T11:00", domain="another.cn")  # the same entity, E
    assert other != first
    ok(run("withdraw", first, "--reason", "duplicate application", now="2026-11-20T12:00"))
    add(run, "2026-11-20T13:00", domain="例子.中国")  # closed: the domain may file again


def test_an_imported_row_is_not_escalated_by_made_up_review_days(
    run: Runner, tmp_path: Path
) -> None:
    ok(run("init"))
    path = tmp_path / "in.csv"
    path.write_text(
        "domain,entity,province,stage,submitted_at,entered_at\n"
        "a.cn,A Co,Beijing,awaiting_submission,2026-03-02T09:00,2026-03-10T09:00\n",
        encoding="utf-8",
    )
    ok(run("import", str(path), now="2026-03-10T12:00"))
    (row,) = listed(run, "2026-03-10T12:00").values()
    assert (row["escalate"], row["health"]) == (False, "on_track")
