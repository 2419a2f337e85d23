"""Issue 12 (and issue 11 item 6): the rules DOMAIN.md gained, each with fixed times.

History in time order, tickets per submission, provisional years, approval with its ICP
number, order expiry, SMS resends, return and rejection reasons, submissions, domains.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_tui.config import ConfigError, Reference, Settings, load_holidays, load_reference
from icp_tui.domain.calendar import BusinessCalendar, YearSchedule
from icp_tui.domain.errors import (
    HistoryOutOfOrder,
    InvalidInput,
    TransitionNotAllowed,
    WithdrawNotAllowed,
)
from icp_tui.domain.filing import (
    BEIJING,
    EntityType,
    Filing,
    Transition,
    from_record,
    submission_groups,
    to_record,
)
from icp_tui.domain.provinces import ICP_ABBREVIATIONS, check_icp_number
from icp_tui.domain.sla import (
    Health,
    SlaPolicy,
    expires_at,
    expiry_in_words,
    review_days_used,
    sla_status,
)
from icp_tui.domain.stages import WITHDRAW_REASONS, ReasonLists, Stage
from icp_tui.domain.summary import FilingSummary, summarize
from icp_tui.domain.transitions import (
    add_note,
    advance,
    assign,
    check_domain,
    check_not_ahead,
    domain_key,
    record_materials,
    record_ticket,
    sms_attempts,
    sms_resent,
    submit,
    withdraw,
    withdraw_refusal,
)
from icp_tui.queue import Queue

S = Stage
ACTOR = "alice"
MakeFiling = Callable[..., Filing]


def bj(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(Settings())


def new_filing(at: datetime, province: str = "Beijing", domain: str = "example.cn") -> Filing:
    return submit("ICP-2026-00001", domain, "Example Co.", EntityType.COMPANY, province, at, ACTOR)


# -- history in time order (defect 1) ---------------------------------------------------------


def issue_case() -> Filing:
    """Added Mon 2026-03-02 09:00, advanced at 10:00 and on 03-12 10:00 (the issue's case)."""
    filing = new_filing(bj(2026, 3, 2, 9))
    filing = advance(filing, bj(2026, 3, 2, 10), ACTOR)
    return advance(filing, bj(2026, 3, 12, 10), ACTOR)


@pytest.mark.parametrize(
    "change",
    [
        lambda f, at: add_note(f, at, ACTOR, "x"),
        lambda f, at: advance(f, at, ACTOR),
        lambda f, at: record_ticket(f, at, ACTOR, "TK-1"),
        lambda f, at: assign(f, at, ACTOR, "bob"),
        lambda f, at: record_materials(f, at, ACTOR, received=False),
        lambda f, at: withdraw(f, at, ACTOR, "applicant request"),
    ],
    ids=["note", "advance", "ticket", "assign", "materials", "withdraw"],
)
def test_a_change_stamped_before_the_latest_entry_is_refused(change: Callable) -> None:
    filing = issue_case()
    record = to_record(filing)
    with pytest.raises(HistoryOutOfOrder) as refused:
        change(filing, bj(2026, 3, 2, 12))
    assert str(refused.value) == (
        "ICP-2026-00001: its latest history entry is at 2026-03-12 10:00:00; a change stamped "
        "2026-03-02 12:00:00 is earlier and would break the time order of its history: "
        "nothing was changed"
    )
    assert to_record(filing) == record


def test_a_change_at_the_same_instant_as_the_latest_entry_is_accepted() -> None:
    filing = issue_case()
    noted = add_note(filing, bj(2026, 3, 12, 10), ACTOR, "same minute")
    assert noted.history[-1].at == filing.history[-1].at


def test_an_out_of_order_note_in_an_old_database_does_not_inflate_review_days(
    policy: SlaPolicy,
) -> None:
    # A database written before the refusal may hold the back-dated note: on 03-13 the filing
    # had 1 bd of Alibaba Cloud review (photo review since 03-12), not 9, and no ticket is due.
    filing = issue_case()
    old = replace(
        filing,
        history=(*filing.history, Transition(bj(2026, 3, 2, 12), ACTOR, S.PHOTO_REVIEW,
                                             S.PHOTO_REVIEW, "note added")),
    )  # fmt: skip
    friday = bj(2026, 3, 13, 12)
    assert review_days_used(old, policy, friday) == 1
    assert not sla_status(old, policy, friday).escalate


def test_a_change_more_than_5_minutes_ahead_of_the_clock_is_refused() -> None:
    now = bj(2026, 12, 1, 10)
    check_not_ahead(now + timedelta(minutes=5), now)
    with pytest.raises(HistoryOutOfOrder) as refused:
        check_not_ahead(now + timedelta(minutes=5, seconds=1), now)
    assert str(refused.value) == (
        "a change stamped 2026-12-01 10:05:01 is more than 5 minutes ahead of the clock "
        "(2026-12-01 10:00:00): --now may look ahead only in commands that change nothing; "
        "nothing was changed"
    )


ACTIONS = ("advance", "note", "ticket", "assign")


@settings(max_examples=80, deadline=None, database=None)
@given(data=st.data())
def test_history_stays_in_time_order_whatever_the_stamps(data: st.DataObject) -> None:
    """Any sequence of changes with any stamps (earlier ones too) leaves the history ordered,
    and a refused change leaves the filing exactly as it was."""
    filing = new_filing(bj(2026, 3, 2, 9))
    at = filing.history[0].at
    for _ in range(data.draw(st.integers(1, 20), label="steps")):
        at = at + timedelta(minutes=data.draw(st.integers(-3 * 24 * 60, 3 * 24 * 60)))
        action = data.draw(st.sampled_from(ACTIONS))
        before = to_record(filing)
        try:
            if action == "advance":
                target = S.RETURNED if filing.stage is S.PHOTO_REVIEW else None
                if filing.closed or filing.stage is S.AUTHORITY_REVIEW:
                    continue
                filing = advance(filing, at, ACTOR, target, reason="materials missing")
            elif action == "note":
                filing = add_note(filing, at, ACTOR, "n")
            elif action == "ticket":
                filing = record_ticket(filing, at, ACTOR, "TK-1")
            else:
                filing = assign(filing, at, ACTOR, "bob")
        except HistoryOutOfOrder:
            assert to_record(filing) == before
            assert at < filing.latest_at
        times = [entry.at for entry in filing.history]
        assert times == sorted(times)
        from_record(to_record(filing))  # still a valid record


# -- tickets per submission (defect 2) ---------------------------------------------------------


def test_a_resubmission_clears_the_ticket_and_the_escalation_restarts(
    reference: Reference,
) -> None:
    filing = new_filing(bj(2026, 3, 2, 9))  # Monday
    filing = record_ticket(filing, bj(2026, 3, 6, 9), ACTOR, "TK-1")  # over 3 bd by Friday
    filing = advance(filing, bj(2026, 3, 6, 11), ACTOR, S.RETURNED, "materials missing")
    filing = advance(filing, bj(2026, 3, 9, 10), ACTOR)  # resubmitted Monday
    assert filing.ticket is None
    assert any(e.reason == "ticket TK-1" for e in filing.history)  # the old one stays
    queue = Queue(reference, bj(2026, 3, 13, 12))
    entry = queue.put(filing)
    assert entry.escalate and entry.needs_ticket
    assert entry.flags() == ["needs ticket"]
    assert not Queue(reference, bj(2026, 3, 12, 12)).put(filing).escalate  # 3 bd: not over


# -- breached past the due time ----------------------------------------------------------------


def test_a_filing_due_friday_is_breached_on_saturday(policy: SlaPolicy) -> None:
    filing = advance(new_filing(bj(2026, 11, 19, 9)), bj(2026, 11, 19, 10), ACTOR)
    filing = advance(filing, bj(2026, 11, 19, 11), ACTOR)  # photo review, Thursday
    status = sla_status(filing, policy, bj(2026, 11, 21, 10))
    assert (status.health, status.left) == (Health.BREACHED, "1 d over")


# -- provisional years (defect 3) --------------------------------------------------------------


def test_a_filing_due_2026_12_31_is_one_bd_over_on_2027_01_04(reference: Reference) -> None:
    filing = new_filing(bj(2026, 12, 30, 10))  # Wednesday; due Thursday 12-31
    status = sla_status(filing, reference.policy, bj(2027, 1, 4, 10))
    assert (status.health, status.left) == (Health.BREACHED, "1 bd over")
    entry = Queue(reference, bj(2027, 1, 4, 10)).put(filing)
    assert entry.list_json(reference, bj(2027, 1, 4, 10))["provisional_years"] == [2027]
    before = Queue(reference, bj(2026, 12, 30, 12)).put(filing)
    assert before.list_json(reference, bj(2026, 12, 30, 12))["provisional_years"] == []


def test_the_official_schedule_in_the_data_file_ends_the_provisional_year(
    tmp_path: Path,
) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(
        "[2027]\nholidays = [2027-01-01, 2027-02-05, 2027-02-08, 2027-02-09]\n"
        "workdays = [2027-02-20]\n",
        encoding="utf-8",
    )
    calendar = BusinessCalendar(load_holidays(path))
    assert calendar.provisional_years([2026, 2027, 2028]) == [2028]
    assert not calendar.is_business_day(date(2027, 2, 9))
    assert calendar.is_business_day(date(2027, 2, 20))  # a Saturday worked


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "[2027]\nholidays = [2027-01-01, 2027-01-02]\nworkdays = [2027-01-02]\n",
            "2027-01-02 both as a holiday and as a working day",
        ),
        (
            "[2027]\nholidays = [2027-03-03]\n",
            "none of the statutory holidays .*: list the whole year's schedule$",
        ),
    ],
)
def test_a_data_file_year_is_checked(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "holidays.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as refused:
        load_holidays(path)
    assert str(path) in str(refused.value)


def test_an_empty_correction_of_a_year_is_refused() -> None:
    # It has none of the statutory holidays: a typo, not a schedule.
    from icp_tui.domain.calendar import check_year_schedule

    with pytest.raises(InvalidInput):
        check_year_schedule(2026, YearSchedule(frozenset(), frozenset()))


# -- import invents no review days (defect 4) --------------------------------------------------


def test_an_imported_row_gets_no_invented_review_days(reference: Reference) -> None:
    from icp_tui.transfer import plan_import

    now = bj(2026, 3, 10, 12)
    csv_text = (
        "domain,entity,province,stage,submitted_at,entered_at\n"
        "a.cn,A Co,Beijing,awaiting_submission,2026-03-02T09:00,2026-03-10T09:00\n"
    )
    plan = plan_import(io.StringIO(csv_text), reference, [], "importer", now)
    assert plan.errors == []
    (filing,) = plan.filings
    assert review_days_used(filing, reference.policy, now) == 0
    entry = Queue(reference, now).put(filing)
    assert not entry.escalate and entry.health is Health.ON_TRACK


def test_export_then_import_keeps_every_verdict(reference: Reference) -> None:
    check_round_trip(reference, seed=11, now=bj(2026, 11, 25, 15))


@settings(max_examples=8, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), hours=st.integers(0, 24 * 20))
def test_export_then_import_keeps_every_verdict_for_any_queue(
    reference: Reference, seed: int, hours: int
) -> None:
    # Verdicts at export time and later: an import must not change what staff are told.
    check_round_trip(reference, seed, bj(2026, 11, 25, 15), later=timedelta(hours=hours))


