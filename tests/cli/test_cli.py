"""The command line, run as a user runs it: `python -m icp_tui ...` in a fresh folder.

Each test has its own tmp_path (see conftest.py); the database lives outside the repository.
"""

from __future__ import annotations

import itertools
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cli_helpers import (
    NOW,
    USER,
    Runner,
    as_json,
    ok,
    snapshot,
    unchanged,
    usage_error,
    user_error,
)

HAPPY_PATH = (
    "preliminary_review",
    "awaiting_photo",
    "photo_review",
    "awaiting_submission",
    "sms_verification",
    "authority_review",
    "approved",
)
HEALTH_RANK = {h: i for i, h in enumerate(("breached", "at_risk", "on_track", "waiting", "done"))}
LIST_KEYS = {"id", "domain", "entity", "province", "stage", "health", "due", "escalate", "version"}
SHOW_KEYS = LIST_KEYS | {"entity_type", "assignee", "ticket", "icp_number", "history", "notes"}
T0 = datetime.fromisoformat("2026-11-25T09:00+08:00")


def at(hours: float) -> str:
    """T0 plus `hours`, as the ISO 8601 text given to --now."""
    return (T0 + timedelta(hours=hours)).isoformat()


def new_filing(run: Runner, province: str = "Zhejiang", *, now: str = NOW, **extra: str) -> str:
    """Create the database if needed, add a filing, return its id (the only thing printed)."""
    if not run.db.exists():
        ok(run("init"))
    args = ["--domain", extra.get("domain", "example.cn"), "--entity", extra.get("entity", "E")]
    out = ok(run("add", *args, "--province", province, now=now))
    filing_id = out.strip()
    assert out == filing_id + "\n" and filing_id and " " not in filing_id, out
    return filing_id


def moved_to(run: Runner, filing_id: str, *args: str, now: str = NOW) -> str:
    """Advance the filing (with `args`); the id of the stage it is now in, as `--json` says."""
    return as_json(run("advance", filing_id, *args, "--json", now=now))["to"]


def show(run: Runner, filing_id: str, now: str = NOW) -> dict:
    """`show --json`; stderr may only say that a year is provisional (a due date in 2027)."""
    result = run("show", filing_id, "--json", now=now)
    assert result.returncode == 0, result.stderr
    assert all("is provisional" in line for line in result.stderr.splitlines()), result.stderr
    return json.loads(result.stdout)


# -- lifecycle -----------------------------------------------------------------------------


def test_add_then_advance_through_every_stage_to_approved(run: Runner) -> None:
    filing_id = new_filing(run, "浙江省", now=at(0), domain="shop.example.cn", entity="杭州示例")
    first = show(run, filing_id, now=at(0))
    assert first["province"] == "Zhejiang"  # the Chinese name is an alias
    assert (first["domain"], first["entity"]) == ("shop.example.cn", "杭州示例")
    assert (first["stage"], first["entity_type"]) == ("preliminary_review", "company")
    reasons = ["", "photo uploaded", "", "passed review", "SMS done", "approved by the CA"]
    for i, (stage, reason) in enumerate(zip(HAPPY_PATH[1:], reasons, strict=True), start=1):
        extra = ["--reason", reason] if reason else []
        if stage == "approved":
            extra += ["--icp-number", "浙ICP备2026000001号-1"]
        assert moved_to(run, filing_id, *extra, now=at(i)) == stage

    final = show(run, filing_id, now=at(7))
    assert final["stage"] == "approved" and final["health"] == "done" and final["due"] is None
    assert final["icp_number"] == "浙ICP备2026000001号-1"
    assert final["version"] > first["version"]
    history = final["history"]
    assert len(history) == 7
    assert [h["to"] for h in history] == list(HAPPY_PATH)
    assert history[0]["from"] is None
    for previous, entry in itertools.pairwise(history):
        assert entry["from"] == previous["to"]
    assert all(h["by"] == USER for h in history)
    assert [h["reason"] for h in history[1:]] == reasons
    assert [datetime.fromisoformat(h["at"]) for h in history] == [
        T0 + timedelta(hours=i) for i in range(7)
    ]
    # A closed filing moves no more: refused, and nothing on disk changes.
    check = unchanged(run.db.parent)
    user_error(run("advance", filing_id, now=at(8)), filing_id)
    check()


