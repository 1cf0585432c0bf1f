"""Timing helpers: rates, percentiles, and concurrent workers run for a fixed time."""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence


def now() -> float:
    return time.perf_counter()


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


async def for_seconds(
    seconds: float, operations: Sequence[Callable[[], Awaitable[object]]]
) -> float:
    """Run each operation in its own loop, all together, for `seconds`; operations per second."""
    start = now()
    deadline = start + seconds
    counts = [0] * len(operations)

    async def loop(i: int) -> None:
        while now() < deadline:
            await operations[i]()
            counts[i] += 1

    await asyncio.gather(*(loop(i) for i in range(len(operations))))
    return sum(counts) / (now() - start)


async def best_of(rounds: int, *measures: Callable[[], Awaitable[float]]) -> list[float]:
    """Each measure run `rounds` times, alternating, the best kept: a shared machine only slows."""
    best = [0.0] * len(measures)
    for _ in range(rounds):
        for i, measure in enumerate(measures):
            best[i] = max(best[i], await measure())
    return best
