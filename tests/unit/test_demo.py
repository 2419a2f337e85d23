"""The demo generator and the editable data files it relies on.

A demo queue must look like the real one to the staff who try the tool: every stage and every
SLA health on screen, Chinese and Latin names, real provinces, histories that load like stored
filings. It must also be the same every time for a given seed, so screenshots can be compared.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import icp_tui.demo
from icp_tui.config import SHIPPED_DATA
from icp_tui.demo import STAFF, generate_filings
from icp_tui.domain.calendar import BusinessCalendar
from icp_tui.domain.filing import BEIJING, EntityType, Filing, from_record, to_record
from icp_tui.domain.provinces import Province, ProvinceTable
from icp_tui.domain.sla import Health, SlaPolicy, sla_status
from icp_tui.domain.stages import ALIBABA_CLOUD_REVIEW, CLOSED, Stage

DATA = SHIPPED_DATA
WEEKDAY = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)  # a Wednesday afternoon
WEEKEND = datetime(2026, 11, 29, 10, 0, tzinfo=BEIJING)  # a Sunday morning
CJK = re.compile(r"[\u4e00-\u9fff]")
ID_FORMAT = re.compile(r"ICP-(\d{4})-(\d{5})")
ICP_NUMBER = re.compile(r"[\u4e00-\u9fff]ICP备\d{10}号-\d")
DOMAIN_FORMAT = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*\.(cn|com\.cn|com|net)")


def load(name: str) -> dict[str, Any]:
    return tomllib.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def provinces_file() -> dict[str, Any]:
    return load("provinces.toml")


@pytest.fixture(scope="module")
def provinces(provinces_file: dict[str, Any]) -> ProvinceTable:
    return ProvinceTable(
        Province(
            name=entry["name"],
            aliases=tuple(entry["aliases"]),
            authority_review_bd=entry["authority_review_bd"],
            requires_mailing=entry["requires_mailing"],
        )
        for entry in provinces_file["province"]
    )


@pytest.fixture(scope="module")
def policy(provinces: ProvinceTable, provinces_file: dict[str, Any]) -> SlaPolicy:
    return SlaPolicy(
        calendar=BusinessCalendar(),
        authority_targets=provinces.authority_targets(),
        default_authority_target=provinces_file["default_authority_review_bd"],
    )


@pytest.fixture(scope="module")
def queue(policy: SlaPolicy, provinces: ProvinceTable) -> list[Filing]:
    """A large demo queue (the benchmark size is 50,000; 5,000 keeps the suite quick)."""
    return generate_filings(5000, WEEKDAY, policy, provinces, seed=11)


def records(filings: list[Filing]) -> list[dict[str, Any]]:
    return [to_record(f) for f in filings]


# -- reproducible ----------------------------------------------------------------------------


def test_same_arguments_give_the_same_filings(policy: SlaPolicy, provinces: ProvinceTable) -> None:
    first = generate_filings(300, WEEKDAY, policy, provinces, seed=5)
    again = generate_filings(300, WEEKDAY, policy, provinces, seed=5)
    assert records(first) == records(again)


def test_another_seed_gives_another_queue(policy: SlaPolicy, provinces: ProvinceTable) -> None:
    one = generate_filings(50, WEEKDAY, policy, provinces, seed=1)
    two = generate_filings(50, WEEKDAY, policy, provinces, seed=2)
    assert records(one) != records(two)


def test_the_time_zone_of_now_does_not_matter(policy: SlaPolicy, provinces: ProvinceTable) -> None:
    beijing = generate_filings(100, WEEKDAY, policy, provinces, seed=3)
    utc = generate_filings(100, WEEKDAY.astimezone(UTC), policy, provinces, seed=3)
    assert records(beijing) == records(utc)


def test_now_without_a_time_zone_is_refused(policy: SlaPolicy, provinces: ProvinceTable) -> None:
    with pytest.raises(ValueError, match="time zone"):
        generate_filings(10, datetime(2026, 11, 25, 15, 0), policy, provinces)


def test_no_filings_asked_none_given(policy: SlaPolicy, provinces: ProvinceTable) -> None:
    assert generate_filings(0, WEEKDAY, policy, provinces) == []


# -- every stage and every health ------------------------------------------------------------


@pytest.mark.parametrize("now", [WEEKDAY, WEEKEND], ids=["wednesday", "sunday"])
@pytest.mark.parametrize("count", [30, 200])
def test_every_stage_and_every_health_occurs(
    count: int, now: datetime, policy: SlaPolicy, provinces: ProvinceTable
) -> None:
    filings = generate_filings(count, now, policy, provinces, seed=0)
    assert len(filings) == count
    assert {f.stage for f in filings} == set(Stage)
    assert {sla_status(f, policy, now).health for f in filings} == set(Health)


@settings(max_examples=40, deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(2025, 1, 1),
        max_value=datetime(2027, 3, 31),
        timezones=st.just(BEIJING),
    ),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_moment_any_seed_shows_every_stage_and_health(
    now: datetime, seed: int, policy: SlaPolicy, provinces: ProvinceTable
) -> None:
    # Nights, weekends, holidays and a year without an official schedule (2027) included.
    filings = generate_filings(30, now, policy, provinces, seed=seed)
    assert {f.stage for f in filings} == set(Stage)
    assert {sla_status(f, policy, now).health for f in filings} == set(Health)
    assert all(t.at <= now for f in filings for t in f.history)


@pytest.mark.parametrize("now", [WEEKDAY, WEEKEND], ids=["wednesday", "sunday"])
def test_some_filing_needs_escalation_and_has_no_ticket_yet(
    now: datetime, policy: SlaPolicy, provinces: ProvinceTable
) -> None:
    filings = generate_filings(30, now, policy, provinces, seed=0)
    escalated = [f for f in filings if sla_status(f, policy, now).escalate]
    assert any(f.ticket is None for f in escalated)
    assert all(f.stage in ALIBABA_CLOUD_REVIEW for f in escalated)


def test_escalated_filings_sometimes_have_a_ticket(queue: list[Filing], policy: SlaPolicy) -> None:
    escalated = [f for f in queue if sla_status(f, policy, WEEKDAY).escalate]
    with_ticket = [f for f in escalated if f.ticket]
    assert with_ticket
    assert len(with_ticket) < len(escalated)
    assert all(f.stage in ALIBABA_CLOUD_REVIEW for f in queue if f.ticket)


def test_one_filing_went_through_every_stage_to_approval(
    policy: SlaPolicy, provinces: ProvinceTable
) -> None:
    filings = generate_filings(30, WEEKDAY, policy, provinces, seed=0)
    travelled = set(Stage) - {Stage.REJECTED, Stage.WITHDRAWN}
    assert any(
        f.stage is Stage.APPROVED and {t.target for t in f.history} == travelled for f in filings
    )


def test_most_of_the_queue_is_live(queue: list[Filing]) -> None:
    closed = sum(f.stage in CLOSED for f in queue) / len(queue)
    assert 0.15 <= closed <= 0.25


def test_some_filings_were_returned_and_resubmitted(queue: list[Filing]) -> None:
    resubmitted = [
        f
        for f in queue
        if any(
            t.source is Stage.RETURNED and t.target is Stage.PRELIMINARY_REVIEW for t in f.history
        )
    ]
    assert len(resubmitted) > len(queue) * 0.05


# -- records ---------------------------------------------------------------------------------


def test_every_filing_survives_storage(queue: list[Filing]) -> None:
    for filing in queue:
        assert from_record(to_record(filing)) == filing


def test_histories_are_in_the_past_in_order_and_by_staff(queue: list[Filing]) -> None:
    for filing in queue:
        moments = [t.at for t in filing.history if t.moved]
        assert moments == sorted(moments)
        assert moments[-1] == filing.entered_at <= WEEKDAY
        assert all(t.at <= WEEKDAY for t in filing.history)
        assert all(t.by in STAFF for t in filing.history)
        assert all(n.by in STAFF and n.at <= WEEKDAY for n in filing.notes)
        assert filing.updated_at is not None and filing.updated_at <= WEEKDAY
        assert filing.assignee is None or filing.assignee in STAFF


def test_staff_work_in_office_hours_mostly(queue: list[Filing], policy: SlaPolicy) -> None:
    moments = [t.at.astimezone(BEIJING) for f in queue for t in f.history]
    in_hours = [
        m
        for m in moments
        if policy.calendar.is_business_day(m.date()) and time(9) <= m.time() <= time(18)
    ]
    assert len(in_hours) > 0.9 * len(moments)


def test_reasons_are_given_for_returns_rejections_and_withdrawals(queue: list[Filing]) -> None:
    for filing in queue:
        for move in filing.history:
            if move.target in (Stage.RETURNED, Stage.REJECTED, Stage.WITHDRAWN):
                assert move.reason.strip()


def test_ids_are_unique_sequential_and_carry_the_year_of_submission(queue: list[Filing]) -> None:
    ids = [f.id for f in queue]
    assert len(set(ids)) == len(ids)
    by_year: dict[int, list[int]] = {}
    for filing in queue:
        match = ID_FORMAT.fullmatch(filing.id)
        assert match, filing.id
        year = int(match.group(1))
        assert year == filing.history[0].at.astimezone(BEIJING).year
        by_year.setdefault(year, []).append(int(match.group(2)))
    for numbers in by_year.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_approved_filings_and_only_they_have_an_icp_number(
    queue: list[Filing], provinces: ProvinceTable
) -> None:
    for filing in queue:
        if filing.stage is Stage.APPROVED:
            assert filing.icp_number and ICP_NUMBER.fullmatch(filing.icp_number)
            # The number starts with the province's one-character abbreviation (浙 for Zhejiang).
            if filing.province == "Zhejiang":
                assert filing.icp_number.startswith("浙ICP备")
        else:
            assert filing.icp_number is None


def test_checklist_follows_the_history(queue: list[Filing], provinces: ProvinceTable) -> None:
    photo_done = {
        Stage.PHOTO_REVIEW,
        Stage.AWAITING_SUBMISSION,
        Stage.SMS_VERIFICATION,
        Stage.AUTHORITY_REVIEW,
        Stage.APPROVED,
        Stage.REJECTED,
    }
    for filing in queue:
        if filing.stage in photo_done:
            assert filing.checklist.admin_photo
        province = provinces.get(filing.province)
        assert province is not None
        if not province.requires_mailing:
            assert not filing.checklist.materials_mailed
    mailing = [f for f in queue if provinces.get(f.province).requires_mailing]  # type: ignore[union-attr]
    assert any(f.checklist.materials_received for f in mailing)


# -- who applies, for what, where ------------------------------------------------------------


def test_entities_are_written_as_they_really_are(queue: list[Filing]) -> None:
    companies = [f.entity for f in queue if f.entity_type is EntityType.COMPANY]
    people = [f.entity for f in queue if f.entity_type is EntityType.INDIVIDUAL]
    assert 0.65 <= len(companies) / len(queue) <= 0.85
    assert any(CJK.search(n) and n.endswith("有限公司") for n in companies)
    assert any(n.endswith("Co., Ltd.") and n.isascii() for n in companies)
    assert any(CJK.search(n) and 2 <= len(n) <= 3 for n in people)
    assert any(n.isascii() and " " in n for n in people)


def test_domains_look_real_and_are_unique(queue: list[Filing]) -> None:
    domains = [f.domain for f in queue]
    assert len(set(domains)) == len(domains)
    for domain in domains:
        assert DOMAIN_FORMAT.fullmatch(domain), domain
    suffixes = Counter(d.split(".", 1)[1] for d in domains)
    assert {"cn", "com.cn", "com", "net"} <= set(suffixes)


def test_provinces_come_from_the_data_file(
    queue: list[Filing], provinces_file: dict[str, Any]
) -> None:
    names = {entry["name"] for entry in provinces_file["province"]}
    used = Counter(f.province for f in queue)
    assert set(used) <= names
    busiest = {name for name, _ in used.most_common(5)}
    assert busiest == {"Guangdong", "Zhejiang", "Beijing", "Shanghai", "Jiangsu"}


def test_the_generator_uses_nothing_but_the_domain() -> None:
    tree = ast.parse((Path(icp_tui.demo.__file__)).read_text(encoding="utf-8"))
    imported = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    ours = {name for name in imported if name and name.startswith("icp_tui")}
    assert ours and all(name.startswith("icp_tui.domain") for name in ours)
    assert not {"textual", "tinydb"} & {name.split(".")[0] for name in imported if name}


# -- the data files --------------------------------------------------------------------------


def test_provinces_file_lists_all_31_divisions(provinces_file: dict[str, Any]) -> None:
    entries = provinces_file["province"]
    assert len(entries) == 31
    assert len({e["name"] for e in entries}) == 31
    aliases = [a for e in entries for a in e["aliases"]]
    assert len(set(aliases)) == len(aliases)
    assert provinces_file["default_authority_review_bd"] == 20
    targets = {e["name"]: e["authority_review_bd"] for e in entries}
    assert targets.pop("Zhejiang") == 30
    assert set(targets.values()) == {20}
    assert 3 <= sum(e["requires_mailing"] for e in entries) <= 4


def test_province_aliases_resolve(provinces: ProvinceTable) -> None:
    assert provinces.resolve("北京市").name == "Beijing"
    assert provinces.resolve("广西壮族自治区").name == "Guangxi"
    assert provinces.resolve("浙江").authority_review_bd == 30


def test_mailing_file_has_the_address_from_the_faq() -> None:
    mailing = load("mailing.toml")
    assert set(mailing) == {"address", "addressee", "phone", "postal_code", "hours"}
    assert mailing["phone"] == "18586949808"
    assert mailing["postal_code"] == "550081"
    assert mailing["addressee"] == "Alibaba Cloud Information Authentication Division"


def test_holidays_file_ships_without_a_guessed_year() -> None:
    assert load("holidays.toml") == {}
