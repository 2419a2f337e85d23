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

#: Whether `freeze_long_lived` has run (gc.get_freeze_count() would walk every frozen object
#: to count them: 1.5 million in a dashboard of 50,000 filings, ~20 ms, at every pause).
_frozen = False


def freeze_long_lived() -> None:
    """Move every object alive into the permanent generation, which no collection scans: for
    the dashboard's loaded filings, which live as long as it does (reference counting still
    frees them)."""
    global _frozen
    gc.freeze()
    _frozen = True


@contextmanager
def gc_paused(*, long_lived: bool = False) -> Iterator[None]:
    """Pause the cyclic garbage collector: it triples the time to build many small objects.

    With `long_lived` (for loading a database, whose objects live as long as the handle), what
    survives the block is then moved straight to the oldest generation, so the first young
    collection after it does not scan the 100,000s of objects just built (about 50 ms at
    50,000 filings). gc.freeze then gc.unfreeze does that without a scan. Once the dashboard's
    loaded filings are frozen (`freeze_long_lived`) they join those instead: unfreezing would
    thaw those too, and left in the young generations they would be scanned by each of the
    many collections they set off, every one of which scans all objects not frozen (a step in
    time at 50,000 filings spent 0.1 to 1.7 s so). As at the startup freeze, garbage in
    cycles at that moment stays frozen too: a few hundred objects after some steps in time,
    measured; collecting it first would scan all that the block built, most of what the
    freeze saves. (A queue and its entries form no cycle, so a queue replaced is freed.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if long_lived:
                gc.freeze()
                if not _frozen:
                    gc.unfreeze()
            gc.enable()