def check_round_trip(
    reference: Reference, seed: int, now: datetime, later: timedelta = timedelta(0)
) -> None:
    from icp_tui.demo import generate_filings
    from icp_tui.transfer import export_rows, plan_import, write_csv

    filings = generate_filings(40, now, reference.policy, reference.provinces, seed=seed)
    by_id = {f.id: f for f in filings}
    queue = Queue(reference, now)
    for f in filings:
        queue.put(f)
    rows = export_rows(queue.select(), by_id.__getitem__, reference, now)
    handle = io.StringIO(newline="")
    write_csv(rows, handle, bom=False)
    plan = plan_import(io.StringIO(handle.getvalue(), newline=""), reference, [], "imp", now)
    assert plan.errors == []
    assert {f.id for f in plan.filings} == set(by_id)

    def verdicts(fs: list[Filing]) -> dict[str, dict[str, object]]:
        at = now + later
        q = Queue(reference, at)
        return {
            e.id: {k: v for k, v in e.list_json(reference, at).items() if k != "version"}
            for e in (q.put(f) for f in fs)
        }

    assert verdicts(plan.filings) == verdicts(filings)


# -- approval with its ICP number (defect 6) ---------------------------------------------------


@pytest.mark.parametrize("province", sorted(ICP_ABBREVIATIONS))
def test_every_province_s_icp_numbers_are_accepted(province: str) -> None:
    for abbreviation in ICP_ABBREVIATIONS[province]:
        for number in (f"{abbreviation}ICP备2026012345号", f"{abbreviation}ICP备12345678号-3"):
            assert check_icp_number(number, province) == number


