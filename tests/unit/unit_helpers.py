"""Helpers for the domain unit tests: fixed Beijing times and valid filings (the fixtures
are in conftest.py). A unique module name: `from conftest import ...` would find whichever
test folder's conftest.py was imported first.

Nothing here reads the clock: every time is built from literal dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from icp_tui.domain.filing import (
    BEIJING,
    Checklist,
    EntityType,
    Filing,
    Transition,
)
from icp_tui.domain.stages import Stage

S = Stage
ACTOR = "alice"

#: The happy path, from submission to approval.
HAPPY_PATH: tuple[Stage, ...] = (
    S.PRELIMINARY_REVIEW,
    S.AWAITING_PHOTO,
    S.PHOTO_REVIEW,
    S.AWAITING_SUBMISSION,
    S.SMS_VERIFICATION,
    S.AUTHORITY_REVIEW,
    S.APPROVED,
)


def bj(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """A Beijing wall-clock time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


def path_to(stage: Stage) -> tuple[Stage, ...]:
    """The shortest allowed path from submission to `stage`."""
    if stage in HAPPY_PATH:
        return HAPPY_PATH[: HAPPY_PATH.index(stage) + 1]
    if stage is S.RETURNED:
        return (S.PRELIMINARY_REVIEW, S.RETURNED)
    if stage is S.REJECTED:
        return (*path_to(S.AUTHORITY_REVIEW), S.REJECTED)
    if stage is S.WITHDRAWN:
        return (S.PRELIMINARY_REVIEW, S.WITHDRAWN)
    raise AssertionError(stage)


def build_from_moves(
    moves: Sequence[tuple[Stage, datetime]],
    *,
    id: str = "ICP-0001",
    province: str = "Beijing",
    by: str = ACTOR,
    **fields: Any,
) -> Filing:
    """A filing whose history is exactly `moves` ((stage entered, when), first = submission).

    submitted_at is the latest entry into preliminary_review; admin_photo is ticked once the
    filing has reached photo_review since then.
    """
    history: list[Transition] = []
    source: Stage | None = None
    for stage, at in moves:
        reason = "applicant request" if stage is S.WITHDRAWN else ""
        history.append(Transition(at, by, source, stage, reason))
        source = stage
    submitted_at = max(t.at for t in history if t.target is S.PRELIMINARY_REVIEW)
    photo = any(t.target is S.PHOTO_REVIEW and t.at >= submitted_at for t in history)
    defaults: dict[str, Any] = {
        "domain": "example.cn",
        "entity": "Example Co., Ltd.",
        "entity_type": EntityType.COMPANY,
        "checklist": Checklist(admin_photo=photo),
    }
    defaults.update(fields)
    return Filing(
        id=id,
        province=province,
        stage=history[-1].target,
        entered_at=history[-1].at,
        submitted_at=submitted_at,
        history=tuple(history),
        **defaults,
    )


def build_filing(
    stage: Stage = S.PRELIMINARY_REVIEW,
    entered_at: datetime | None = None,
    *,
    step: timedelta = timedelta(hours=1),
    **fields: Any,
) -> Filing:
    """A valid filing that entered `stage` at `entered_at`, along the shortest path there;
    the earlier moves are `step` apart."""
    entered_at = entered_at or bj(2025, 3, 3, 10)  # a Monday with no holiday near
    stages = path_to(stage)
    moves = [(s, entered_at - step * (len(stages) - 1 - i)) for i, s in enumerate(stages)]
    return build_from_moves(moves, **fields)
