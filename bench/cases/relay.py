"""Relay: events/s from a filled outbox to Kafka, beside Kafka's own producer and a bare aiokafka
loop.

The outbox is filled through EventStore.append (ApplicationSubmitted, 500 new streams per
transaction), so its rows are exactly what the services write. OutboxRelay then runs batch
after batch until it is drained. The ceilings send as many records of the same size with
acks=all and idempotence: Kafka's Java producer sending the very same records, keys and
headers (bench/jvm/SameRecords.java: the fair JVM ceiling), `kafka.tools.ProducerPerformance`
(the JVM client sending values only: no key, no header), and an aiokafka producer configured
as the relay's (same records, keys and headers, every send queued, acknowledgements awaited at
the end).
"""

import asyncio
import base64
import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import asyncpg

from bench.context import Bench
from bench.lives import submitted
from bench.machine import kafka_lib
from bench.measure import now
from bench.results import Comparison, Outcome
from shared.kernel import db, hashchain, topics
from shared.kernel.eventstore import EventStore
from shared.kernel.outbox import OutboxRelay, idempotent_producer

TITLE = "Relay: events per second from the outbox to Kafka"
FILL_BATCH = 500
# The JVM producer reaches its pace only once its JIT warmed up (Kafka 4.1 has no warm-up
# option): it sends at least this many records, however few the relay has.
JVM_WARM = 50_000
KERNEL_ONLY = "SELECT 1"  # the kernel's tables (events, outbox) and nothing else


async def fill(pool: asyncpg.Pool, store: EventStore, count: int, writers: int = 4) -> None:
    """`count` events appended by a few writers, FILL_BATCH new streams per transaction."""
    model = submitted(uuid4(), datetime.now(UTC))
    batches = iter(range(0, count, FILL_BATCH))  # shared: each writer takes the next batch

    async def writer() -> None:
        async with pool.acquire() as conn:
            for start in batches:
                async with conn.transaction():
                    for _ in range(min(FILL_BATCH, count - start)):
                        dossier_id = uuid4()
                        await store.append(
                            conn,
                            str(dossier_id),
                            0,
                            [model.model_copy(update={"dossier_id": dossier_id})],
                            prev_hash=hashchain.GENESIS,
                            now=datetime.now(UTC),
                            metadata={"actor": "applicant:bench"},
                        )

    await asyncio.gather(*(writer() for _ in range(writers)))


async def relay_rate(pool: asyncpg.Pool, bootstrap: str, count: int) -> float:
    producer = idempotent_producer(bootstrap, "bench-relay")
    await producer.start()
    try:
        relay = OutboxRelay(pool, producer)
        start, published = now(), 0
        while batch := await relay.relay_once():
            published += batch
        elapsed = now() - start
    finally:
        await producer.stop()
    if published != count:
        raise RuntimeError(f"the relay published {published} events of {count}")
    return count / elapsed


async def bare_rate(records: list[asyncpg.Record], bootstrap: str, topic: str) -> float:
    producer = idempotent_producer(bootstrap, "bench-bare")
    await producer.start()
    try:
        start = now()
        futures = [
            await producer.send(
                topic,
                value=bytes(r["value"]),
                key=r["key"].encode(),
                headers=[(k, v.encode()) for k, v in json.loads(r["headers"]).items()],
            )
            for r in records
        ]
        await asyncio.gather(*futures)
        return len(records) / (now() - start)
    finally:
        await producer.stop()


SAME_RECORDS = Path(__file__).parents[1] / "jvm" / "SameRecords.java"