@pytest.mark.parametrize(
    "number",
    [
        "京ICP备2026012345号",  # Beijing's, for a Zhejiang filing
        "浙ICP备号",
        "浙ICP备2026012345",
        "浙ICP2026012345号",
        "浙ICP备2026012345号-0",
        "浙ICP备2026012345号-",
        "ICP备2026012345号",
        "浙ICP备２０２６号",  # full-width digits
    ],
)
def test_a_wrong_icp_number_is_refused_with_the_expected_form(number: str) -> None:
    with pytest.raises(InvalidInput, match="expected 浙ICP备, the digits and 号") as refused:
        check_icp_number(number, "Zhejiang")
    assert "\n" not in str(refused.value)


def test_approving_needs_the_icp_number_and_records_it() -> None:
    filing = new_filing(bj(2026, 3, 2, 9), province="Zhejiang")
    for at in range(10, 15):
        filing = advance(filing, bj(2026, 3, 2, at), ACTOR)
    assert filing.stage is S.AUTHORITY_REVIEW
    with pytest.raises(InvalidInput, match="approving records the ICP number"):
        advance(filing, bj(2026, 3, 20, 9), ACTOR)
    with pytest.raises(InvalidInput, match="not an ICP number of Zhejiang"):
        advance(filing, bj(2026, 3, 20, 9), ACTOR, icp_number="沪ICP备2026012345号")
    approved = advance(filing, bj(2026, 3, 20, 9), ACTOR, icp_number=" 浙ICP备2026012345号-1 ")
    assert approved.icp_number == "浙ICP备2026012345号-1"


