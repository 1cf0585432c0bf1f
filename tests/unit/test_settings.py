"""Settings that cannot work together are refused at start, naming them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.kernel.settings import Settings


def test_a_topic_cannot_need_more_copies_in_sync_than_it_has():
    with pytest.raises(ValidationError) as refused:
        Settings(topic_replication_factor=2, topic_min_insync_replicas=3)

    assert "topic_min_insync_replicas (3)" in str(refused.value)
    assert "topic_replication_factor (2)" in str(refused.value)


def test_three_copies_of_which_two_in_sync_is_a_production_cluster_s_setting():
    settings = Settings(topic_replication_factor=3, topic_min_insync_replicas=2)

    assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (3, 2)


def test_the_bootstrap_of_a_cluster_names_each_of_its_brokers():
    settings = Settings(kafka_bootstrap="127.0.0.1:29092, 127.0.0.1:29094,127.0.0.1:29096")

    assert settings.kafka_servers() == ["127.0.0.1:29092", "127.0.0.1:29094", "127.0.0.1:29096"]
    assert Settings(kafka_bootstrap="kafka:9092").kafka_servers() == ["kafka:9092"]


def test_the_command_refuses_a_setting_in_one_line_naming_it_and_stores_nothing():
    env = {**os.environ, "AAP_TOPIC_PARTITIONS": "three", "AAP_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
    refused = subprocess.run(
        [sys.executable, "-m", "cli", "setup"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )

    assert refused.returncode == 2
    assert refused.stderr.startswith("aap: AAP_TOPIC_PARTITIONS: Input should be a valid integer")
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
