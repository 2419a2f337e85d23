"""What a user trial found on the command line: `advance --to` by label, `config` before the
database exists, stage labels (not ids) in what people read, plurals, and `show` saying what
the detail pane says."""

from __future__ import annotations

import json
import re
import shlex
import subprocess

import pytest
from cli_helpers import NOW, Runner, as_json, ok, unchanged, user_error
from test_cli import new_filing


@pytest.mark.parametrize(
    ("typed", "stage"),
    [("photo", "photo_review"), ("Photo-Review", "photo_review"), ("photo review", "photo_review")],
)
def test_advance_to_takes_a_label_or_a_prefix_as_list_stage_does(
    run: Runner, typed: str, stage: str
) -> None:
    filing_id = new_filing(run)
    ok(run("advance", filing_id))  # waiting for the photo
    assert as_json(run("advance", filing_id, "--to", typed, "--json"))["to"] == stage
    assert as_json(run("list", "--json", "--stage", typed))[0]["id"] == filing_id


@pytest.mark.parametrize(
    ("typed", "said"),
    [("a", "stage 'a' is ambiguous: it could be"), ("nowhere", "unknown stage 'nowhere'")],
)
def test_advance_to_an_ambiguous_or_unknown_stage_says_so_in_one_line(
    run: Runner, typed: str, said: str
) -> None:
    filing_id = new_filing(run)
    check = unchanged(run.db.parent)
    refused = run("advance", filing_id, "--to", typed)
    assert refused.returncode == 2 and refused.stdout == "", refused
    errors = [line for line in refused.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and said in errors[0], refused.stderr
    assert errors[0] == refused.stderr.splitlines()[-1]  # the last line: nothing after it
    check()


def test_config_before_the_database_exists_does_not_say_sharing_is_ok(run: Runner) -> None:
    sharing = [line for line in ok(run("config")).splitlines() if line.startswith("sharing")]
    assert len(sharing) == 1 and "ok" not in sharing[0].split(), sharing
    assert "no database there yet" in sharing[0] and "icp-tui init" in sharing[0]
    ok(run("init"))
    checked = ok(run("config"))  # once it exists, its files are checked
    assert "\nsharing " in checked and "no database there yet" not in checked


def test_messages_and_show_name_stages_by_their_labels_and_json_keeps_ids(run: Runner) -> None:
    filing_id = new_filing(run)
    refused = user_error(run("advance", filing_id, "--to", "approved"))
    assert refused.endswith(
        f"{filing_id} cannot move from 'preliminary' to 'approved' "
        "(allowed: 'await photo', 'returned')"
    )
    for _ in range(4):
        ok(run("advance", filing_id))  # into the SMS check
    said = user_error(run("withdraw", filing_id, "--reason", "applicant request"))
    assert "(now in 'SMS check')" in said and "sms_verification" not in said
    text = ok(run("show", filing_id))
    assert "photo review -> to submit" in text
    assert not any(stage in text for stage in ("_review", "awaiting_", "sms_verification"))
    history = as_json(run("show", filing_id, "--json"))["history"]
    assert (history[-1]["from"], history[-1]["to"]) == ("awaiting_submission", "sms_verification")


def test_counts_of_one_are_singular(run: Runner) -> None:
    filing_id = new_filing(run)
    csv = run.cwd / "rows.csv"
    csv.write_text(
        "id,domain,entity,province,submitted_at\n"
        "ICP-2026-09999,example.cn,E,Zhejiang,2026-11-25T09:00+08:00\n"
        "ICP-2026-09998,free.cn,E,Zhejiang,2026-11-25T09:00+08:00\n",
        encoding="utf-8",
    )
    result = run("import", str(csv), "--skip-bad")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"imported 1 filing from {csv}; 0 already present; 1 bad row\n"
    for _ in range(4):
        ok(run("advance", filing_id))  # into the SMS check: sent once
    text = ok(run("show", filing_id))
    assert "history:   1 submission\n" in text and "SMS sent:  1 time:" in text
    out = run.cwd / "one.csv"
    exported = run("export", "--query", "free.cn", "-o", str(out))
    assert exported.returncode == 0 and exported.stderr == f"wrote 1 filing to {out}\n"
    assert "\n2 filings:" in ok(run("report"))  # and plural for more than one


def test_show_keeps_the_ticket_after_the_move_to_the_sms_check(run: Runner) -> None:
    filing_id = new_filing(run)
    for _ in range(3):
        ok(run("advance", filing_id))  # ready to submit
    ok(run("ticket", filing_id, "TK-42"))
    assert "ticket:    TK-42\n" in ok(run("show", filing_id))
    ok(run("advance", filing_id))  # submitted: the ticket still belongs to this submission
    assert "ticket:    TK-42\n" in ok(run("show", filing_id))


# -- the second trial ---------------------------------------------------------------------


def test_advance_says_the_move_by_labels_and_its_json_keeps_the_ids(run: Runner) -> None:
    filing_id = new_filing(run)
    said = ok(run("advance", filing_id))
    assert said == f"{filing_id} moved from 'preliminary' to 'await photo'\n"
    moved = as_json(run("advance", filing_id, "--json"))
    assert (moved["id"], moved["from"], moved["to"]) == (
        filing_id,
        "awaiting_photo",
        "photo_review",
    )
    assert moved["version"] == as_json(run("show", filing_id, "--json"))["version"]
    returned = ok(run("advance", filing_id, "--to", "returned", "--reason", "Materials Missing"))
    assert returned == f"{filing_id} moved from 'photo review' to 'returned' (materials missing)\n"
    # The help says which output is for whom, and no longer promises an id in the text.
    assert "prints the new stage id" not in ok(run("--help"))
    helped = " ".join(ok(run("advance", "--help")).split())
    assert "--json JSON for scripts" in helped and "from, to: stage ids" in helped


def test_a_closed_filing_says_when_it_closed(run: Runner) -> None:
    filing_id = new_filing(run)
    ok(run("withdraw", filing_id, "--reason", "applicant request"))
    user_error(run("advance", filing_id), f"{filing_id} was withdrawn on 2026-11-25 15:00")


def test_a_wrong_stage_is_one_line_listing_the_labels_that_list_stage_takes(
    run: Runner,
) -> None:
    filing_id = new_filing(run)
    check = unchanged(run.db.parent)
    refused = run("advance", filing_id, "--to", "bogus")
    assert refused.returncode == 2 and refused.stdout == "", refused
    assert refused.stderr.count("\n") == 1 and "usage:" not in refused.stderr, refused.stderr
    line = refused.stderr.strip()
    assert line.startswith("icp-tui advance: error: argument --to: unknown stage 'bogus'")
    known = re.findall(r"'([^']+)'", line.partition("known: ")[2])
    assert known[:3] == ["preliminary", "returned", "await photo"] and len(known) == 10
    assert not any("_" in name for name in known), line
    check()
    for name in known:  # each as list --stage takes it, through the same resolver
        ok(run("list", "--stage", name))


def test_a_wrong_health_lists_the_spelling_of_the_help(run: Runner) -> None:
    new_filing(run)
    refused = run("list", "--health", "bogus")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    known = refused.stderr.strip().partition("known: ")[2].rstrip(")").split(", ")
    assert known == ["breached", "at-risk", "on-track", "waiting", "done"], refused.stderr
    helped = " ".join(ok(run("list", "--help")).split())
    assert "breached, at-risk, on-track, waiting or done" in helped
    for name in known:
        ok(run("list", "--health", name))


def test_withdraw_takes_the_configured_reasons_as_advance_takes_its_own(run: Runner) -> None:
    first, second, third = (new_filing(run, domain=f"d{i}.cn") for i in range(3))
    said = ok(run("withdraw", first, "--reason", "duplicate"))
    assert said == f"{first} withdrawn from 'preliminary' (duplicate application)\n"
    ok(run("withdraw", second, "--reason", "paid twice"))
    reasons = [as_json(run("show", f, "--json"))["history"][-1]["reason"] for f in (first, second)]
    assert reasons == ["duplicate application", "other: paid twice"]
    # The start of two reasons is refused, saying which, and changes nothing.
    check = unchanged(run.db.parent)
    user_error(run("withdraw", third, "--reason", "d"), "'duplicate application'", "other: d")
    check()
    # A team's own list (the config's withdraw_reasons) is the one matched.
    config = run.cwd / "team.toml"
    config.write_text('withdraw_reasons = ["paid twice", "other"]\n', encoding="utf-8")
    ok(run("withdraw", third, "--reason", "PAID", "--config", str(config)))
    assert as_json(run("show", third, "--json"))["history"][-1]["reason"] == "paid twice"
    helped = " ".join(ok(run("withdraw", "--help")).split())
    assert "'duplicate application'" in helped and "`icp-tui config` lists" in helped


def test_a_file_that_is_not_json_is_one_plain_line_naming_it(run: Runner) -> None:
    path = run.cwd / "notes.json"
    path.write_text("nothing to see\n", encoding="utf-8")
    said = user_error(run("list", db=path))
    assert said == f"icp-tui: {path}: not a JSON database"
    new_filing(run)
    run.db.write_bytes(run.db.read_bytes()[:-20])  # cut short, as a full disk would
    said = user_error(run("list"))
    assert re.fullmatch(
        rf"icp-tui: {re.escape(str(run.db))}: not a JSON database "
        r"\(the JSON breaks at line \d+, column \d+\)",
        said,
    ), said


def test_config_prints_absolute_paths_for_a_relative_db(run: Runner) -> None:
    shared = run.cwd.resolve() / "shared"  # as the working directory names it
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)  # not the group's to write: the sharing line names the folder
    relative = ("--db", "shared/f.json")
    ok(run("init", *relative, db=None))
    lines = ok(run("config", *relative, db=None)).splitlines()
    assert f"database           {shared / 'f.json'}  (--db)" in lines, lines
    sharing = next(line for line in lines if line.startswith("sharing"))
    assert f"{shared} (mode 0755)" in sharing and sharing.endswith(f"chmod g+rwx {shared}")
    # One column of values: the longest key (review_window_days) and a space before it.
    assert all(line[18] == " " and line[19] != " " for line in lines), lines