# -- withdraw refusal in the SMS check (defect 7) ----------------------------------------------


def test_the_sms_check_refusal_names_the_applicant(make_filing: MakeFiling) -> None:
    filing = make_filing(S.SMS_VERIFICATION, bj(2025, 3, 3, 10))
    refusal = withdraw_refusal(filing) or ""
    assert "applicant must complete the SMS check" in refusal
    assert "authority's decision" not in refusal
    with pytest.raises(WithdrawNotAllowed, match="SMS check"):
        withdraw(filing, bj(2025, 3, 3, 11), ACTOR, "applicant request")
    authority = withdraw_refusal(make_filing(S.AUTHORITY_REVIEW, bj(2025, 3, 3, 10))) or ""
    assert "wait for the authority's decision" in authority


# -- the mailing address (defect 8) ------------------------------------------------------------


def test_the_mailing_address_says_guiyang(reference: Reference) -> None:
    assert "Guiyang City, Guizhou Province" in reference.mailing.address
    assert "Guilin" not in reference.mailing.address
    assert reference.mailing.postal_code == "550081"


# -- order expiry ------------------------------------------------------------------------------


def test_an_order_counts_down_from_day_30_and_expires_at_day_45(policy: SlaPolicy) -> None:
    first = bj(2026, 3, 2, 9)
    filing = new_filing(first)
    expiry = expires_at(filing, policy)
    assert expiry == first + timedelta(days=45)
    assert expiry_in_words(expiry, policy, first + timedelta(days=29, hours=23)) is None
    assert expiry_in_words(expiry, policy, first + timedelta(days=30)) == "expires in 15 d"
    assert expiry_in_words(expiry, policy, first + timedelta(days=44, hours=12)) == (
        "expires in 1 d"
    )
    assert expiry_in_words(expiry, policy, first + timedelta(days=45)) == "expired"
    assert "order expired" in WITHDRAW_REASONS