def test_withdraw_records_the_reason(run: Runner) -> None:
    filing_id = new_filing(run, "浙江")
    assert moved_to(run, filing_id) == "awaiting_photo"
    withdrawn = ok(run("withdraw", filing_id, "--reason", "duplicate application"))
    assert withdrawn == f"{filing_id} withdrawn from 'await photo' (duplicate application)\n"
    filing = show(run, filing_id)
    assert filing["province"] == "Zhejiang"
    assert filing["stage"] == "withdrawn" and filing["health"] == "done"
    last = filing["history"][-1]
    assert (last["from"], last["to"], last["by"]) == ("awaiting_photo", "withdrawn", USER)
    assert last["reason"] == "duplicate application"
    check = unchanged(run.db.parent)
    user_error(run("withdraw", filing_id, "--reason", "again"), filing_id)
    check()


def test_returned_then_resubmitted(run: Runner) -> None:
    filing_id = new_filing(run)
    assert moved_to(run, filing_id, "--to", "returned", "--reason", "blurry licence") == "returned"
    assert moved_to(run, filing_id, now=at(30)) == "preliminary_review"
    history = show(run, filing_id, now=at(30))["history"]
    assert [(h["from"], h["to"]) for h in history[1:]] == [
        ("preliminary_review", "returned"),
        ("returned", "preliminary_review"),
    ]
    # Not one of reasons.toml's reasons: kept as free text after "other" (issue 12).
    assert history[1]["reason"] == "other: blurry licence"


def test_forbidden_transition_is_refused_and_changes_nothing(run: Runner) -> None:
    filing_id = new_filing(run)
    check = unchanged(run.db.parent)
    line = user_error(run("advance", filing_id, "--to", "approved"), filing_id)
    assert "approved" in line
    # Withdrawal has its own command (it needs a reason).
    user_error(run("advance", filing_id, "--to", "withdrawn"))
    usage_error(run("advance", filing_id, "--to", "no_such_stage"))
    check()
    assert show(run, filing_id)["stage"] == "preliminary_review"


def test_no_withdrawal_once_with_the_communications_administration(run: Runner) -> None:
    filing_id = new_filing(run)
    for stage in HAPPY_PATH[1:5]:
        assert moved_to(run, filing_id) == stage
    for stage in ("sms_verification", "authority_review"):
        check = unchanged(run.db.parent)
        result = run("withdraw", filing_id, "--reason", "applicant request")
        line = user_error(result, filing_id, "communications administration")
        assert "withdrawn" in line.casefold()
        check()
        if stage == "sms_verification":
            assert moved_to(run, filing_id) == "authority_review"
    assert show(run, filing_id)["stage"] == "authority_review"


def test_withdraw_needs_a_reason(run: Runner) -> None:
    filing_id = new_filing(run)
    check = unchanged(run.db.parent)
    usage_error(run("withdraw", filing_id))
    user_error(run("withdraw", filing_id, "--reason", "   "))
    check()


# -- list ----------------------------------------------------------------------------------


def entered_at(db: Path, ids: list[str]) -> dict[str, datetime]:
    """When each filing entered its stage, read with the project's own store (the CLI's way:
    load, then get), since `list --json` does not show it."""
    from icp_tui.store import FilingStore

    store = FilingStore(db)
    store.load()
    return {filing_id: store.get(filing_id).entered_at for filing_id in ids}


