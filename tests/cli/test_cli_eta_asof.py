"""Issue 16 through the command line: the approval estimate in `show --json` and `list`, and
the queue rebuilt as it was at a past instant (`--as-of`) in `list`, `show`, `report` and
`export`. Each test builds its own histories with pinned times, through the domain's actions,
into a database of its own; then it asks the CLI as a user would."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from cli_helpers import Runner, as_json, ok, unchanged, user_error

from icp_tui.domain import transitions as t
from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.stages import Stage
from icp_tui.store import create_store

NOW = "2026-11-25T15:00+08:00"


def bj(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


def to_review(number: int, province: str, entered: datetime, by: str = "amy") -> Filing:
    """A filing submitted the day before `entered` and in authority review from `entered`."""
    start = entered - timedelta(days=1)
    f = t.submit(
        f"ICP-2026-{number:05d}",
        f"site{number}.cn",
        f"Entity {number}",
        EntityType.COMPANY,
        province,
        start,
        by,
    )
    for step in range(4):  # on to the SMS check, then into authority review
        f = t.advance(f, start + timedelta(minutes=10 * (step + 1)), by)
    return t.advance(f, entered, by)


def approved(f: Filing, at: datetime) -> Filing:
    abbreviation = {"Hebei": "冀", "Zhejiang": "浙"}[f.province]
    number = f"{abbreviation}ICP备2026{int(f.id[-5:]):06d}号-1"
    return t.advance(f, at, "amy", Stage.APPROVED, icp_number=number)


def database(run: Runner, filings: list[Filing]) -> None:
    run.db.parent.mkdir(parents=True, exist_ok=True)
    create_store(run.db, filings)


# Five Hebei reviews, all entered Monday 2026-10-12 and decided after 2, 3, 3, 5 and 9
# business days: the median is 3 bd, the 90th percentile 9 bd.
TAKEN = {2: bj(10, 14), 3: bj(10, 15), 5: bj(10, 19), 9: bj(10, 23)}


def hebei_history() -> list[Filing]:
    entered = bj(10, 12)
    days = [2, 3, 3, 5, 9]
    return [approved(to_review(n, "Hebei", entered), TAKEN[d]) for n, d in enumerate(days, 1)]


def test_show_json_gives_the_estimate_from_the_provinces_reviews(run: Runner) -> None:
    # Entered Wed 2026-09-30: the National Day break (1-7 October) counts no business day and
    # Sat 2026-10-10 is worked: 3 bd after is that Saturday, 9 bd after is Mon 2026-10-19.
    waiting = to_review(10, "Hebei", bj(9, 30, 16))
    database(run, [*hebei_history(), waiting])
    shown = as_json(run("show", waiting.id, "--json", now="2026-10-09T12:00+08:00"))
    assert shown["eta"] == {
        "p50": "2026-10-10T23:59:59+08:00",
        "p90": "2026-10-19T23:59:59+08:00",
        "samples": 5,
        "basis": "history",
    }
    # Outside authority review there is no estimate.
    assert as_json(run("show", "1", "--json", now="2026-10-09T12:00+08:00"))["eta"] is None
    text = ok(run("show", waiting.id, now="2026-10-09T12:00+08:00"))
    assert "likely approved 2026-10-10, 9 in 10 by 2026-10-19, from 5 reviews in Hebei" in text
    assert "already" not in text


def test_show_says_when_a_filing_is_past_its_estimate(run: Runner) -> None:
    # As the dashboard's detail does: past the P90 of the province's reviews (2026-10-19) ...
    waiting = to_review(10, "Hebei", bj(9, 30, 16))
    late = to_review(11, "Zhejiang", bj(11, 2))
    database(run, [*hebei_history(), waiting, late])
    text = ok(run("show", waiting.id, now="2026-10-20T09:00+08:00"))
    assert "9 in 10 by 2026-10-19" in text and "slower than 9 in 10 already" in text
    # ... or past the target standing in for too few reviews (Zhejiang: 2026-12-14).
    text = ok(run("show", late.id, now="2026-12-15T09:00+08:00"))
    assert "likely approved 2026-12-14 by target" in text and "past the target already" in text
    assert "already" not in ok(run("show", late.id, now="2026-12-14T18:00+08:00"))


def test_with_fewer_than_five_reviews_the_target_stands_in_and_says_so(run: Runner) -> None:
    waiting = to_review(10, "Zhejiang", bj(11, 2))
    few = [approved(to_review(n, "Zhejiang", bj(10, 12)), bj(10, 15)) for n in range(1, 5)]
    database(run, [*few, waiting])
    eta = as_json(run("show", waiting.id, "--json"))["eta"]
    # Zhejiang's target is 30 bd: 30 business days after Mon 2026-11-02 is Mon 2026-12-14.
    assert eta == {
        "p50": "2026-12-14T23:59:59+08:00",
        "p90": "2026-12-14T23:59:59+08:00",
        "samples": 4,
        "basis": "target",
    }
    assert "by target" in ok(run("show", waiting.id))


def test_reviews_outside_the_window_do_not_count(run: Runner) -> None:
    waiting = to_review(10, "Hebei", bj(11, 2))
    database(run, [*hebei_history(), waiting])
    config = run.cwd / "icp-tui.toml"
    config.write_text("review_window_days = 30\n", encoding="utf-8")
    # 2026-11-25 minus 30 days is 2026-10-26: all five decisions are older.
    eta = as_json(run("show", waiting.id, "--json"))["eta"]
    assert (eta["basis"], eta["samples"]) == ("target", 0)


def story() -> list[Filing]:
    """One filing's states: submitted, assigned, noted, moved on, ticketed."""
    f = t.submit(
        "ICP-2026-00001", "a.cn", "A", EntityType.COMPANY, "Zhejiang", bj(11, 16, 9), "amy"
    )
    states = [f]
    states.append(t.assign(states[-1], bj(11, 16, 10), "lead", "bob"))
    states.append(t.add_note(states[-1], bj(11, 16, 11), "bob", "called the applicant"))
    states.append(t.advance(states[-1], bj(11, 17, 9), "bob"))  # awaiting_photo
    states.append(t.advance(states[-1], bj(11, 18, 9), "bob"))  # photo_review
    states.append(t.record_ticket(states[-1], bj(11, 24, 9), "bob", "TK7"))
    return states


