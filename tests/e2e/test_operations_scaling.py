"""Scaling out: two instances of a service in one consumer group share the partitions, and
each dossier's events are still applied once, in their order."""

from collections import defaultdict
from pathlib import Path

from shared.contracts import DomainEvent
from shared.kernel.settings import Settings
from tests.conftest import own_namespace
from tests.e2e.processes import Service, running
from tests.e2e.submissions import checked_dossiers, processed, publish, submitted, withdrawn
from tests.helpers import wait_for

DOSSIERS = 60


async def eligibility_partitions(instance: Service) -> set[str]:
    answer = await instance.readiness() or {}
    return {
        p
        for group, held in answer.get("partitions", {}).items()
        if group.endswith(".eligibility")
        for p in held
    }


async def test_two_instances_share_the_partitions_and_keep_each_dossiers_order(
    settings: Settings, tmp_path: Path
):
    async with (
        own_namespace(settings) as own,
        running(own, ["selection", "selection"], tmp_path) as pair,
    ):

        async def shared_out() -> bool:
            held = [await eligibility_partitions(instance) for instance in pair]
            return (
                all(held)
                and not held[0] & held[1]
                and len(held[0] | held[1]) == own.topic_partitions
            )

        await wait_for(shared_out, timeout=60, what="the two instances to share the partitions")

        submissions = [submitted(n) for n in range(DOSSIERS)]
        events: list[DomainEvent] = [e for s in submissions for e in (s, withdrawn(s))]
        await publish(own, events)

        async def all_checked() -> dict | None:
            checked = await checked_dossiers(own)
            return checked if len(checked) >= DOSSIERS else None

        checked = await wait_for(all_checked, timeout=90, what="every dossier checked")
        assert {s.dossier_id for s in submissions} == set(checked)
        assert set(checked.values()) == {1}, "a dossier was checked more than once"

        for instance in pair:  # each instance took its share of the work
            assert (
                await instance.metric(
                    "aap_events_consumed_total", consumer="eligibility", outcome="applied"
                )
                > 0
            )

        async def projected() -> list | None:
            rows = await processed(own, "selection", "dossiers")
            return (
                rows
                if len([r for r in rows if r["topic"].endswith("applications.events")])
                >= len(events)
                else None
            )

        rows = [
            r
            for r in await wait_for(projected, timeout=60, what="every event projected")
            if r["topic"].endswith("applications.events")
        ]
    by_partition: dict[int, list] = defaultdict(list)
    for row in rows:
        by_partition[row["kafka_partition"]].append(row)
    for partition_rows in by_partition.values():
        # One partition, one instance, one event after the other: applied in the log's order.
        in_log_order = sorted(partition_rows, key=lambda r: r["kafka_offset"])
        assert sorted(partition_rows, key=lambda r: r["processed_at"]) == in_log_order