def test_list_is_most_urgent_first_on_demo_data(run: Runner) -> None:
    assert ok(run("demo", "--count", "60", "--seed", "3")).strip()
    entries = as_json(run("list", "--json"))
    assert isinstance(entries, list) and len(entries) == 60
    assert len({e["id"] for e in entries}) == 60
    for e in entries:
        assert e.keys() >= LIST_KEYS, e
        assert isinstance(e["escalate"], bool) and isinstance(e["version"], int)
        if e["due"] is not None:
            assert datetime.fromisoformat(e["due"]).utcoffset() is not None, e["due"]
    # Demo data is spread over every stage and every health.
    assert {e["health"] for e in entries} == set(HEALTH_RANK)
    assert {e["stage"] for e in entries} == {
        *HAPPY_PATH,
        "returned",
        "rejected",
        "withdrawn",
    }

    ranks = [HEALTH_RANK[e["health"]] for e in entries]
    assert ranks == sorted(ranks)
    entered = entered_at(run.db, [e["id"] for e in entries if e["health"] in ("waiting", "done")])

    def group(health: str) -> list[dict]:
        return [e for e in entries if e["health"] == health]

    for health in ("breached", "at_risk", "on_track"):
        keys = [(datetime.fromisoformat(e["due"]), e["id"]) for e in group(health)]
        assert keys == sorted(keys), health  # overdue longest / due soonest first, then id
    waiting = [(entered[e["id"]], e["id"]) for e in group("waiting")]
    assert waiting == sorted(waiting)  # waiting longest first
    done = [(-entered[e["id"]].timestamp(), e["id"]) for e in group("done")]
    assert done == sorted(done)  # most recently closed first

    # Filters keep the order of the full list.
    by_stage = as_json(run("list", "--json", "--stage", "authority_review"))
    assert by_stage == [e for e in entries if e["stage"] == "authority_review"] != []
    by_health = as_json(run("list", "--json", "--health", "breached"))
    assert by_health == group("breached") != []
    both = as_json(run("list", "--json", "--stage", "photo_review", "--health", "on_track"))
    assert both == [
        e for e in entries if e["stage"] == "photo_review" and e["health"] == "on_track"
    ]
    # The text listing has a header, then one line per filing, in the same order.
    header, *lines = ok(run("list")).splitlines()
    assert header.split() == [
        "HEALTH",
        "ID",
        "STAGE",
        "DUE/LEFT",
        "ASSIGNEE",
        "DOMAIN",
        "ENTITY",
        "PROVINCE",
        "FLAGS",
    ]
    assert [next(w for w in line.split() if w.startswith("ICP-")) for line in lines] == [
        e["id"] for e in entries
    ]
    usage_error(run("list", "--health", "purple"))
    usage_error(run("list", "--stage", "nowhere"))


# -- show and notes ------------------------------------------------------------------------

HOSTILE_NOTES = (
    "[red]x[/red]",
    "\x1b[31mred",
    "abc\u202edef.exe",
    "申请人已补充营业执照扫描件，请复核。",
)


def test_show_json_and_hostile_notes(run: Runner) -> None:
    # A domain must be a host name (issue 12): the hostile one is refused, inertly.
    ok(run("init"))
    hostile = ("--domain", "\x1b]0;owned\x07evil.cn", "--entity", "E", "--province", "Beijing")
    refused = user_error(run("add", *hostile), "not a domain name")
    assert "\x1b" not in refused and "\x07" not in refused
    filing_id = new_filing(run, domain="evil.cn", entity="\u202eevil entity")
    for i, text in enumerate(HOSTILE_NOTES):  # notes from 15:00, when the filing came in
        assert ok(run("note", filing_id, text, now=at(6 + i))).strip()
    filing = show(run, filing_id, now=at(11))
    assert filing.keys() >= SHOW_KEYS
    assert filing["id"] == filing_id and filing["domain"] == "evil.cn"
    assert filing["entity"] == "\u202eevil entity"
    assert isinstance(filing["history"], list) and isinstance(filing["notes"], list)
    assert [n["text"] for n in filing["notes"]] == list(HOSTILE_NOTES)
    assert all(n["by"] == USER for n in filing["notes"])
    assert [datetime.fromisoformat(n["at"]) for n in filing["notes"]] == [
        T0 + timedelta(hours=6 + i) for i in range(4)
    ]
    # Each note is in the audit trail too, recorded in the stage the filing was in.
    recorded = [h for h in filing["history"] if h["from"] == h["to"]]
    assert [(h["by"], h["reason"]) for h in recorded] == [(USER, "note added")] * 4
    assert set(filing["history"][0]) >= {"at", "by", "from", "to", "reason"}

    text = ok(run("show", filing_id, now=at(11)))
    listing = ok(run("list", now=at(11)))
    raw_json = ok(run("show", filing_id, "--json", now=at(11)))
    for output in (text, listing, raw_json):
        assert "\x1b" not in output and "\u202e" not in output and "\x07" not in output
    assert "[red]x[/red]" in text  # shown as typed, not interpreted
    assert HOSTILE_NOTES[3] in text
    assert USER in text