def test_expiry_words_at_the_second(policy: SlaPolicy) -> None:
    first = bj(2026, 3, 2, 9)
    expiry = expires_at(new_filing(first), policy)
    assert expiry is not None
    second = timedelta(seconds=1)
    # The countdown starts on day 30 exactly, not a second before.
    assert expiry_in_words(expiry, policy, first + timedelta(days=30) - second) is None
    # Days left are rounded up: a day and a second is 2 d; the last second is still 1 d.
    assert expiry_in_words(expiry, policy, expiry - timedelta(days=1) - second) == "expires in 2 d"
    assert expiry_in_words(expiry, policy, expiry - timedelta(days=1)) == "expires in 1 d"
    assert expiry_in_words(expiry, policy, expiry - second) == "expires in 1 d"


def test_expiry_counts_from_the_first_submission_and_stops_at_the_authority(
    policy: SlaPolicy,
) -> None:
    first = bj(2026, 3, 2, 9)
    filing = advance(new_filing(first), bj(2026, 3, 3, 9), ACTOR, S.RETURNED, "materials missing")
    filing = advance(filing, bj(2026, 3, 20, 9), ACTOR)  # resubmitted: same order
    assert expires_at(filing, policy) == first + timedelta(days=45)
    for hour in range(10, 14):
        filing = advance(filing, bj(2026, 3, 20, hour), ACTOR)
    assert filing.stage is S.SMS_VERIFICATION
    assert expires_at(filing, policy) is None


def test_expiry_days_are_data(tmp_path: Path) -> None:
    (tmp_path / "expiry.toml").write_text(
        "expire_after_days = 60\nshown_from_days = 50\n", encoding="utf-8"
    )
    reference = load_reference(Settings(expiry_file=tmp_path / "expiry.toml"))
    assert reference.policy.expire_after_days == 60
    assert reference.policy.expiry_shown_from_days == 50


# -- SMS resends -------------------------------------------------------------------------------


def test_a_resent_sms_restarts_the_24_hours(make_filing: MakeFiling, policy: SlaPolicy) -> None:
    entered = bj(2025, 3, 3, 10)
    filing = make_filing(S.SMS_VERIFICATION, entered)
    assert sla_status(filing, policy, entered + timedelta(hours=24)).health is Health.BREACHED
    resent = sms_resent(filing, entered + timedelta(hours=20), "bob")
    status = sla_status(resent, policy, entered + timedelta(hours=24))
    assert (status.health, status.left) == (Health.ON_TRACK, "20 h left")
    assert [(t.at, t.by) for t in sms_attempts(resent)] == [
        (entered, ACTOR),
        (entered + timedelta(hours=20), "bob"),
    ]
    assert from_record(to_record(resent)) == resent
    assert FilingSummary.from_row(summarize(resent).to_row()) == summarize(resent)
    assert (resent.updated_at, resent.updated_by) == (entered + timedelta(hours=20), "bob")
    moved = advance(resent, entered + timedelta(hours=21), ACTOR)
    assert moved.sms_sent_at is None and sms_attempts(moved) == []