@pytest.mark.parametrize("typed", ["", ".", "shared"])
def test_a_db_naming_a_folder_says_so_with_the_folder(run: Runner, typed: str) -> None:
    folder = run.cwd / typed
    folder.mkdir(exist_ok=True)
    check = unchanged(run.cwd)
    said = user_error(run("init", "--db", typed, db=None))
    assert said == (
        f"icp-tui: {folder.resolve()} is a folder, not a database file: name the file in it, "
        f"e.g. {folder.resolve() / 'filings.json'} (from --db)"
    )
    check()


def test_a_config_that_is_not_toml_says_what_and_where_in_one_sentence(run: Runner) -> None:
    config = run.cwd / "team.toml"
    config.write_text("refresh_seconds = \n", encoding="utf-8")
    said = user_error(run("list", "--config", str(config)))
    assert said == f"icp-tui: {config}: not valid TOML: invalid value (at line 1, column 19)"


def test_other_with_no_text_says_it_needs_words_and_changes_nothing(run: Runner) -> None:
    filing_id = new_filing(run)
    check = unchanged(run.db.parent)
    for reason in ("other", "other:"):
        said = user_error(run("withdraw", filing_id, "--reason", reason))
        assert said == 'icp-tui: "other" takes the reason in words: "other: TEXT"'
    user_error(run("advance", filing_id, "--to", "returned", "--reason", "other: "), "in words")
    user_error(run("withdraw", filing_id, "--reason", " "), "needs a reason")
    check()