def test_now_takes_any_offset_and_defaults_to_beijing_time(run: Runner) -> None:
    utc = new_filing(run, now="2026-11-25T01:00:00Z")
    local = new_filing(run, now="2026-11-25T09:00", domain="other.example.cn")
    for filing_id in (utc, local):
        entered = show(run, filing_id)["history"][0]["at"]
        assert datetime.fromisoformat(entered) == T0, entered
    for bad in ("garbage", "2026-02-30", "9999-12-31"):
        user_error(run("list", now=bad), "--now")


# -- calendar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        # DOMAIN.md's example: Saturday 2026-02-14 was an adjusted working day.
        (("due", "2026-02-13T17:00+08:00", "1"), "2026-02-14T23:59:59+08:00"),
        # Spring Festival 2026: 15 to 23 February off, 24 back at work, Sat 28 worked.
        (("due", "2026-02-13T17:00+08:00", "2"), "2026-02-24T23:59:59+08:00"),
        (("due", "2026-02-16T10:00+08:00", "1"), "2026-02-24T23:59:59+08:00"),
        (("due", "2026-02-24T09:00+08:00", "4"), "2026-02-28T23:59:59+08:00"),
        # National Day 2026: 1 to 7 October off; Sun 20 September and Sat 10 October worked.
        (("due", "2026-09-30T10:00+08:00", "1"), "2026-10-08T23:59:59+08:00"),
        (("due", "2026-09-19T10:00+08:00", "1"), "2026-09-20T23:59:59+08:00"),
        (("due", "2026-10-09T18:00+08:00", "1"), "2026-10-10T23:59:59+08:00"),
        # Without an offset a time is Beijing time; with one, it is converted to Beijing time.
        (("due", "2026-02-13T17:00", "1"), "2026-02-14T23:59:59+08:00"),
        (("due", "2026-02-13T17:00Z", "1"), "2026-02-24T23:59:59+08:00"),
        (("elapsed", "2026-02-13T17:00+08:00", "2026-02-24T09:00+08:00"), "2"),
        (("elapsed", "2026-09-30", "2026-10-09"), "2"),
        (("elapsed", "2026-02-13T08:00+08:00", "2026-02-13T23:00+08:00"), "0"),
        (("workday", "2026-02-14"), "true"),
        (("workday", "2026-02-16"), "false"),
        (("workday", "2026-10-10"), "true"),
        (("workday", "2026-10-01"), "false"),
        (("workday", "2026-02-14T23:30-05:00"), "false"),  # Sunday 15 Feb in Beijing
    ],
)
def test_calendar(run: Runner, args: tuple[str, ...], answer: str) -> None:
    assert ok(run("calendar", *args, db=None, now=None)) == answer + "\n"


def test_calendar_warns_about_a_year_without_a_schedule(run: Runner) -> None:
    for args, answer in [
        (("workday", "2027-03-03"), "true"),
        (("workday", "2027-03-06"), "false"),
        # Provisional (issue 12): the statutory holidays, so Friday 1 January 2027 (New
        # Year's Day) is not a business day; with a warning.
        (("due", "2026-12-31T10:00+08:00", "1"), "2027-01-04T23:59:59+08:00"),
        (("elapsed", "2026-12-30", "2027-01-05"), "3"),
        (("workday", "2027-02-08"), "false"),  # Spring Festival, lunar date computed
    ]:
        result = run("calendar", *args, db=None, now=None)
        assert result.returncode == 0, result.stderr
        assert result.stdout == answer + "\n", args
        assert "Traceback" not in result.stderr
        warning = result.stderr.strip()
        assert "2027" in warning and "holidays.toml" in warning, warning
        assert len(warning.splitlines()) == 1, warning


@pytest.mark.parametrize(
    "args",
    [
        ("workday", "2026-02-30"),
        ("workday", "tomorrow"),
        ("workday", "14/02/2026"),
        ("workday", ""),
        ("due", "not a date", "1"),
        ("due", "2026-02-13T17:00+08:00", "0"),
        ("elapsed", "2026-02-13", "2026-13-01"),
        ("workday", "0001-01-01"),
        ("workday", "9999-12-31"),
        ("due", "9999-12-30", "1"),
        ("due", "2026-02-13", "100000000"),
    ],
)
def test_calendar_bad_input_is_one_line(run: Runner, args: tuple[str, ...]) -> None:
    user_error(run("calendar", *args, db=None, now=None))


