"""Pausing Python's cyclic garbage collector while many small objects are built.

Loading or writing a database and generating demo filings build 100,000s of small objects with
no cycles among them; the collector would scan them again and again for nothing. It lives in
the domain (standard library only, no I/O) so that the demo generator, which uses nothing but
the domain, and the store share it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Whether objects were frozen to stay (`freeze_for_good`): a pause must not thaw them. Kept
#: here rather than asked of gc.get_freeze_count, which walks every frozen object: ~0.1 s with
#: 100,000 filings loaded, paid by every re-check of health a clock tick makes.
_frozen_for_good = False


def freeze_for_good() -> None:
    """Move every object tracked so far out of the collector's reach for the process's life
    (a dashboard's loaded filings: reference counting still frees them)."""
    global _frozen_for_good
    gc.freeze()
    _frozen_for_good = True


@contextmanager
def gc_paused(*, long_lived: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector: it triples the time to build many small objects.

    With `long_lived` (for loading a database, whose objects live as long as the handle), what
    survives the block is then moved straight to the oldest generation, so the first young
    collection after it does not scan the 100,000s of objects just built (about 50 ms at
    50,000 filings). gc.freeze then gc.unfreeze does that without a scan; it is skipped once
    `freeze_for_good` froze objects, which the unfreeze would thaw.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if long_lived and not _frozen_for_good:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
