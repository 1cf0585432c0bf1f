"""An integrator's consumer of the aap events: every topic from offset 0, each event once.

It needs Python 3.10+ and aiokafka (`pip install aiokafka`), not aap's code. It reads every
`<prefix>.<service>.events` topic in a consumer group of its own, from the first offset the
first time, and prints one line per event. Delivery is at least once: the id of each event
it has processed (`ce_id`) is kept in a SQLite file, in the same transaction as its effect
(here, the dossiers it has seen), so that a redelivered event has no second effect.

    python examples/consumer.py --bootstrap 127.0.0.1:29092 --prefix aap
"""

import argparse
import asyncio
import json
import re
import signal
import sqlite3
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord

TYPE_PREFIX = "fr.gouv.mildeca.aap."

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_events (
    ce_id TEXT PRIMARY KEY, topic TEXT NOT NULL, kafka_partition INTEGER NOT NULL,
    kafka_offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dossiers (
    dossier_id TEXT PRIMARY KEY, last_event TEXT NOT NULL, last_time TEXT NOT NULL,
    events INTEGER NOT NULL
);
"""

_SEEN = """
INSERT INTO processed_events (ce_id, topic, kafka_partition, kafka_offset) VALUES (?, ?, ?, ?)
"""
_DOSSIER = """
INSERT INTO dossiers (dossier_id, last_event, last_time, events) VALUES (?, ?, ?, 1)
ON CONFLICT (dossier_id) DO UPDATE SET last_event = excluded.last_event,
                                       last_time = excluded.last_time, events = events + 1
"""


def upcast(event_type: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Older versions stay in the log forever: read them as the latest (docs/integrators.md)."""
    if event_type == "NotificationSent.v1":  # v2 split the addresses into To and Cc
        data = {**data, "to": data["recipients"], "cc": []}
        del data["recipients"]
        return "NotificationSent.v2", data
    added_in_v2 = {  # v2 said a deadline, or what it follows from; v1 did not
        "PrefectureOpinionRequested.v1": ("due_at",),
        "ConventionSigned.v1": ("duration_months",),
        "FundsCommitted.v1": ("final_report_due_at",),
        "EligibilityChecked.v1": ("duration_months", "after_amendment"),
    }
    if event_type in added_in_v2:
        added = dict.fromkeys(added_in_v2[event_type])
        return event_type.replace(".v1", ".v2"), {**data, **added}
    return event_type, data


def handle(db: sqlite3.Connection, record: ConsumerRecord) -> str | None:
    """Apply one record once; its line, or None when it was already processed (or not ours)."""
    headers = {key: value.decode() for key, value in record.headers}
    if "ce_id" not in headers or "ce_type" not in headers:
        return None  # not a CloudEvent: nothing we know how to read
    event_type, data = upcast(
        headers["ce_type"].removeprefix(TYPE_PREFIX), json.loads(record.value)
    )
    try:
        with db:  # one transaction: the processed id and the effect, or neither
            db.execute(_SEEN, (headers["ce_id"], record.topic, record.partition, record.offset))
            db.execute(_DOSSIER, (headers["ce_subject"], event_type, headers["ce_time"]))
    except sqlite3.IntegrityError:
        return None  # this ce_id was processed already: a redelivery
    detail = data.get("reference") or ", ".join(data.get("to", []))
    return (
        f"{headers['ce_time']} {event_type} dossier={headers['ce_subject']} "
        f"id={headers['ce_id']} {detail} ({record.topic}/{record.partition}@{record.offset})"
    )


async def consume(
    bootstrap: str, prefix: str, group: str, db: sqlite3.Connection, stop: asyncio.Event
) -> None:
    pattern = rf"^{re.escape(prefix)}\.[^.]+\.events$"  # not the `.deadletter` topics
    # A group of one's own that has committed nothing starts from offset 0 (earliest).
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    consumer.subscribe(pattern=pattern)
    await consumer.start()
    print(f"reading {pattern} as group {group}", file=sys.stderr, flush=True)
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    line = handle(db, record)
                    if line:
                        print(line, flush=True)
            if batches:
                await consumer.commit()  # after the effects: a crash before it means a redelivery
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:29092", help="Kafka bootstrap servers")
    parser.add_argument("--prefix", default="aap", help="topic prefix: <prefix>.<service>.events")
    parser.add_argument("--group", default="example-consumer", help="this consumer's group id")
    parser.add_argument("--db", default="example-consumer.sqlite3", help="SQLite file of its state")
    args = parser.parse_args()
    db = sqlite3.connect(args.db)
    db.executescript(SCHEMA)

    async def run() -> None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await consume(args.bootstrap, args.prefix, args.group, db, stop)

    try:
        asyncio.run(run())
    finally:
        db.close()


if __name__ == "__main__":
    main()
