"""The collector pause (domain/collector.py): what a long-lived pause built skips the young
collections, and once the dashboard froze its loaded filings it is frozen with them, since
each collection scans every object not frozen. Each case runs in a child interpreter: a
freeze lasts as long as the process."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHILD = """
import gc
from icp_tui.domain.collector import freeze_long_lived, gc_paused
if {froze}:
    loaded = [[i] for i in range(1000)]
    freeze_long_lived()
before = gc.get_freeze_count()
with gc_paused(long_lived=True):
    built = [[i] for i in range(5000)]
print(gc.isenabled(), gc.get_freeze_count() - before, gc.get_count()[0] < 5000)
"""


@pytest.mark.parametrize(
    ("froze", "newly_frozen"),
    [(False, False), (True, True)],
    ids=["nothing frozen: moved to the oldest generation", "after the dashboard's freeze"],
)
def test_what_a_long_lived_pause_built_leaves_the_young_generations(
    froze: bool, newly_frozen: bool
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(froze=froze)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    enabled, frozen, young_empty = done.stdout.split()
    assert enabled == "True" and young_empty == "True"
    assert int(frozen) >= 5000 if newly_frozen else int(frozen) == 0
