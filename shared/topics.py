"""Topic names and their creation by the platform itself (partitions > 1, kept forever)."""

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

SERVICES = ("applications", "selection", "payments", "notifications")


def events_topic(prefix: str, service: str) -> str:
    """The log of one service's domain events, keyed by dossier id."""
    return f"{prefix}.{service}.events"


def dead_letter_topic(prefix: str, service: str) -> str:
    return f"{prefix}.{service}.deadletter"


def all_topics(prefix: str) -> list[str]:
    return [t for s in SERVICES for t in (events_topic(prefix, s), dead_letter_topic(prefix, s))]


async def ensure_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    # The event topics are the log: nothing is ever deleted or compacted.
    forever = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=forever)
            for name in names
            if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another instance created them at the same time
    finally:
        await admin.close()


async def delete_namespace(bootstrap: str, prefix: str) -> list[str]:
    """Delete every topic under `<prefix>.` (a test's or a bench's namespace); returns them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix + ".")]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()
    return mine
