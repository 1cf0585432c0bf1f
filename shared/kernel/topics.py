"""Topic names and their creation by the platform itself (partitions > 1, kept forever)."""

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from shared.kernel.settings import Settings

SERVICES = ("applications", "selection", "payments", "notifications")


def events_topic(prefix: str, service: str) -> str:
    """The log of one service's domain events, keyed by dossier id."""
    return f"{prefix}.{service}.events"


def dead_letter_topic(prefix: str, service: str) -> str:
    return f"{prefix}.{service}.deadletter"


def all_topics(prefix: str) -> list[str]:
    return [t for s in SERVICES for t in (events_topic(prefix, s), dead_letter_topic(prefix, s))]


class TopicsNotCreated(RuntimeError):
    """The broker refused to create topics (too few brokers for the copies asked, a policy…)."""


async def ensure_topics(
    bootstrap: str,
    names: list[str],
    partitions: int,
    *,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> None:
    """Create the missing topics; existing ones are left as they are."""
    # The event topics are the log: nothing is ever deleted or compacted.
    forever = {
        "retention.ms": "-1",
        "retention.bytes": "-1",
        "cleanup.policy": "delete",
        "min.insync.replicas": str(min_insync_replicas),
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs=forever,
            )
            for name in names
            if name not in existing
        ]
        if missing:
            refused = _refused(await admin.create_topics(missing))
            if refused:
                raise TopicsNotCreated(
                    "; ".join(
                        f"Kafka refused to create {', '.join(names)}: {reason}"
                        for reason, names in refused.items()
                    )
                )
    finally:
        await admin.close()


def _refused(response: Any) -> dict[str, list[str]]:
    """The topics the broker did not create, by reason (the response does not raise). One
    that already exists is no failure: another instance created it at the same time."""
    refused: dict[str, list[str]] = {}
    for topic, code, *message in response.topic_errors:
        if code not in (0, TopicAlreadyExistsError.errno):
            reason = f"{for_code(code).__name__}: {(message[0] if message else '') or ''}".rstrip(
                ": "
            )
            refused.setdefault(reason, []).append(topic)
    return refused


async def provision(settings: Settings, names: list[str]) -> None:
    """The platform's topics, as many partitions and copies as the settings say."""
    await ensure_topics(
        settings.kafka_bootstrap,
        names,
        settings.topic_partitions,
        replication_factor=settings.topic_replication_factor,
        min_insync_replicas=settings.topic_min_insync_replicas,
    )


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
