"""Kafka as a cluster of three nodes (deploy/local/kafka.sh, AAP_KAFKA_BROKERS=3; the platform's
topics with 3 copies, 2 in sync): the leader of a partition killed with kill -9 while dossiers
are filed, checked and withdrawn loses no event, and puts none out of its dossier's order."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.kernel import topics
from shared.language.actors import Role
from tests.e2e.lab import Lab, lab
from tests.e2e.processes import ready
from tests.factories import eligible_dossier
from tests.helpers import bearer, post_until_answered, read_topic, wait_for

BROKERS = 3
# dossiers filed and withdrawn before the kill; then more, until another node leads, and so many
# after it does
BEFORE, AFTER = 20, 20
WORKERS = 4


@pytest.fixture(scope="module")
async def the_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with lab(tmp_path_factory.mktemp("cluster"), brokers=BROKERS) as running:
        yield running


async def command(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], token: dict[str, str]
) -> dict[str, Any]:
    """A command as the README tells a client to send it: with its key, sent again while the
    answer is a 503 or the connection is lost; its answer, a 201."""
    headers = {**token, "Idempotency-Key": str(uuid4())}
    answer = await post_until_answered(client, url, body, headers)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def journey(the_cluster: Lab, client: httpx.AsyncClient) -> str:
    """One dossier filed, then withdrawn: two events of its stream in applications, and what
    selection records of it (its eligibility, the préfecture's opinion asked, the withdrawal)."""
    applications = the_cluster.services["applications"]
    dossier = eligible_dossier()
    applicant = bearer(the_cluster.settings, Role.applicant, siren=dossier["applicant"]["siren"])
    filed = await command(client, applications.url("/campaigns/demo/dossiers"), dossier, applicant)
    await command(
        client,
        applications.url(f"/dossiers/{filed['dossier_id']}/withdrawal"),
        {"reason": "Le conseil municipal a retiré le projet."},
        applicant,
    )
    return str(filed["dossier_id"])


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: str
    event_id: str


async def records_holding(the_cluster: Lab, service: str, event_ids: set[str]) -> list[Record]:
    """Every record of a service's topic from the start, once all these events are among them
    (or 90 s passed: the test then says which are missing)."""
    records = await read_topic(
        the_cluster.settings,
        topics.events_topic(the_cluster.settings.topic_prefix, service),
        lambda read: event_ids <= {dict(r.headers)["ce_id"].decode() for r in read},
        timeout=90,
        strict=False,
    )
    return [
        Record(r.partition, r.offset, r.key.decode(), dict(r.headers)["ce_id"].decode())
        for r in records
    ]


async def streams(the_cluster: Lab, service: str, dossiers: set[str]) -> dict[str, list[str]]:
    """The event ids of each of these dossiers' streams in the service's store, by version."""
    conn = await the_cluster.connect(service)
    try:
        rows = await conn.fetch(
            "SELECT stream_id, event_id FROM events WHERE stream_id = ANY($1::text[]) "
            "ORDER BY stream_id, version",
            list(dossiers),
        )
    finally:
        await conn.close()
    stored: dict[str, list[str]] = {}
    for row in rows:
        stored.setdefault(row["stream_id"], []).append(str(row["event_id"]))
    return stored


def out_of_order(stored: dict[str, list[str]], records: list[Record]) -> dict[str, list[str]]:
    """The streams whose events' first records on the topic do not follow their versions: each
    with its event ids in the order the topic has them (all under the dossier's key, so in one
    partition)."""
    first: dict[str, Record] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        first.setdefault(record.event_id, record)
    broken = {}
    for stream_id, event_ids in stored.items():
        published = [first[e] for e in event_ids]
        as_published = sorted(published, key=lambda r: (r.partition, r.offset))
        if as_published != published or {r.key for r in published} != {stream_id}:
            version = {e: v for v, e in enumerate(event_ids, start=1)}
            broken[stream_id] = [
                f"v{version[r.event_id]} at {r.partition}/{r.offset} under {r.key}"
                for r in as_published
            ]
    return broken


async def test_the_leader_of_a_partition_killed_under_load_loses_and_reorders_nothing(
    the_cluster: Lab,
):
    topic = topics.events_topic(the_cluster.settings.topic_prefix, "applications")
    partitions = await the_cluster.partitions(topic)
    assert all(len(p["replicas"]) == BROKERS for p in partitions.values()), partitions
    dossiers: list[str] = []
    failed_over = asyncio.Event()

    # given dossiers filed and withdrawn, a few at a time, all along
    async def worker(client: httpx.AsyncClient) -> None:
        while not failed_over.is_set() or len(dossiers) < after_failover + AFTER:
            dossiers.append(await journey(the_cluster, client))

    async def killer() -> int:
        async def under_way() -> bool:
            return len(dossiers) >= BEFORE

        await wait_for(under_way, timeout=120, what=f"{BEFORE} dossiers filed and withdrawn")
        leader = await the_cluster.leader_of(topic, 0)
        await the_cluster.kill_broker(leader)

        # then another node leads the partition, while dossiers are still filed
        async def another_leads() -> bool:
            return (await the_cluster.leader_of(topic, 0)) not in (leader, -1)

        await wait_for(another_leads, timeout=60, what=f"a leader of {topic}/0 but {leader}")
        nonlocal after_failover
        after_failover = len(dossiers)
        failed_over.set()
        return leader

    # when the leader of the applications topic's partition 0 is killed (kill -9) among them
    after_failover = 0
    async with httpx.AsyncClient(timeout=30) as client:
        *_, leader = await asyncio.gather(*(worker(client) for _ in range(WORKERS)), killer())

    # and once the node is back, every service is ready and it holds its copies again
    await the_cluster.start_broker(leader)
    await asyncio.gather(*(ready(s, timeout=90) for s in the_cluster.services.values()))

    async def all_in_sync() -> bool:
        return all(len(p["isr"]) == BROKERS for p in (await the_cluster.partitions(topic)).values())

    await wait_for(all_in_sync, timeout=60, what=f"every copy of {topic} in sync")
    # and selection checked every dossier
    filed = set(dossiers)

    async def all_checked() -> bool:
        stored = await streams(the_cluster, "selection", filed)
        return stored.keys() == filed

    await wait_for(all_checked, timeout=90, what="every dossier in selection")
    # and every event applications and selection stored is on their topic, each dossier's
    # events in the order of its stream
    for service in ("applications", "selection"):
        stored = await streams(the_cluster, service, filed)
        assert stored.keys() == filed
        event_ids = {e for stream in stored.values() for e in stream}
        records = await records_holding(the_cluster, service, event_ids)
        lost = event_ids - {r.event_id for r in records}
        assert lost == set(), f"{len(lost)} of {service}'s events are not on its topic"
        assert out_of_order(stored, records) == {}, f"{service}'s events out of their order"
