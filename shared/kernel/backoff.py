"""Waiting for a server that went away: bounded exponential back-off with jitter, and one log
line when it goes and one when it comes back, never one per attempt.

Every loop of the kernel that reconnects (the relay, the consumers, the mailer, the samples)
waits through one of these; the wait doubles from `first` up to `longest`, each draw between
half of it and all of it, so that instances that lost the same server do not retry in step.
"""

import asyncio
import logging
import random
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class Backoff:
    what: str  # what is waited for, as the log line says it: "PostgreSQL (outbox relay)"
    first: float = 0.1
    longest: float = 10.0
    failures: int = 0
    logger: logging.Logger = field(default=log, repr=False)

    def delay(self) -> float:
        """The next wait, and one failure more; said in the log at the first failure only."""
        ceiling = min(self.longest, self.first * 2**self.failures)
        self.failures += 1
        return random.uniform(ceiling / 2, ceiling)

    def failed(self, error: BaseException) -> float:
        if self.failures == 0:
            self.logger.warning(
                "%s is unavailable (%s: %s); retrying with back-off up to %s s, quietly",
                self.what, type(error).__name__, error, self.longest,
            )  # fmt: skip
        return self.delay()

    async def pause(self, error: BaseException) -> None:
        await asyncio.sleep(self.failed(error))

    def succeeded(self) -> None:
        if self.failures:
            self.logger.warning("%s answers again, after %d failed attempt(s)", self.what,
                                self.failures)  # fmt: skip
        self.failures = 0
