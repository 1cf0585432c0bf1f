"""What the platform holds after a scenario, and what must be zero in it.

Read from each service's PostgreSQL (its event store and read models) and from Kafka (its topic,
from the first offset to the last): events committed but not published, published but never
committed, a dossier's events out of their order on the topic, effects had twice (an event a
dossier has once recorded twice, a grant counted twice, a mail queued or received twice).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from chaos.load import Life
from chaos.mails import Mails
from shared.kernel import topics
from tests.e2e.conftest import SERVICES
from tests.e2e.lab import Lab

# What a dossier records once in its life, by service; a second one is an effect had twice.
ONCE = {
    "applications": {"ApplicationSubmitted"},
    "selection": {
        "EligibilityChecked",
        "PrefectureOpinionRequested",
        "PrefectureOpinionGiven",
        "CommitteeAssessmentRecorded",
        "SelectionDecided",
        "ConventionSigned",
    },
    "payments": {"FundsCommitted"},
    "notifications": set(),
}


def short(event_type: str) -> str:
    """`fr.gouv.aap.selection.EligibilityChecked.v1` → `EligibilityChecked`."""
    parts = event_type.split(".")
    return parts[-2] if len(parts) > 1 and parts[-1].startswith("v") else parts[-1]


@dataclass
class Stored:
    event_id: str
    stream_id: str
    version: int
    name: str
    dossier_id: str
    data: dict[str, Any]


async def stored(lab: Lab, service: str) -> list[Stored]:
    conn = await lab.connect(service)
    try:
        rows = await conn.fetch(
            "SELECT event_id::text AS event_id, stream_id, version, event_type, data::text "
            "AS data FROM events"
        )
    finally:
        await conn.close()
    out = []
    for r in rows:
        data = orjson.loads(r["data"])
        out.append(
            Stored(
                r["event_id"],
                r["stream_id"],
                r["version"],
                short(r["event_type"]),
                str(data.get("dossier_id", "")),
                data,
            )
        )
    return out


async def existing_topics(lab: Lab) -> set[str]:
    probe = AIOKafkaConsumer(bootstrap_servers=lab.settings.kafka_bootstrap, group_id=None)
    await probe.start()
    try:
        return set(await probe.topics())
    finally:
        await probe.stop()


async def published(lab: Lab, topic: str, existing: set[str]) -> list[tuple[int, str]]:
    """(partition, ce_id) of every record of the topic, in each partition's order (none for a
    topic not in `existing`: a dead-letter topic nobody wrote to)."""
    out: list[tuple[int, str]] = []
    if topic not in existing:
        return out
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=lab.settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or []]
        ends = await reader.end_offsets(partitions)
        position = dict.fromkeys(partitions, 0)
        while any(position[tp] < ends[tp] for tp in partitions):
            for tp, records in (await reader.getmany(timeout_ms=500)).items():
                for record in records:
                    headers = dict(record.headers)
                    if "ce_id" in headers:
                        out.append((tp.partition, headers["ce_id"].decode()))
                    position[tp] = record.offset + 1
    finally:
        await reader.stop()
    return out


def order_violations(records: list[tuple[int, str]], versions: dict[str, tuple[str, int]]) -> int:
    """Records whose stream's version comes before one already seen on the partition (the
    first copy of each event counts: a later copy is a redelivery readers drop by its id)."""
    last: dict[tuple[int, str], int] = {}
    seen: set[str] = set()
    violations = 0
    for partition, event_id in records:
        if event_id in seen or event_id not in versions:
            continue
        seen.add(event_id)
        stream, version = versions[event_id]
        if version < last.get((partition, stream), 0):
            violations += 1
        last[(partition, stream)] = max(version, last.get((partition, stream), 0))
    return violations


async def bus(lab: Lab, service: str, events: list[Stored], existing: set[str]) -> dict[str, Any]:
    prefix = lab.settings.topic_prefix
    records = await published(lab, topics.events_topic(prefix, service), existing)
    dead = await published(lab, topics.dead_letter_topic(prefix, service), existing)
    ids = {e.event_id for e in events}
    on_kafka = {event_id for _, event_id in records}
    versions = {e.event_id: (e.stream_id, e.version) for e in events}
    return {
        "in_postgresql": len(ids),
        "on_kafka": len(records),
        "on_kafka_distinct": len(on_kafka),
        "missing_from_kafka": len(ids - on_kafka),
        "never_committed": len(on_kafka - ids),
        "published_twice": len(records) - len(on_kafka),
        "order_violations": order_violations(records, versions),
        "dead_letters": len(dead),
    }


async def scalar(lab: Lab, service: str, sql: str) -> Any:
    conn = await lab.connect(service)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def effects(
    lab: Lab, events: dict[str, list[Stored]], lives: list[Life]
) -> dict[str, int | str]:
    """Effects had twice, or not had, by the lives' dossiers."""
    dossiers = {life.dossier_id for life in lives if life.dossier_id}
    twice = 0
    for service, names in ONCE.items():
        counts = Counter(
            (e.dossier_id, e.name)
            for e in events[service]
            if e.name in names and e.dossier_id in dossiers
        )
        twice += sum(n - 1 for n in counts.values() if n > 1)
    signatures = Counter(
        (e.dossier_id, e.data.get("party"))
        for e in events["selection"]
        if e.name == "ConventionSignatureAdded" and e.dossier_id in dossiers
    )
    twice += sum(n - 1 for n in signatures.values() if n > 1)
    sent = Counter(
        e.data.get("notification_id")
        for e in events["notifications"]
        if e.name == "NotificationSent"
    )
    twice += sum(n - 1 for n in sent.values() if n > 1)
    granted = sum(
        (
            Decimal(e.data["granted_eur"])
            for e in events["selection"]
            if e.name == "SelectionDecided"
        ),
        Decimal(0),
    )
    envelope = await scalar(
        lab, "selection", "SELECT coalesce(sum(granted_eur), 0) FROM campaign_envelopes"
    )
    committed = await scalar(
        lab, "payments", "SELECT coalesce(sum(committed_eur), 0) FROM payments_dossiers"
    )
    queued_twice = await scalar(
        lab,
        "notifications",
        "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM mails "
        "GROUP BY dossier_id, template, facts) m WHERE n > 1",
    )
    total = sum(len(v) for v in events.values())
    audited = await scalar(lab, "notifications", "SELECT count(*) FROM audit_trail")
    return {
        "events_had_twice": twice,
        "granted_in_decisions_eur": str(granted),
        "granted_in_selection_envelope_eur": str(envelope),
        "committed_in_payments_eur": str(committed),
        "grants_counted_twice": int(envelope != granted) + int(committed != granted),
        "mails_queued_twice": int(queued_twice),
        "events_in_audit_trail": int(audited),
        "events_missing_from_audit_trail": total - int(audited),
    }


