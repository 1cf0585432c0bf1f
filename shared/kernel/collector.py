"""Python's cycle collector paused while a rebuild holds many young objects alive.

A rebuild keeps a transaction's worth of freshly read events in memory at once (records,
envelopes, typed events: hundreds of thousands of objects). The cycle collector scans them
again and again while they live: with young collections every 50,000 allocations it still
took a sixth of the rebuild bench's time. Nearly all this garbage has no cycles and is freed
by reference counting as soon as it is dropped: a rebuild of 300,000 events left 163 objects
in cycles, the same for any number of events. So the automatic collection is off while a
rebuild runs; the rebuild runs a full collection itself every `EVENTS_PER_COLLECTION` events
read (what little cyclic garbage there is stays bounded), and one when it ends.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

EVENTS_PER_COLLECTION = 1_000_000

_depth = 0  # rebuilds running in this process: the collector is restored by the last one
_was_enabled = True


@dataclass
class Collection:
    """A rebuild's own collections: `read(n)` after each n events read."""

    every: int = EVENTS_PER_COLLECTION
    _since: int = 0

    def read(self, events: int) -> None:
        self._since += events
        if self._since >= self.every:
            self._since = 0
            gc.collect()


@contextmanager
def collecting_less(every: int = EVENTS_PER_COLLECTION) -> Iterator[Collection]:
    global _depth, _was_enabled
    if _depth == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _depth += 1
    try:
        yield Collection(every)
    finally:
        _depth -= 1
        if _depth == 0 and _was_enabled:
            gc.enable()
            gc.collect()
