"""SIGTERM while events flow: the event in hand is finished and committed, nothing is
applied twice after the restart, and the log says the service stopped cleanly."""

from collections import defaultdict
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from shared.kernel.settings import Settings
from tests.conftest import own_namespace
from tests.e2e.processes import ready, start
from tests.e2e.submissions import checked_dossiers, processed, publish, submitted
from tests.helpers import wait_for

DOSSIERS = 2000  # batches of up to 200 events: a stop arrives while some are still to come


async def committed_offsets(settings: Settings, group: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()}


async def test_a_service_stopped_by_sigterm_commits_what_it_applied_and_gets_nothing_twice(
    settings: Settings, tmp_path: Path
):
    async with own_namespace(settings) as own:
        first = await ready(start(own, "selection", tmp_path))
        await publish(own, [submitted(n) for n in range(DOSSIERS)])

        async def flowing() -> bool:
            return len(await processed(own, "selection", "eligibility")) >= 20

        await wait_for(flowing, timeout=60, what="events to flow")
        first.terminate()
        assert any("stopped cleanly" in line["message"] for line in first.log_lines())

        applied = await processed(own, "selection", "eligibility")
        assert len(applied) < DOSSIERS, "all was done before SIGTERM: nothing was in flight"
        last_applied: dict[int, int] = defaultdict(lambda: -1)
        for row in applied:
            last_applied[row["kafka_partition"]] = max(
                last_applied[row["kafka_partition"]], row["kafka_offset"]
            )
        committed = await committed_offsets(own, f"{own.topic_prefix}.selection.eligibility")
        # Every event applied is committed, and no further: nothing comes back, nothing is lost.
        assert {p: committed.get(p, 0) for p in last_applied} == {
            p: o + 1 for p, o in last_applied.items()
        }

        second = await ready(start(own, "selection", tmp_path))
        try:

            async def all_checked() -> bool:
                return len(await checked_dossiers(own)) >= DOSSIERS

            await wait_for(all_checked, timeout=120, what="every dossier checked after the restart")
            assert set((await checked_dossiers(own)).values()) == {1}
            assert len(await processed(own, "selection", "eligibility")) == DOSSIERS
            assert (
                await second.metric(
                    "aap_events_consumed_total", consumer="eligibility", outcome="duplicate"
                )
                == 0
            )
        finally:
            second.terminate()