def test_calendar_usage_errors(run: Runner) -> None:
    usage_error(run("calendar", "due", "2026-02-13", "one", db=None, now=None))
    usage_error(run("calendar", "due", "2026-02-13", db=None, now=None))
    usage_error(run("calendar", "leap", db=None, now=None))


# -- errors --------------------------------------------------------------------------------


def test_unknown_id_is_named_and_changes_nothing(run: Runner) -> None:
    new_filing(run)
    check = unchanged(run.db.parent)
    for args in [
        ("show", "ICP-2099-99999"),
        ("show", "ICP-2099-99999", "--json"),
        ("advance", "ICP-2099-99999"),
        ("withdraw", "ICP-2099-99999", "--reason", "other"),
        ("note", "ICP-2099-99999", "hello"),
        ("ticket", "ICP-2099-99999", "T-1"),
    ]:
        user_error(run(*args), "ICP-2099-99999")
    check()


def test_missing_database_says_how_to_create_one(run: Runner, tmp_path: Path) -> None:
    check = unchanged(tmp_path)
    for args in [("list",), ("show", "ICP-2026-00001"), ("note", "ICP-2026-00001", "x")]:
        user_error(run(*args), str(run.db.name), "init")
    user_error(run("add", "--domain", "a.cn", "--entity", "A", "--province", "Beijing"), "init")
    # The default database is data/filings.json under the current folder.
    user_error(run("list", db=None), "data/filings.json", "init")
    check()


