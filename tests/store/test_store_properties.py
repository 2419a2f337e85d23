"""Property: two handles interleaving commits, compactions and polls agree with a model."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import fid, new_db, noter

from icp_tui.store import FilingStore

# (handle 0 or 1, action, filing number)
OPS = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.sampled_from(["commit", "commit", "commit", "compact", "poll"]),
        st.integers(1, 3),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_handles_agree_with_a_model(ops: list[tuple[int, str, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = new_db(Path(folder))
        handles = [FilingStore(path, compact_min_bytes=0, compact_ratio=0.5) for _ in range(2)]
        for handle in handles:
            handle.load()
        versions = {fid(n): 1 for n in range(1, 4)}
        unseen: list[set[str]] = [set(), set()]  # changed since each handle's last poll
        for step, (who, action, n) in enumerate(ops):
            handle = handles[who]
            if action == "commit":
                saved = handle.commit(fid(n), noter(f"step {step}"))
                versions[fid(n)] += 1
                assert saved.version == versions[fid(n)]
                for pending in unseen:
                    pending.add(fid(n))
            elif action == "compact":
                handle.compact_if_due() if n == 1 else handle.compact()
            else:
                changed = handle.poll()
                assert changed is not None
                assert {f.id for f in changed} == unseen[who]
                assert all(f.version == versions[f.id] for f in changed)
                unseen[who].clear()
        fresh = FilingStore(path)
        fresh.load()
        for filing_id, version in versions.items():
            filing = fresh.get(filing_id)
            assert filing.version == version
            assert len(filing.notes) == version - 1