def mails(sink: Mails, lives: list[Life], expected: dict[str, Counter[str]]) -> dict[str, int]:
    """Mails expected (by each life's kind), received, missing, doubled."""
    done = [life for life in lives if life.done]
    got = sink.templates({life.reference for life in done})
    wanted = received = missing = doubled = other = 0
    for life in done:
        for template, n in expected[life.kind].items():
            wanted += n
            have = got[life.reference][template]
            received += min(have, n)
            missing += max(0, n - have)
            doubled += max(0, have - n)
        other += sum(n for t, n in got[life.reference].items() if t not in expected[life.kind])
    return {
        "expected": wanted,
        "received": received,
        "missing": missing,
        "of_other_templates": other,
        "doubled": doubled + sink.doubled(),
    }


async def ledger(
    lab: Lab, lives: list[Life], sink: Mails, expected: dict[str, Counter[str]]
) -> dict[str, Any]:
    events = {service: await stored(lab, service) for service in SERVICES}
    existing = await existing_topics(lab)
    per_service = {
        service: await bus(lab, service, events[service], existing) for service in SERVICES
    }
    return {
        "bus": per_service,
        "effects": await effects(lab, events, lives),
        "mails": mails(sink, lives, expected),
    }


def zeros(figures: dict[str, Any]) -> list[str]:
    """What must be zero and is not, named."""
    broken = []
    for service, f in figures["bus"].items():
        for key in ("missing_from_kafka", "never_committed", "order_violations", "dead_letters"):
            if f[key]:
                broken.append(f"{service}: {key} = {f[key]}")
    for key in (
        "events_had_twice",
        "grants_counted_twice",
        "mails_queued_twice",
        "events_missing_from_audit_trail",
    ):
        if figures["effects"][key]:
            broken.append(f"{key} = {figures['effects'][key]}")
    for key in ("missing", "doubled"):
        if figures["mails"][key]:
            broken.append(f"mails {key} = {figures['mails'][key]}")
    return broken


def templates_of(sink: Mails, lives: list[Life]) -> dict[str, Counter[str]]:
    """The mails each kind of life calls for, learnt from lives lived without a fault."""
    got = sink.templates({life.reference for life in lives})
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for life in lives:
        by_kind[life.kind] = by_kind[life.kind] or got[life.reference]
    return dict(by_kind)
