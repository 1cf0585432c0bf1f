"""The platform's topics are created as the settings say, and a refusal by Kafka is said."""

from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from shared.kernel import topics
from shared.kernel.settings import Settings
from tests.conftest import own_namespace


@pytest.fixture
async def own(settings: Settings) -> AsyncIterator[Settings]:
    async with own_namespace(settings) as own:
        yield own


async def described(bootstrap: str, topic: str) -> tuple[int, int, dict[str, str]]:
    """A topic's partitions, copies of its first partition, and its configuration."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [metadata] = await admin.describe_topics([topic])
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        await admin.close()
    [(_, _, _, _, entries)] = response.resources
    partitions = metadata["partitions"]
    return len(partitions), len(partitions[0]["replicas"]), {e[0]: e[1] for e in entries}


async def test_the_topics_have_the_partitions_copies_and_in_sync_minimum_of_the_settings(
    own: Settings,
):
    topic = topics.events_topic(own.topic_prefix, "applications")
    await topics.provision(own, [topic])

    partitions, copies, config = await described(own.kafka_bootstrap, topic)
    assert (partitions, copies) == (own.topic_partitions, own.topic_replication_factor)
    assert config["min.insync.replicas"] == str(own.topic_min_insync_replicas)
    assert (config["retention.ms"], config["retention.bytes"], config["cleanup.policy"]) == (
        "-1",
        "-1",
        "delete",
    )


async def test_topics_that_already_exist_are_left_as_they_are(own: Settings):
    topic = topics.events_topic(own.topic_prefix, "selection")
    await topics.provision(own, [topic])
    await topics.provision(own.model_copy(update={"topic_partitions": 5}), [topic])

    assert (await described(own.kafka_bootstrap, topic))[0] == own.topic_partitions


async def test_more_copies_than_the_cluster_has_brokers_is_refused_naming_the_topic_and_the_reason(
    own: Settings,
):
    topic = topics.events_topic(own.topic_prefix, "payments")
    with pytest.raises(topics.TopicsNotCreated) as refused:  # the development broker is alone
        await topics.provision(own.model_copy(update={"topic_replication_factor": 3}), [topic])

    assert topic in str(refused.value) and "InvalidReplicationFactor" in str(refused.value)
