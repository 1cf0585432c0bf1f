"""A watcher of a topic: when each key's wanted record first came by (bench.measure.now clock)."""

import asyncio
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

from bench.measure import now


def of_type(name: str) -> Callable[[ConsumerRecord], bool]:
    """Records whose CloudEvents type is `name` (any version)."""

    def wanted(record: ConsumerRecord) -> bool:
        return any(k == "ce_type" and b"." + name.encode() + b".v" in v for k, v in record.headers)

    return wanted


class Watcher:
    def __init__(
        self, bootstrap: str, topic: str, wanted: Callable[[ConsumerRecord], bool] = lambda _: True
    ) -> None:
        self.reader = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        self.wanted = wanted
        self.seen: dict[str, float] = {}
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Watcher":
        await self.reader.start()
        self.task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.task:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.reader.stop()

    async def _watch(self) -> None:
        while True:
            for records in (await self.reader.getmany(timeout_ms=100)).values():
                at = now()
                for record in records:
                    if record.key is not None and self.wanted(record):
                        self.seen.setdefault(record.key.decode(), at)


async def all_seen(
    seen: Callable[[], dict[str, float]], keys: Iterable[str], timeout: float, what: str
) -> dict[str, float]:
    """When each key was seen, once all were; raises after `timeout` seconds without them all."""
    wanted = set(keys)
    deadline = now() + timeout
    while True:
        found = seen()
        missing = wanted - found.keys()
        if not missing:
            return {key: found[key] for key in wanted}
        if now() > deadline:
            raise RuntimeError(
                f"{len(missing)} of {len(wanted)} {what} still missing after {timeout:.0f} s"
            )
        await asyncio.sleep(0.1)