@pytest.mark.parametrize(
    "command",
    ["show", "advance", "withdraw", "note", "ticket", "sms-resent", "materials", "assign"],
)
def test_the_id_argument_says_what_it_takes(run: Runner, command: str) -> None:
    helped = " ".join(ok(run(command, "--help")).split())
    assert "id the filing: its whole id in any case (ICP-2026-00155) or its number alone" in helped


def test_an_option_given_the_text_dashes_takes_it_as_text(run: Runner) -> None:
    # argparse (3.11) read `--reason=--` as an empty list: a traceback in every command that
    # takes text, found by the fuzzed command lines.
    filing_id = new_filing(run)
    said = ok(run("withdraw", filing_id, "--reason=--"))
    assert said == f"{filing_id} withdrawn from 'preliminary' (other: --)\n"
    refused = run("list", "--stage=--")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused
    assert refused.stderr.splitlines()[-1].startswith("icp-tui list: error: argument --stage: ")
    assert "unknown stage '--'" in refused.stderr


def test_config_shows_the_database_the_commands_open(run: Runner) -> None:
    # `missing/../f.json` is no path to f.json while `missing` does not exist: the commands
    # refuse it, and config must not vouch for it by tidying the path away.
    ok(run("init", "--db", "f.json", db=None))
    typed = ("--db", "missing/../f.json")
    user_error(run("list", *typed, db=None), "no database at missing/../f.json")
    lines = ok(run("config", *typed, db=None)).splitlines()
    assert f"database           {run.cwd.resolve() / 'missing/../f.json'}  (--db)" in lines
    sharing = next(line for line in lines if line.startswith("sharing"))
    assert "no database there yet" in sharing, lines


def test_the_command_leaves_at_once_with_all_its_output_and_its_exit_status(run: Runner) -> None:
    # The real process (console(): os._exit once main is done, skipping the interpreter's
    # exit): what main printed is all there, on a pipe too, and the status is main's.
    ok(run("demo", "--count", "2000", "--seed", "3"))  # a list far beyond a pipe's buffer
    env = {k: v for k, v in run.env.items() if k != "PYTHONUNBUFFERED"}  # as users run it

    def process(*args: str) -> subprocess.CompletedProcess[str]:
        argv = run.command(args, NOW, run.db)
        return subprocess.run(
            argv, env=env, cwd=run.cwd, capture_output=True, text=True, timeout=120
        )

    listed = process("list", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 2000, listed.stderr
    first = json.loads(listed.stdout)[0]["id"]
    shown = process("show", first)  # a few lines, still in the output's buffer at the end
    assert shown.returncode == 0 and shown.stdout.startswith(first), shown
    noted = process("note", first, "called back")
    assert noted.returncode == 0 and noted.stdout == f"note added to {first}\n", noted
    assert as_json(run("show", first, "--json"))["notes"][-1]["text"] == "called back"
    missing = process("show", "ICP-1999-00001")
    assert missing.returncode == 1 and missing.stdout == "", missing
    assert missing.stderr.count("\n") == 1 and "ICP-1999-00001" in missing.stderr
    # A reader that leaves after the first line: no traceback, and not an error.
    listing = shlex.join(run.command(("list", "--json"), NOW, run.db))
    piped = subprocess.run(
        f"{listing} | head -n 1",
        shell=True,
        env=env,
        cwd=run.cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.returncode == 0 and piped.stdout.count("\n") == 1, piped
    assert "Traceback" not in piped.stderr and "Exception" not in piped.stderr, piped.stderr
