"""Kafka away: every client of the process waits with a bounded, jittered back-off, and says so
once when the broker goes and once when it answers again.

aiokafka (0.14, pinned) retries after a fixed `retry_backoff_ms` and refreshes its metadata
whenever any part of a client asks, with no minimum interval: a producer or a fetcher whose
partitions lost their leader asks again as soon as a refresh fails, and a refused connection
fails at once, so with the broker away each client spins (thousands of connection attempts and
log lines a second, a source port that ends up connected to itself). `install` makes each
client's refresh, after a failure, wait `Backoff` before answering its waiters; the first
success resets it. It wraps one method of aiokafka's client; tests/integration pins it.
"""

import asyncio
import logging
from typing import Any

from aiokafka.client import AIOKafkaClient

from shared.kernel.backoff import Backoff

log = logging.getLogger(__name__)

# aiokafka's fixed pause between the retries of one request (its default is 100 ms).
RETRY_BACKOFF_MS = 1000

# One per process: what the log says of Kafka, whichever client noticed.
_KAFKA = Backoff("Kafka", first=0.2, longest=10.0, logger=log)


def kafka_unavailable() -> bool:
    """Whether the process's clients are waiting for Kafka (its log lines are kept quiet)."""
    return _KAFKA.failures > 0


def install() -> None:
    """Idempotent: the services' runtimes and the tools that start clients call it."""
    if getattr(AIOKafkaClient._metadata_update, "aap_backoff", False):
        return
    original = AIOKafkaClient._metadata_update

    async def _metadata_update_with_backoff(self: Any, cluster_metadata: Any, topics: Any) -> Any:
        updated = await original(self, cluster_metadata, topics)
        waiting: Backoff = getattr(self, "_aap_backoff", None) or Backoff("Kafka", first=0.2)
        self._aap_backoff = waiting
        if updated:
            waiting.failures = 0
            _KAFKA.succeeded()
        else:
            if not _KAFKA.failures:
                _KAFKA.failed(ConnectionError("no broker answered the metadata request"))
            else:
                _KAFKA.failures += 1
            await asyncio.sleep(waiting.delay())
        return updated

    _metadata_update_with_backoff.aap_backoff = True  # type: ignore[attr-defined]
    AIOKafkaClient._metadata_update = _metadata_update_with_backoff


class QuietWhileKafkaIsAway(logging.Filter):
    """Drops aiokafka's line-per-attempt complaints while the back-off said Kafka is away."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name.startswith("aiokafka")
            and kafka_unavailable()
            and record.levelno < logging.CRITICAL
        )
