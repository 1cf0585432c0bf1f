"""`aap rebuild SERVICE`: the read models replayed from offset 0 equal the live ones.

Each service runs in this process on the real Kafka and PostgreSQL, fills its read models
from the log, and is stopped; then the command runs as an operator would run it.
"""

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from services.applications import main as applications
from services.notifications import handlers as notifications_handlers
from services.notifications import main as notifications
from services.payments import main as payments
from services.selection import main as selection
from shared.contracts.notifications import NotificationSent, NotificationSentV1
from shared.kernel import db, topics
from shared.kernel.envelope import wrap
from shared.kernel.eventstore import EventStore
from shared.kernel.projection import digest
from shared.kernel.sampling import consumer_lag
from shared.kernel.settings import Settings
from shared.language.actors import Role
from tests.conftest import own_namespace, settings_env
from tests.factories import eligible_dossier
from tests.helpers import bearer, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    """A namespace of its own: no other consumer may touch the read models between digests."""
    async with own_namespace(settings) as own:
        yield own


@asynccontextmanager
async def running(settings: Settings, service: ModuleType) -> AsyncIterator[httpx.AsyncClient]:
    """The service in this process: HTTP, relay, consumers; stopped on exit (`http.app`: the
    application, for `caught_up`)."""
    app = service.create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=f"http://{service.NAME}"
        ) as http,
    ):
        http.app = app  # type: ignore[attr-defined]
        yield http


@asynccontextmanager
async def database(settings: Settings, service: ModuleType) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, service.NAME, service.spec().schema_sql)
    pool = await db.open_pool(settings, service.NAME)
    try:
        yield pool
    finally:
        await pool.close()


async def read_models(settings: Settings, service: ModuleType) -> list[str]:
    from shared.kernel.runtime import Runtime

    spec = service.spec()
    return [t for s in spec.subscriptions(Runtime(spec, settings)) for t in s.read_models]


async def rebuilt(settings: Settings, service: str) -> str:
    """Run `aap rebuild SERVICE`; its output, once it succeeded."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "rebuild",
        service,
        cwd=ROOT,
        env={**os.environ, **settings_env(settings), "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    text = out.decode()
    assert process.returncode == 0, text
    return text


async def rows(pool: asyncpg.Pool, query: str, *args: Any) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval(query, *args))


async def caught_up(app: FastAPI) -> bool:
    """Every consumer group of the service has joined and committed the end of its topics:
    all its live read models are complete, not only the one a test looks at."""
    for group, consumer in app.state.runtime.group_consumers():
        if not consumer.assignment() or any((await consumer_lag(group, consumer)).values()):
            return False
    return True


async def until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    await wait_for(predicate, timeout=60, what=what)


async def test_the_applications_read_model_rebuilt_by_the_command_equals_the_live_one(settings):
    async with database(settings, applications) as pool:
        # given dossiers filed and one withdrawn, projected by the running service
        async with running(settings, applications) as http:
            filed = []
            for _ in range(3):
                dossier = eligible_dossier()
                applicant = bearer(settings, Role.applicant, siren=dossier["applicant"]["siren"])
                answer = await http.post(
                    "/campaigns/demo/dossiers", json=dossier, headers=applicant
                )
                assert answer.status_code == 201, answer.text
                filed.append((UUID(answer.json()["dossier_id"]), applicant))
            withdrawn, applicant = filed[0]
            answer = await http.post(
                f"/dossiers/{withdrawn}/withdrawal",
                json={"reason": "Le conseil municipal a retiré le projet."},
                headers=applicant,
            )
            assert answer.status_code == 201, answer.text

            async def projected() -> bool:
                return (
                    await rows(
                        pool,
                        "SELECT count(*) FROM dossiers WHERE dossier_id = ANY($1) "
                        "AND (dossier_id <> $2 OR status = 'withdrawn')",
                        [d for d, _ in filed],
                        withdrawn,
                    )
                    == 3
                ) and await caught_up(http.app)

            await until(projected, "the dossiers in the live read model")
        live = await digest(pool, ["dossiers"])
        # when the read model is rebuilt from offset 0 by the command
        output = await rebuilt(settings, "applications")
        # then it is the same, and the command said so, with its pace and its total
        assert await digest(pool, ["dossiers"]) == live
        assert "dossiers: 4 events read, 4 applied" in output
        assert "events/s" in output and "equal" in output and "DIFFERENT" not in output


async def test_the_selection_read_model_rebuilt_by_the_command_equals_the_live_one(settings):
    # given the dossiers of the test above, checked by selection and projected as it runs
    async with database(settings, selection) as pool:
        async with running(settings, selection) as http:

            async def checked() -> bool:
                return (
                    await rows(
                        pool, "SELECT count(*) FROM selection_dossiers WHERE eligible IS NOT NULL"
                    )
                    >= 3
                ) and await caught_up(http.app)

            await until(checked, "the eligibility checks in selection's read model")
        tables = await read_models(settings, selection)
        live = await digest(pool, tables)
        # when its read models are rebuilt by the command
        output = await rebuilt(settings, "selection")
        # then they are the same
        assert await digest(pool, tables) == live
        assert "equal" in output and "DIFFERENT" not in output


async def test_the_rebuild_command_runs_on_a_log_without_events_for_it(settings):
    async with database(settings, payments) as pool:
        tables = await read_models(settings, payments)
        live = await digest(pool, tables)
        output = await rebuilt(settings, "payments")
        assert await digest(pool, tables) == live
        assert "0 events read" in output and "equal" in output


async def test_the_notifications_read_models_rebuilt_by_the_command_equal_the_live_ones(settings):
    async with own_namespace(settings) as own, database(own, notifications) as pool:
        topic = topics.events_topic(own.topic_prefix, "notifications")
        store = EventStore(source="/aap/notifications", topic=topic)
        async with running(own, notifications) as http:
            # given mails recorded as sent by today's mailer, and one by its version 1
            now = datetime.now(UTC)
            sent = [
                NotificationSent(
                    dossier_id=uuid4(),
                    notification_id=f"n-{uuid4()}",
                    template="eligible",
                    to=["maire@roubaix.example.fr"],
                    cc=["instruction@mildeca.example.fr"],
                    message_id=f"<{n}@aap>",
                    sent_at=now,
                )
                for n in range(2)
            ]
            async with pool.acquire() as conn, conn.transaction():
                for event in sent:
                    await notifications_handlers.record(conn, store, event, now)
            old = NotificationSentV1(
                dossier_id=uuid4(),
                notification_id=f"n-{uuid4()}",
                template="eligible",
                recipients=["maire@lille.example.fr"],
                message_id="<old@aap>",
                sent_at=now,
            )
            await produce(own, topic, old)

            async def projected() -> bool:
                return await rows(
                    pool, "SELECT count(*) FROM notification_log"
                ) == 3 and await caught_up(http.app)

            await until(projected, "the mails in the live notification log")
        tables = await read_models(own, notifications)
        live = await digest(pool, tables)
        # when they are rebuilt by the command
        output = await rebuilt(own, "notifications")
        # then they are the same
        assert await digest(pool, tables) == live
        assert "notification-log: 3 events read, 3 applied" in output
        assert "DIFFERENT" not in output


async def produce(settings: Settings, topic: str, event: NotificationSentV1) -> None:
    """A record as the notifications service wrote it in version 1."""
    envelope = wrap(event, event_id=uuid4(), source="/aap/notifications", time=datetime.now(UTC))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            envelope.value(),
            key=str(event.dossier_id).encode(),
            headers=[(k, v.encode()) for k, v in envelope.headers().items()],
        )
    finally:
        await producer.stop()
