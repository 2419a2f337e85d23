"""Fixtures of the domain unit tests (the helpers are in unit_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from unit_helpers import build_filing, build_from_moves

from icp_tui.domain.calendar import BusinessCalendar
from icp_tui.domain.filing import Filing
from icp_tui.domain.sla import SlaPolicy


@pytest.fixture(scope="session")
def cal() -> BusinessCalendar:
    """The official calendar (library schedule, no staff overrides), shared read-only."""
    return BusinessCalendar()


@pytest.fixture(scope="session")
def policy(cal: BusinessCalendar) -> SlaPolicy:
    """Default targets, with Zhejiang's authority review at 30 bd."""
    return SlaPolicy(calendar=cal, authority_targets={"Zhejiang": 30})


@pytest.fixture(scope="session")
def make_filing() -> Callable[..., Filing]:
    """`make_filing(stage, entered_at, *, step, **fields)`: see `build_filing`.

    Session scoped so that hypothesis tests may use it."""
    return build_filing


@pytest.fixture(scope="session")
def filing_from_moves() -> Callable[..., Filing]:
    """`filing_from_moves([(stage, at), ...], **fields)`: see `build_from_moves`."""
    return build_from_moves
