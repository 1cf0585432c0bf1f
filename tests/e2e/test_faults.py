"""Faults an outside tester injected, on a platform of the tests' own: the notifications service
killed while it mails, the broker stopped and started under the running services, the database
stopped while dossiers are filed. Nothing is lost, no mail goes twice, every service comes back."""

import asyncio
import random
import signal
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from shared.kernel import topics
from shared.language.actors import Role
from tests.e2e.lab import Lab, lab
from tests.e2e.processes import ready
from tests.factories import eligible_dossier
from tests.helpers import bearer, post_until_answered, wait_for

# An eligible dossier calls for three mails: the acknowledgement and the verdict to the
# commune, the request for its opinion to the préfecture.
MAILS_PER_DOSSIER = 3


@pytest.fixture(scope="module")
async def the_lab(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    async with lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


async def file(the_lab: Lab, count: int, key: bool = False) -> list[httpx.Response]:
    """`count` dossiers filed, each by its own commune, a few at a time."""
    url = the_lab.services["applications"].url("/campaigns/demo/dossiers")

    async def one(client: httpx.AsyncClient) -> httpx.Response:
        dossier = eligible_dossier()
        headers = bearer(the_lab.settings, Role.applicant, siren=dossier["applicant"]["siren"])
        if key:
            headers["Idempotency-Key"] = str(uuid4())
        return await client.post(url, json=dossier, headers=headers)

    answers: list[httpx.Response] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for start in range(0, count, 5):
            answers += await asyncio.gather(*(one(client) for _ in range(min(5, count - start))))
    return answers


async def mails_received(the_lab: Lab, expected: int, timeout: float = 180) -> None:
    async def all_there() -> bool:
        return len(the_lab.message_ids()) >= expected

    try:
        await wait_for(all_there, timeout=timeout, interval=0.5, what=f"{expected} distinct mails")
    except AssertionError as late:
        raise AssertionError(f"{late}: {len(the_lab.message_ids())} arrived") from None


async def recorded_mails(the_lab: Lab) -> list[str]:
    conn = await the_lab.connect("notifications")
    try:
        rows = await conn.fetch(
            "SELECT data->>'notification_id' AS n FROM events "
            "WHERE event_type LIKE '%.NotificationSent.%'"
        )
    finally:
        await conn.close()
    return [r["n"] for r in rows]


async def published_ids(the_lab: Lab, service: str, expected: int) -> set[str]:
    """The ce_id of every record on a service's topic, once `expected` of them are there."""
    topic = topics.events_topic(the_lab.settings.topic_prefix, service)
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=the_lab.settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await reader.start()
    seen: list[str] = []
    try:

        async def enough() -> bool:
            for batch in (await reader.getmany(timeout_ms=500)).values():
                seen.extend(dict(r.headers)["ce_id"].decode() for r in batch)
            return len(seen) >= expected

        await wait_for(enough, timeout=90, what=f"{expected} records on {topic}")
    finally:
        await reader.stop()
    return set(seen)  # a relay may publish a row twice after a failure: readers dedup by id


async def stored_ids(the_lab: Lab, service: str) -> set[str]:
    conn = await the_lab.connect(service)
    try:
        return {str(r["event_id"]) for r in await conn.fetch("SELECT event_id FROM events")}
    finally:
        await conn.close()


async def test_a_mail_is_never_sent_twice_however_often_the_notifications_service_is_killed(
    the_lab: Lab,
):
    before = len(the_lab.message_ids())

    # given dossiers filed while the notifications service is killed (kill -9) three times,
    # at random instants while it mails, and restarted each time
    async def killer() -> None:
        for _ in range(3):
            await asyncio.sleep(random.uniform(0.5, 2.0))
            the_lab.kill("notifications")
            await the_lab.restart("notifications")

    answers, _ = await asyncio.gather(file(the_lab, 60), killer())
    assert [a.status_code for a in answers] == [201] * 60
    # then every mail arrives, none twice (the same Message-ID), and each is recorded once
    await mails_received(the_lab, before + 60 * MAILS_PER_DOSSIER)
    doubles = {mid: n for mid, n in the_lab.message_ids().items() if n > 1}
    assert doubles == {}

    async def all_recorded() -> bool:
        return len(await recorded_mails(the_lab)) >= before + 60 * MAILS_PER_DOSSIER

    await wait_for(all_recorded, timeout=60, what="every mail recorded as sent")
    recorded = await recorded_mails(the_lab)
    assert len(recorded) == len(set(recorded))


async def test_the_broker_stopped_and_started_under_running_services_loses_nothing(the_lab: Lab):
    before = len(the_lab.message_ids())
    await file(the_lab, 5)
    # when the broker stops, with the services running and dossiers still filed
    await the_lab.server("kafka", "stop")
    lines = {name: the_lab.log_lines(name) for name in the_lab.services}
    during = await file(the_lab, 10)
    assert [a.status_code for a in during] == [201] * 10  # the outbox keeps them
    await asyncio.sleep(10)
    # then the services wait quietly: a few lines each, not one per attempt
    chatter = {name: the_lab.log_lines(name) - lines[name] for name in the_lab.services}
    assert max(chatter.values()) < 80, chatter
    # and one stopped meanwhile (SIGTERM) stops within its budget, cleanly
    selection = the_lab.services["selection"]
    started = time.monotonic()
    selection.process.send_signal(signal.SIGTERM)
    # (uvicorn raises the signal again once its shutdown is done: that is its exit status)
    assert selection.process.wait(timeout=40) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 25
    assert any(line["message"].startswith("selection stopped") for line in selection.log_lines())
    the_lab.start_service("selection")
    # when the broker starts again, it binds its port at once and every service is ready soon
    started = time.monotonic()
    await the_lab.server("kafka", "start")
    await asyncio.gather(*(ready(s, timeout=90) for s in the_lab.services.values()))
    recovery = time.monotonic() - started
    assert recovery < 60, f"ready again {recovery:.0f} s after the broker's start"
    # and nothing is lost: every event stored is on its topic, every dossier checked and mailed
    for service in ("applications", "selection"):
        stored = await stored_ids(the_lab, service)
        assert stored <= await published_ids(the_lab, service, len(stored))
    await mails_received(the_lab, before + 15 * MAILS_PER_DOSSIER)
    assert {mid: n for mid, n in the_lab.message_ids().items() if n > 1} == {}


async def test_a_database_away_answers_503_with_retry_after_and_a_retry_files_once(
    the_lab: Lab,
):
    url = the_lab.services["applications"].url("/campaigns/demo/dossiers")
    before = len(the_lab.message_ids())
    dossier, key = eligible_dossier(), str(uuid4())
    headers = {
        **bearer(the_lab.settings, Role.applicant, siren=dossier["applicant"]["siren"]),
        "Idempotency-Key": key,
    }
    await the_lab.server("postgres", "stop")
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            away = await client.post(url, json=dossier, headers=headers)
            read = await client.get(
                the_lab.services["selection"].url(f"/dossiers/{uuid4()}"),
                headers=bearer(the_lab.settings, Role.instructor),
            )
        for answer in (away, read):
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"].isdigit()
            assert answer.json()["error"] == "unavailable"
    finally:
        await the_lab.server("postgres", "start")

    # the client retries with its key until the database is back: one dossier, one answer
    async def filed() -> httpx.Response | None:
        async with httpx.AsyncClient(timeout=30) as client:
            answer = await client.post(url, json=dossier, headers=headers)
        return answer if answer.status_code != 503 else None

    first = await wait_for(filed, timeout=60, what="the applications service's database")
    again = await filed()
    assert first.status_code == 201, first.text
    assert again is not None and again.json() == first.json()
    await asyncio.gather(*(ready(s, timeout=60) for s in the_lab.services.values()))
    await mails_received(the_lab, before + MAILS_PER_DOSSIER)
    assert {mid: n for mid, n in the_lab.message_ids().items() if n > 1} == {}


def filed_id(answer: dict[str, Any]) -> str:
    """The dossier's id: in the filing's answer, or, when that answer was lost as the database
    stopped after the commit, in the events its Idempotency-Key replays instead."""
    if "dossier_id" in answer:
        return str(answer["dossier_id"])
    return str(answer["recorded"][0]["data"]["dossier_id"])


async def test_the_database_restarted_while_dossiers_are_filed_and_mailed_doubles_nothing(
    the_lab: Lab,
):
    url = the_lab.services["applications"].url("/campaigns/demo/dossiers")
    before = len(the_lab.message_ids())
    unavailable: list[httpx.Response] = []

    async def file_until_filed(client: httpx.AsyncClient) -> httpx.Response:
        """A client as the README tells it to be: each filing with its key, sent again on 503."""
        dossier = eligible_dossier()
        headers = {
            **bearer(the_lab.settings, Role.applicant, siren=dossier["applicant"]["siren"]),
            "Idempotency-Key": str(uuid4()),
        }
        return await post_until_answered(client, url, dossier, headers, unavailable)

    async def filings(count: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return [await file_until_filed(client) for _ in range(count)]

    # given dossiers filed one after another, and mailed, while the database restarts
    filing = asyncio.create_task(filings(40))
    await asyncio.sleep(2)
    await the_lab.server("postgres", "stop")
    await asyncio.sleep(3)
    await the_lab.server("postgres", "start")
    answers = await filing
    # then every filing was answered once it could be, each with a dossier of its own
    assert [a.status_code for a in answers] == [201] * 40
    assert len({filed_id(a.json()) for a in answers}) == 40
    assert all(a.json()["error"] == "unavailable" for a in unavailable)
    # and every mail arrives once, and is recorded once
    await mails_received(the_lab, before + 40 * MAILS_PER_DOSSIER)
    assert {mid: n for mid, n in the_lab.message_ids().items() if n > 1} == {}
    recorded = await recorded_mails(the_lab)
    assert len(recorded) == len(set(recorded))
