"""What a user trial found on the command line: `advance --to` by label, `config` before the
database exists, stage labels (not ids) in what people read, plurals, and `show` saying what
the detail pane says."""

from __future__ import annotations

import pytest
from cli_helpers import Runner, as_json, ok, unchanged, user_error
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
    assert ok(run("advance", filing_id, "--to", typed)) == f"{stage}\n"
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