def test_an_sms_resent_a_little_ahead_of_the_clock_has_used_no_hours(
    make_filing: MakeFiling, policy: SlaPolicy
) -> None:
    now = bj(2025, 3, 3, 12)
    filing = make_filing(S.SMS_VERIFICATION, bj(2025, 3, 3, 10))
    resent = sms_resent(filing, now + timedelta(minutes=5), "bob")  # within MAX_AHEAD
    status = sla_status(resent, policy, now)
    assert (status.used, status.left) == (0, "24 h left")


def test_sms_attempts_are_the_entry_and_the_resends_only(make_filing: MakeFiling) -> None:
    entered = bj(2025, 3, 3, 10)
    filing = make_filing(S.SMS_VERIFICATION, entered)
    # A resend in the same second as the entry is still a second SMS; a note is none.
    filing = sms_resent(filing, entered, "bob")
    filing = add_note(filing, entered + timedelta(hours=1), ACTOR, "applicant called")
    assert [(t.at, t.by) for t in sms_attempts(filing)] == [(entered, ACTOR), (entered, "bob")]


def test_an_sms_is_resent_only_during_the_sms_check(make_filing: MakeFiling) -> None:
    with pytest.raises(TransitionNotAllowed, match="only during the SMS check"):
        sms_resent(make_filing(S.AUTHORITY_REVIEW, bj(2025, 3, 3, 10)), bj(2025, 3, 4), ACTOR)


# -- return and rejection reasons, submissions -------------------------------------------------


def test_reasons_are_listed_or_kept_as_other(reference: Reference) -> None:
    reasons = reference.reasons
    assert reasons.offered(S.RETURNED)[-1] == "other"
    assert "materials missing" in reasons.offered(S.RETURNED)
    assert reasons.chosen(S.RETURNED, "Materials Missing") == "materials missing"
    assert reasons.chosen(S.RETURNED, "photo is blurry") == "other: photo is blurry"
    assert reasons.chosen(S.REJECTED, "other: wrong city") == "other: wrong city"
    assert reasons.chosen(S.RETURNED, "  ") == ""
    assert ReasonLists(("a",), ("b",)).offered(S.REJECTED) == ("b", "other")


@pytest.mark.parametrize("target", [S.RETURNED, S.REJECTED])
def test_returning_or_rejecting_needs_a_reason(make_filing: MakeFiling, target: Stage) -> None:
    source = S.PRELIMINARY_REVIEW if target is S.RETURNED else S.AUTHORITY_REVIEW
    filing = make_filing(source, bj(2025, 3, 3, 10))
    with pytest.raises(InvalidInput, match=f"moving to '{target.value}' needs a reason"):
        advance(filing, bj(2025, 3, 4, 10), ACTOR, target)
    moved = advance(filing, bj(2025, 3, 4, 10), ACTOR, target, "materials missing")
    assert moved.last_move.reason == "materials missing"


def test_submissions_are_counted_and_the_history_is_read_per_submission() -> None:
    filing = new_filing(bj(2026, 3, 2, 9))
    assert filing.submissions == 1
    filing = advance(filing, bj(2026, 3, 2, 10), ACTOR, S.RETURNED, "materials missing")
    filing = advance(filing, bj(2026, 3, 3, 10), ACTOR)
    filing = add_note(filing, bj(2026, 3, 3, 11), ACTOR, "ok")
    assert filing.submissions == 2
    groups = submission_groups(filing.history)
    assert [len(g) for g in groups] == [2, 2]
    assert groups[1][0].target is S.PRELIMINARY_REVIEW


