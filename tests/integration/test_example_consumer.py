"""The integrators' example consumer, run as they would run it, against topics of known events."""

import asyncio
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationWithdrawn
from shared.contracts.notifications import NotificationSentV1
from shared.kernel import topics
from shared.kernel.envelope import Envelope, wrap
from shared.kernel.settings import Settings
from tests.conftest import own_namespace

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "consumer.py"


@pytest.fixture(scope="module")
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    async with own_namespace(settings) as own:
        yield own


def envelope(event: DomainEvent, service: str) -> Envelope:
    return wrap(event, event_id=uuid4(), source=f"/aap/{service}", time=datetime.now(UTC))


def withdrawal(dossier_id, n: int) -> ApplicationWithdrawn:  # type: ignore[no-untyped-def]
    return ApplicationWithdrawn(
        dossier_id=dossier_id,
        reference=f"AAP-DEMO-{n:05d}",
        campaign_id="demo",
        withdrawn_at=datetime.now(UTC),
        reason="retrait",
    )


async def send(settings: Settings, records: list[tuple[str, Envelope]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        for topic, e in records:
            await producer.send_and_wait(
                topic,
                e.value(),
                key=e.subject.encode(),
                headers=[(k, v.encode()) for k, v in e.headers().items()],
            )
    finally:
        await producer.stop()


async def lines_until(
    process: asyncio.subprocess.Process, expected: set[str], timeout: float = 60
) -> list[str]:
    """The lines printed until every expected ce_id was in one."""
    assert process.stdout is not None
    lines: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not all(any(f"id={i} " in line for line in lines) for i in expected):
        line = await asyncio.wait_for(process.stdout.readline(), timeout=deadline - loop.time())
        assert line, f"the consumer stopped: {lines}"
        lines.append(line.decode().rstrip("\n"))
    return lines


async def test_the_example_consumer_prints_each_event_of_every_topic_once_from_offset_0(
    settings: Settings, tmp_path: Path
) -> None:
    # given two services' topics with events, one of them delivered twice, and a dead letter
    prefix = settings.topic_prefix
    applications = topics.events_topic(prefix, "applications")
    notifications = topics.events_topic(prefix, "notifications")
    dead_letters = topics.dead_letter_topic(prefix, "applications")
    await topics.ensure_topics(
        settings.kafka_bootstrap,
        [applications, notifications, dead_letters],
        settings.topic_partitions,
    )
    dossier = uuid4()
    first, second, third = (envelope(withdrawal(dossier, n), "applications") for n in (1, 2, 3))
    mail = envelope(
        NotificationSentV1(
            dossier_id=dossier,
            notification_id="n-1",
            template="eligible",
            recipients=["maire@roubaix.example.fr"],
            message_id="<m@aap>",
            sent_at=datetime.now(UTC),
        ),
        "notifications",
    )
    # one dossier, one key, one partition: the duplicate is read before the third event
    await send(
        settings,
        [
            (applications, first),
            (applications, second),
            (applications, first),
            (applications, third),
            (notifications, mail),
            (dead_letters, second),
        ],
    )
    # when the example consumer runs, as its docstring says
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "--bootstrap",
        settings.kafka_bootstrap,
        "--prefix",
        prefix,
        "--group",
        f"{prefix}.example",
        "--db",
        str(tmp_path / "state.sqlite3"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ),
    )
    try:
        ids = {str(e.id) for e in (first, second, third, mail)}
        lines = await lines_until(process, ids)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=30)
    # then it printed one line per event, the duplicate once, the old version read as the latest
    assert process.returncode == 0
    assert len(lines) == 4, lines
    assert [line for line in lines if applications in line] == [
        line for e in (first, second, third) for line in lines if f"id={e.id} " in line
    ]
    [notice] = [line for line in lines if f"id={mail.id} " in line]
    assert "NotificationSent.v2" in notice and "maire@roubaix.example.fr" in notice
    # and its effect and the processed ids were kept together
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    assert db.execute("SELECT count(*) FROM processed_events").fetchone() == (4,)
    assert db.execute("SELECT dossier_id, events FROM dossiers").fetchall() == [(str(dossier), 4)]