async def jvm_rate(what: str, count: int, memory: str, *program: str) -> float:
    """A JVM program on the Kafka jars that ends saying "<count> records sent, <rate>
    records/sec" (ProducerPerformance, SameRecords.java): that rate."""
    process = await asyncio.create_subprocess_exec(
        "java",
        memory,
        "-cp",
        f"{kafka_lib()}/*",
        *program,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode(errors="replace")
    totals = re.findall(rf"^{count} records sent, ([\d.]+) records/sec", output, re.MULTILINE)
    if process.returncode != 0 or not totals:
        raise RuntimeError(f"{what} failed ({process.returncode}):\n{output[-2000:]}")
    return float(totals[-1])


def _line(r: asyncpg.Record) -> str:
    """An outbox row as SameRecords.java reads it: key, value, headers, tab-separated."""
    encoded = [base64.b64encode(bytes(r["value"])).decode()]
    encoded += [
        f"{k}={base64.b64encode(v.encode()).decode()}" for k, v in json.loads(r["headers"]).items()
    ]
    return "\t".join([r["key"], *encoded])


async def same_records_jvm(bootstrap: str, topic: str, records: list[asyncpg.Record]) -> float:
    """Kafka's Java producer sending the outbox's own records: its records/sec, timed after a
    warm-up of JVM_WARM records."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", prefix="aap-relay-") as lines:
        lines.write("\n".join(_line(r) for r in records) + "\n")
        lines.flush()
        return await jvm_rate(
            "SameRecords.java",
            len(records),
            # the records are read whole before the clock starts: ≈ 4 KiB each, twice (base64,
            # then decoded): 100,000 of them do not fit the 512 MiB that ProducerPerformance needs
            "-Xmx2g",
            str(SAME_RECORDS),
            bootstrap,
            topic,
            lines.name,
            str(JVM_WARM),
        )


async def producer_performance(bootstrap: str, topic: str, count: int, record_size: int) -> float:
    """Kafka's own ProducerPerformance: its records/sec, as it reports it at the end."""
    lib = kafka_lib()
    if not list(lib.glob("kafka-tools-*.jar")):
        raise RuntimeError(f"no kafka-tools jar in {lib} (deploy/local/kafka.sh fetches it)")
    return await jvm_rate(
        "ProducerPerformance",
        count,
        "-Xmx256m",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(count),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
        "enable.idempotence=true",
    )


async def measure(bench: Bench) -> Outcome:
    settings, count = bench.scoped("relay"), bench.sizes.relay_events
    relayed, bare, perf, same = (
        topics.events_topic(settings.topic_prefix, name)
        for name in ("relayed", "bare", "perf", "same")
    )
    await topics.ensure_topics(
        settings.kafka_bootstrap, [relayed, bare, perf, same], settings.topic_partitions
    )
    await db.provision(settings, "outbox", KERNEL_ONLY)
    pool = await db.open_pool(settings, "outbox", size=4)
    try:
        await fill(pool, EventStore(source="/aap/applications", topic=relayed), count)
        async with pool.acquire() as conn:
            records = await conn.fetch("SELECT key, headers, value FROM outbox ORDER BY position")
        value_bytes = round(sum(len(r["value"]) for r in records) / len(records))
        header_bytes = round(
            sum(len(k) + len(v) for r in records for k, v in json.loads(r["headers"]).items())
            / len(records)
        )
        java_records = max(count, JVM_WARM)
        java = await producer_performance(settings.kafka_bootstrap, perf, java_records, value_bytes)
        jvm_same = await same_records_jvm(settings.kafka_bootstrap, same, records)
        aiokafka = await bare_rate(records, settings.kafka_bootstrap, bare)
        del records
        relay = await relay_rate(pool, settings.kafka_bootstrap, count)
    finally:
        await pool.close()
    return Outcome(
        parameters={
            "events": count,
            "value_bytes": value_bytes,
            "header_bytes": header_bytes,
            "producer_performance_records": java_records,
            "partitions": settings.topic_partitions,
        },
        comparisons=[
            Comparison(
                "outbox relayed to Kafka",
                "events/s",
                relay,
                jvm_same,
                "Kafka's Java producer, same records, keys and headers (acks=all, idempotent)",
            ),
            Comparison(
                "outbox relayed to Kafka",
                "events/s",
                relay,
                java,
                "Kafka ProducerPerformance (JVM, acks=all, idempotent, value only)",
            ),
            Comparison(
                "outbox relayed to Kafka",
                "events/s",
                relay,
                aiokafka,
                "bare aiokafka producer loop (acks=all, idempotent, same records)",
            ),
        ],
    )