def later_filing() -> Filing:
    return t.submit("ICP-2026-00002", "b.cn", "B", EntityType.COMPANY, "Hebei", bj(11, 20), "amy")


def test_list_as_of_rebuilds_every_filing_and_leaves_out_later_ones(run: Runner) -> None:
    states = story()
    database(run, [states[-1], later_filing()])
    check = unchanged(run.db.parent)

    def listed(as_of: str) -> dict[str, dict]:
        return {f["id"]: f for f in as_json(run("--as-of", as_of, "list", "--json"))}

    before = listed("2026-11-16T10:30+08:00")
    assert list(before) == ["ICP-2026-00001"]  # the other was submitted on 20 November
    first = before["ICP-2026-00001"]
    assert (first["stage"], first["assignee"], first["ticket"]) == (
        "preliminary_review",
        "bob",
        None,
    )
    assert first["health"] == "on_track"
    between = listed("2026-11-19T12:00+08:00")
    assert list(between) == ["ICP-2026-00001"]
    assert between["ICP-2026-00001"]["stage"] == "photo_review"
    assert between["ICP-2026-00001"]["health"] == "at_risk"  # its due day: 1 bd target
    later = listed("2026-11-24T12:00+08:00")
    assert later["ICP-2026-00002"]["stage"] == "preliminary_review"
    after = later["ICP-2026-00001"]
    assert (after["ticket"], after["health"]) == ("TK7", "breached")
    # Today's list is the records as they are.
    assert as_json(run("list", "--json"))[0]["ticket"] == "TK7"
    check()  # reading the past writes nothing


def test_show_and_export_as_of_give_the_record_as_it_was(run: Runner) -> None:
    states = story()
    database(run, [states[-1], later_filing()])
    shown = as_json(run("--as-of", "2026-11-16T10:30", "show", "1", "--json"))
    assert shown["version"] == states[1].version and shown["notes"] == []
    assert len(shown["history"]) == 2
    noted = as_json(run("show", "1", "--json", "--as-of", "2026-11-17T08:00"))
    assert [n["text"] for n in noted["notes"]] == ["called the applicant"]
    out = ok(run("--as-of", "2026-11-18T12:00", "export", "--format", "json"))
    rows = {r["id"]: r for r in json.loads(out)}
    assert list(rows) == ["ICP-2026-00001"]
    assert (rows["ICP-2026-00001"]["stage"], rows["ICP-2026-00001"]["version"]) == (
        "photo_review",
        states[4].version,
    )
    csv_out = ok(run("--as-of", "2026-11-18T12:00", "export"))
    assert "2026-11-18T09:00:00+08:00" in csv_out  # entered_at of the stage it was in
    report = as_json(run("--as-of", "2026-11-16T10:30", "report", "--format", "json"))
    assert report["total"] == 1 and report["now"].startswith("2026-11-16T10:30")


def test_as_of_refuses_what_it_cannot_answer(run: Runner) -> None:
    states = story()
    database(run, [states[-1], later_filing()])
    check = unchanged(run.db.parent)
    user_error(run("--as-of", "2026-11-18", "show", "2"), "ICP-2026-00002", "submitted after")
    # To the minute, as every time the tool prints (not 2026-11-25T15:00:00+08:00).
    user_error(
        run("--as-of", "2026-12-30", "list"),
        "2026-12-30 00:00 is later than now (2026-11-25 15:00, Beijing)",
    )
    user_error(run("--as-of", "yesterday", "list"), "bad --as-of time")
    user_error(run("--as-of", "2026-11-18", "note", "1", "hello"), "--as-of", "nothing was changed")
    # A command that refuses --as-of does not offer it in its help.
    assert "--as-of" not in ok(run("import", "--help")) and "--db" in ok(run("import", "--help"))
    assert "--as-of" in ok(run("list", "--help"))
    check()
