"""Python's cycle collector run less often while a rebuild holds many young objects alive.

A rebuild keeps a transaction's worth of freshly read events in memory at once (records,
envelopes, typed events: thousands). With the default thresholds (a young collection every
700 allocations, the older generations rescanned as the survivors grow) the collector scans
them again and again: in the rebuild bench that was half the rebuild's time. Nearly all this
garbage has no cycles and is freed by reference counting as soon as it is dropped; the
collector still runs, a young collection every 50,000 allocations.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG = 50_000  # allocations between two young collections (Python's default: 700)
MIDDLE = 20  # young collections between two of the middle generation (default: 10)

_depth = 0  # rebuilds running in this process: the thresholds are restored by the last one
_before: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def collecting_less() -> Iterator[None]:
    global _depth, _before
    if _depth == 0:
        _before = gc.get_threshold()
        gc.set_threshold(YOUNG, MIDDLE, _before[2])
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.set_threshold(*_before)
