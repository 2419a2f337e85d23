"""The daily report: its counts agree with the queue, and its figures with the history."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from icp_tui.config import Reference, Settings, load_reference
from icp_tui.demo import generate_filings
from icp_tui.domain.estimate import finished_reviews
from icp_tui.domain.filing import BEIJING, EntityType, Filing
from icp_tui.domain.provinces import ICP_ABBREVIATIONS
from icp_tui.domain.sla import HEALTH_ORDER, Health
from icp_tui.domain.stages import STAGE_ORDER, Stage
from icp_tui.domain.transitions import advance, submit, undo, withdraw
from icp_tui.queue import Queue
from icp_tui.report import (
    breach_instants,
    build_report,
    render_markdown,
    render_text,
    report_json,
)

#: A Wednesday afternoon, Beijing time; no public holiday in the weeks before.
NOW = datetime(2026, 11, 25, 15, 0, tzinfo=BEIJING)
STAFF = "alice"


def bj(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def reference() -> Reference:
    return load_reference(Settings())


@pytest.fixture(scope="module")
def demo(reference: Reference) -> list[Filing]:
    return generate_filings(80, NOW, reference.policy, reference.provinces, seed=5)


def to_stage(
    n: int, stage: Stage, times: list[datetime], province: str = "Beijing", **fields: str
) -> Filing:
    """A filing submitted at times[0], then moved along the happy path at the next times,
    ending with `stage` (rejected: by the authority)."""
    filing = submit(
        f"ICP-2026-{n:05d}",
        fields.get("domain", f"site{n}.cn"),
        fields.get("entity", f"Site {n} Co., Ltd."),
        EntityType.COMPANY,
        province,
        times[0],
        STAFF,
    )
    for at in times[1:]:
        if filing.stage is Stage.AUTHORITY_REVIEW and stage is Stage.REJECTED:
            filing = advance(filing, at, STAFF, Stage.REJECTED, "materials missing")
        elif filing.stage is Stage.AUTHORITY_REVIEW:
            number = ICP_ABBREVIATIONS[province][0] + "ICP备2026000001号"
            filing = advance(filing, at, STAFF, icp_number=number)
        else:
            filing = advance(filing, at, STAFF)
    assert filing.stage is stage, filing.stage
    return filing


def reviewed(n: int, entered: datetime, decided: datetime, **kw: str) -> Filing:
    """Approved after an authority review from `entered` to `decided`."""
    before = entered - timedelta(minutes=5)
    times = [before - timedelta(minutes=4 - i) for i in range(5)] + [entered, decided]
    return to_stage(n, Stage.APPROVED, times, **kw)


# -- counts ------------------------------------------------------------------------------------


def test_counts_match_the_queue_that_list_json_uses(
    reference: Reference, demo: list[Filing]
) -> None:
    report = build_report(iter(demo), reference, NOW)
    queue = Queue(reference, NOW)
    for filing in demo:
        queue.put(filing)
    summaries = [e.list_json(reference, NOW) for e in queue.select()]

    assert report.total == len(summaries) == len(demo)
    assert {h.value: n for h, n in report.by_health.items()} == {
        h.value: Counter(s["health"] for s in summaries)[h.value] for h in HEALTH_ORDER
    }
    per_stage = Counter((s["stage"], s["health"]) for s in summaries)
    for stage in STAGE_ORDER:
        for health in HEALTH_ORDER:
            assert report.by_stage[stage][health] == per_stage[(stage.value, health.value)]
    assert sum(report.stage_total(s) for s in STAGE_ORDER) == len(demo)
    assert [b.id for b in report.breached] == [
        s["id"] for s in summaries if s["health"] == "breached"
    ], "most overdue first, as in the list"
    assert [b.over for b in report.breached] == [
        s["left"] for s in summaries if s["health"] == "breached"
    ]
    assert {t.id for t in report.needs_ticket} == {
        s["id"] for s in summaries if s["escalate"] and not s["ticket"]
    }


def test_breached_count_is_what_fail_on_breach_checks(
    reference: Reference, demo: list[Filing]
) -> None:
    report = build_report(demo, reference, NOW)
    assert report.breached_count == len(report.breached) > 0
    assert report_json(report)["breached_count"] == report.breached_count

    calm = [f for f in demo if f.id not in {b.id for b in report.breached}]
    assert build_report(calm, reference, NOW).breached_count == 0
    assert build_report([], reference, NOW).breached_count == 0


# -- what the history says ---------------------------------------------------------------------


def test_authority_review_median_in_business_days_against_the_target(
    reference: Reference,
) -> None:
    filings = [
        reviewed(1, bj(11, 2), bj(11, 9)),  # Mon -> next Mon: 5 bd
        reviewed(2, bj(11, 2), bj(11, 5)),  # Mon -> Thu: 3 bd
        reviewed(3, bj(11, 2), bj(11, 11)),  # 7 bd
        reviewed(4, bj(10, 12), bj(11, 20), province="Zhejiang"),  # 29 bd, target 30
        reviewed(5, bj(10, 12), bj(11, 24), province="Zhejiang"),  # 31 bd
        to_stage(6, Stage.AUTHORITY_REVIEW, [bj(11, 2, h) for h in range(9, 15)]),  # unfinished
    ]
    report = build_report(filings, reference, NOW)
    by_province = {p.province: p for p in report.authority_review}
    assert set(by_province) == {"Beijing", "Zhejiang"}
    beijing, zhejiang = by_province["Beijing"], by_province["Zhejiang"]
    assert (beijing.median_bd, beijing.reviews, beijing.longest_bd) == (5, 3, 7)
    assert (beijing.target_bd, beijing.over_target) == (20, False)
    assert (zhejiang.median_bd, zhejiang.target_bd, zhejiang.over_target) == (30, 30, False)


def test_an_undone_decision_does_not_count_and_the_review_keeps_its_start(
    reference: Reference,
) -> None:
    approved = reviewed(1, bj(11, 2), bj(11, 5))  # 3 bd, then undone
    reopened = undo(approved, advance_back(approved), approved.version, bj(11, 5, 10, 2), STAFF)
    final = advance(reopened, bj(11, 9), STAFF, Stage.REJECTED, "materials missing")
    assert [r.days for r in finished_reviews(final, reference.calendar)] == [5]


def advance_back(approved: Filing) -> Filing:
    """The filing as it was just before its approval (what undo restores)."""
    return replace(
        approved,
        stage=Stage.AUTHORITY_REVIEW,
        entered_at=approved.history[-2].at,
        version=approved.version - 1,
        history=approved.history[:-1],
    )


def test_breaches_per_day_come_from_every_stay_in_a_stage(reference: Reference) -> None:
    # Preliminary review entered Mon 11-23: 1 bd, breached from the start of Wed 11-25.
    late = to_stage(1, Stage.PRELIMINARY_REVIEW, [bj(11, 23)])
    # Photo review entered Mon 11-16 and left Thu 11-19: breached from the start of Wed
    # 11-18. The other stays were short, and authority review has 20 bd.
    moves = [bj(11, 16, 9), bj(11, 16, 10), bj(11, 16, 11), bj(11, 19, 10), bj(11, 19, 11)]
    past = to_stage(2, Stage.AUTHORITY_REVIEW, [*moves, bj(11, 19, 12)])
    # The SMS check has 24 wall-clock hours: entered 11-20 10:00, breached 11-21 10:00.
    sms = to_stage(3, Stage.SMS_VERIFICATION, [bj(11, 20, 9, m) for m in range(4)] + [bj(11, 20)])
    # Withdrawn at once: nothing ever breached.
    gone = withdraw(to_stage(4, Stage.PRELIMINARY_REVIEW, [bj(11, 2)]), bj(11, 2, 11), STAFF, "x")

    assert list(breach_instants(late, reference.policy, NOW)) == [bj(11, 25, 0)]
    assert list(breach_instants(past, reference.policy, NOW)) == [bj(11, 18, 0)]
    assert list(breach_instants(gone, reference.policy, NOW)) == []

    report = build_report([late, past, sms, gone], reference, NOW)
    days = dict(report.breaches_per_day)
    assert len(days) == 30 and min(days) == date(2026, 10, 27) and max(days) == date(2026, 11, 25)
    assert {d: n for d, n in days.items() if n} == {
        date(2026, 11, 25): 1,
        date(2026, 11, 18): 1,
        date(2026, 11, 21): 1,
    }


def test_closed_today_lists_what_closed_on_the_beijing_date_of_now(
    reference: Reference,
) -> None:
    today = reviewed(1, bj(11, 2), bj(11, 25, 0, 30))
    yesterday = reviewed(2, bj(11, 2), bj(11, 24, 23, 59))
    withdrawn = withdraw(
        to_stage(3, Stage.PRELIMINARY_REVIEW, [bj(11, 25, 9)]), bj(11, 25, 11), STAFF, "x"
    )
    report = build_report([yesterday, withdrawn, today], reference, NOW)
    assert [(c.id, c.stage) for c in report.closed_today] == [
        (today.id, Stage.APPROVED),
        (withdrawn.id, Stage.WITHDRAWN),
    ]


# -- rendering ---------------------------------------------------------------------------------


HOSTILE_ENTITY = "\x1b[31mred\x1b[0m | [bold]x[/bold] <script>\u202e"


def test_text_and_markdown_are_inert_and_json_is_whole(
    reference: Reference, demo: list[Filing]
) -> None:
    hostile = to_stage(99, Stage.PRELIMINARY_REVIEW, [bj(11, 16)], entity=HOSTILE_ENTITY)
    report = build_report([*demo, hostile], reference, NOW)
    assert hostile.id in {b.id for b in report.breached}

    text = render_text(report)
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\x1b[31mred" in text
    assert f"{report.total} filings" in text
    for stage_line in ("preliminary", "authority", "withdrawn"):
        assert stage_line in text

    markdown = render_markdown(report)
    assert "\x1b" not in markdown and "<script>" not in markdown
    hostile_row = next(line for line in markdown.splitlines() if hostile.id in line)
    assert hostile_row.count(" | ") == 6, "the entity's | does not split the table row"

    data = report_json(report)
    decoded = json.loads(json.dumps(data, ensure_ascii=False))
    assert decoded["by_health"] == {h.value: report.by_health[h] for h in Health}
    assert next(b for b in decoded["breached"] if b["id"] == hostile.id)["entity"] == (
        HOSTILE_ENTITY
    )
    assert len(decoded["breaches_per_day"]) == 30


def test_an_empty_queue_reports_plainly(reference: Reference) -> None:
    report = build_report([], reference, NOW)
    text = render_text(report)
    assert "0 filings" in text and "none" in text
    assert "None." in render_markdown(report)
    assert report_json(report)["total"] == 0