def truncated_database(run: Runner) -> bytes:
    ok(run("demo", "--count", "5"))
    data = run.db.read_bytes()
    return data[: len(data) * 2 // 3]


@pytest.mark.parametrize("kind", ["empty", "garbage", "truncated"])
def test_unreadable_database_is_one_line_and_left_alone(run: Runner, kind: str) -> None:
    if kind == "truncated":
        content = truncated_database(run)
        for extra in run.db.parent.iterdir():
            if extra != run.db:
                extra.unlink()
    else:
        content = b"" if kind == "empty" else b"\x00\xff\xfegarbage{\x1b[2J"
    run.db.parent.mkdir(parents=True, exist_ok=True)
    run.db.write_bytes(content)
    check = unchanged(run.db.parent)
    commands = [
        ("list",),
        ("list", "--json"),
        ("show", "ICP-2026-00001"),
        ("note", "ICP-2026-00001", "x"),
        ("add", "--domain", "a.cn", "--entity", "A", "--province", "Beijing"),
    ]
    if kind != "empty":  # an empty (0-byte) file holds nothing that demo could lose
        commands += [("demo", "--count", "3"), ("init",)]
    for args in commands:
        line = user_error(run(*args))
        assert "\x1b" not in line
    check()


def test_usage_errors_exit_2(run: Runner) -> None:
    new_filing(run)
    check = unchanged(run.db.parent)
    # The exit status the shell sees, so a real process for one of them.
    usage_error(run.process("list", "--bogus"))
    usage_error(run("--bogus", "list"))
    usage_error(run("frobnicate"))
    usage_error(run("show"))
    usage_error(run("add", "--entity", "A", "--province", "Beijing"))
    usage_error(
        run("add", "--domain", "a", "--entity", "A", "--province", "Beijing", "--entity-type", "x")
    )
    usage_error(run("note", "ICP-2026-00001"))
    check()


def test_init_twice_and_demo_overwrite(run: Runner) -> None:
    assert ok(run("init")).strip()
    assert as_json(run("list", "--json")) == []
    check = unchanged(run.db.parent)
    user_error(run("init"), str(run.db.name))
    check()
    # An empty database may be filled with demo data without --force.
    ok(run("demo", "--count", "4", "--seed", "1"))
    assert len(as_json(run("list", "--json"))) == 4
    new_filing(run, domain="keep-me.cn")
    check = unchanged(run.db.parent)
    user_error(run("demo", "--count", "3"), "--force")
    user_error(run("init"))
    check()
    assert len(as_json(run("list", "--json"))) == 5
    ok(run("demo", "--count", "3", "--seed", "2", "--force"))
    replaced = as_json(run("list", "--json"))
    assert len(replaced) == 3 and all(e["domain"] != "keep-me.cn" for e in replaced)


def test_demo_creates_the_database_and_its_folder(run: Runner) -> None:
    db = run.cwd / "new" / "sub" / "f.json"
    ok(run("demo", "--count", "10", "--seed", "5", db=db))
    assert len(as_json(run("list", "--json", db=db))) == 10
    user_error(run("demo", "--count", "-1", "--force", db=db))


def test_add_refuses_an_unknown_province(run: Runner) -> None:
    ok(run("init"))
    check = unchanged(run.db.parent)
    for province in ("Atlantis", "", "浙江省省"):
        user_error(run("add", "--domain", "a.cn", "--entity", "A", "--province", province))
    check()
    filing_id = new_filing(run, "  zhejiang ")
    assert show(run, filing_id)["province"] == "Zhejiang"


def test_db_option_and_environment_variable(run: Runner, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    by_option = tmp_path / "elsewhere" / "a.json"
    by_env = tmp_path / "other" / "b.json"
    env = {"ICP_TUI_DB": str(by_env)}
    add = ("add", "--entity", "E", "--province", "Beijing", "--domain")

    ok(run("init", db=by_option, cwd=work))
    ok(run(*add, "option.cn", db=by_option, cwd=work))
    ok(run("init", db=None, env=env, cwd=work))
    ok(run(*add, "env.cn", db=None, env=env, cwd=work))

    def domains(**where) -> list[str]:
        return [e["domain"] for e in as_json(run("list", "--json", cwd=work, **where))]

    assert domains(db=by_option) == ["option.cn"]
    assert domains(db=None, env=env) == ["env.cn"]
    assert domains(db=by_option, env=env) == ["option.cn"]  # --db wins over $ICP_TUI_DB
    assert snapshot(work) == {}  # nothing written in the current folder
    # Without either, data/filings.json under the current folder.
    ok(run("init", db=None, cwd=work))
    assert (work / "data" / "filings.json").is_file()
    assert domains(db=None) == []
    # A path that cannot name a database file is one line, not a traceback.
    user_error(run("list", db="", cwd=work), "not a database file")
    user_error(run("list", db=None, env={"ICP_TUI_DB": "/"}, cwd=work), "ICP_TUI_DB")


# -- concurrency ---------------------------------------------------------------------------


def test_parallel_notes_are_all_kept(run: Runner) -> None:
    """Two writers, each adding 10 notes one after the other, at the same time as each other.

    The notes are long, so the journal passes its compaction threshold during the run: writers
    compact while the other one appends.
    """
    filing_id = new_filing(run)
    version = show(run, filing_id)["version"]
    padding = " " + "备注" * 2000
    failures: list[tuple[int | None, str, str]] = []

    def writer(name: str) -> None:
        for i in range(10):
            process = run.popen("note", filing_id, f"{name} note {i}{padding}")
            out, err = process.communicate(timeout=60)
            if process.returncode != 0 or err:
                failures.append((process.returncode, out, err))

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    filing = show(run, filing_id)
    notes = [n["text"] for n in filing["notes"]]
    assert len(notes) == 20
    for name in ("first", "second"):  # all there, each writer's in its own order
        mine = [t for t in notes if t.startswith(name)]
        assert mine == [f"{name} note {i}{padding}" for i in range(10)]
    assert all(n["by"] == USER for n in filing["notes"])
    assert filing["version"] == version + 20


def test_materials_are_recorded_from_the_command_line(run: Runner) -> None:
    filing_id = new_filing(run, "Guizhou")
    ok(run("advance", filing_id))  # awaiting the photo and, in Guizhou, mailed materials
    said = ok(run("materials", filing_id, "received"))
    assert said == f"materials received recorded on {filing_id}\n"
    checklist = show(run, filing_id)["checklist"]
    assert checklist["materials_received"] and checklist["materials_mailed"]
    before = snapshot(run.db.parent)
    usage_error(run("materials", filing_id, "sent"))
    for _ in range(4):  # on to the authority: materials are no longer awaited
        ok(run("advance", filing_id))
    ok(run("advance", filing_id, "--icp-number", "黔ICP备2026012345号"))
    after_moves = snapshot(run.db.parent)
    user_error(run("materials", filing_id, "mailed"), "communications administration")
    assert snapshot(run.db.parent) == after_moves != before
