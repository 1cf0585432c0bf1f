"""Settings that cannot work together are refused at start, naming them."""

import pytest
from pydantic import ValidationError

from shared.settings import Settings


def test_a_topic_cannot_need_more_copies_in_sync_than_it_has():
    with pytest.raises(ValidationError) as refused:
        Settings(topic_replication_factor=2, topic_min_insync_replicas=3)

    assert "topic_min_insync_replicas (3)" in str(refused.value)
    assert "topic_replication_factor (2)" in str(refused.value)


def test_three_copies_of_which_two_in_sync_is_a_production_cluster_s_setting():
    settings = Settings(topic_replication_factor=3, topic_min_insync_replicas=2)

    assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (3, 2)