# -- domains -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain", ["example.cn", "Example.COM", "a-b.example.com.cn", "例子.中国", "xn--fsqu00a.cn"]
)
def test_a_host_name_is_accepted_and_kept_as_typed(domain: str) -> None:
    assert check_domain(domain) == domain
    assert new_filing(bj(2026, 3, 2, 9), domain=domain).domain == domain


@pytest.mark.parametrize(
    "domain",
    ["example", "bad_domain.cn", "-a.cn", "a-.cn", "a..cn", "a.cn.", "http://a.cn", "a b.cn",
     "1.2.3.4", "a" * 64 + ".cn", "[b]x[/b].cn", "例 子.中国"],
)  # fmt: skip
def test_a_malformed_domain_is_refused(domain: str) -> None:
    with pytest.raises(InvalidInput, match="is not a domain name"):
        check_domain(domain)


def test_a_domain_compares_as_dns_does() -> None:
    assert domain_key("例子.中国") == domain_key("XN--fsqu00a.xn--fiqs8s")
    assert domain_key("Example.CN") == "example.cn"
    assert domain_key("a" * 63 + ".cn") == "a" * 63 + ".cn"
    assert domain_key("a" * 64 + ".cn") == ""  # longer than a DNS label may be


@given(st.text(alphabet=st.sampled_from("aZ09-._ \t\x00"), max_size=140))
def test_an_ascii_name_compares_as_the_idna_codec_says(text: str) -> None:
    # ASCII names skip the codec, which must change nothing: a label too long is no host name.
    try:
        expected = ".".join(
            label.encode("idna").decode("ascii").lower() if label else ""
            for label in text.split(".")
        )
    except UnicodeError:
        expected = ""
    assert domain_key(text) == expected
    assert domain_key(text.replace("a", "a" * 70)) == "" or "a" not in text


def test_an_import_refuses_a_second_open_filing_of_a_domain(reference: Reference) -> None:
    from icp_tui.transfer import plan_import

    now = bj(2026, 3, 10, 12)
    existing = [new_filing(bj(2026, 3, 2, 9), domain="例子.中国")]
    csv_text = (
        "domain,entity,province,stage,submitted_at\n"
        "xn--fsqu00a.xn--fiqs8s,A Co,Beijing,,2026-03-03T09:00\n"
        "b.cn,B Co,Beijing,,2026-03-03T09:00\n"
        "B.CN,B Co,Beijing,,2026-03-04T09:00\n"
        "c.cn,C Co,Beijing,withdrawn,2026-03-03T09:00\n"
        "c.cn,C Co,Beijing,,2026-03-04T09:00\n"
        "bad_domain,D Co,Beijing,,2026-03-04T09:00\n"
    )
    plan = plan_import(io.StringIO(csv_text), reference, existing, "importer", now)
    assert [e.split(":")[0] for e in plan.errors] == ["line 2", "line 4", "line 7"]
    assert "ICP-2026-00001" in plan.errors[0]
    assert "not a domain name" in plan.errors[2]
    assert [f.domain for f in plan.filings] == ["b.cn", "c.cn", "c.cn"]


def test_a_team_s_data_dir_overrides_the_reasons(tmp_path: Path) -> None:
    from icp_tui.config import load_settings

    (tmp_path / "reasons.toml").write_text(
        'returned = ["logo missing"]\nrejected = ["not allowed"]\n', encoding="utf-8"
    )
    (tmp_path / "config.toml").write_text(f'data_dir = "{tmp_path}"\n', encoding="utf-8")
    settings = load_settings(tmp_path / "config.toml")
    reasons = load_reference(settings).reasons
    assert reasons.offered(S.RETURNED) == ("logo missing", "other")
    assert reasons.offered(S.REJECTED) == ("not allowed", "other")
