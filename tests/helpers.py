"""Helpers of the tests that talk to the real servers: waiting, and reading a topic."""

import asyncio
import json
import socket
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from prometheus_client.parser import text_string_to_metric_families

from shared.kernel.auth import mint
from shared.kernel.settings import Settings
from shared.language.actors import Role


async def wait_for(
    predicate, timeout: float = 30.0, interval: float = 0.2, what: str = "condition"
):  # type: ignore[no-untyped-def]
    """Poll an async predicate until it returns something truthy; no blind sleeps."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


async def read_topic(
    settings: Settings,
    topic: str,
    until: Callable[[list[ConsumerRecord]], bool],
    timeout: float = 30.0,
    *,
    strict: bool = True,
) -> list[ConsumerRecord]:
    """Every record of a topic from offset 0, once `until` is satisfied by them (or, not
    `strict`, what was read by the timeout: the caller says what is missing)."""
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await reader.start()
    records: list[ConsumerRecord] = []
    try:

        async def enough() -> bool:
            for batch in (await reader.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return until(records)

        try:
            await wait_for(enough, timeout=timeout, what=f"records on {topic}")
        except AssertionError:
            if strict:
                raise
    finally:
        await reader.stop()
    return records


async def post_until_answered(
    client: httpx.AsyncClient,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    unavailable: list[httpx.Response] | None = None,
) -> httpx.Response:
    """A command as the README tells a client to send it (its Idempotency-Key in `headers`):
    sent again while the connection is lost or the answer is a 503 (each kept in
    `unavailable`); the first other answer."""
    while True:
        try:
            answer = await client.post(url, json=body, headers=headers)
        except httpx.TransportError:
            await asyncio.sleep(0.5)
            continue
        if answer.status_code != 503:
            return answer
        if unavailable is not None:
            unavailable.append(answer)
        await asyncio.sleep(0.5)


def outbox_record(row: Mapping[str, Any]) -> ConsumerRecord:
    """An outbox row as the relay publishes it: the Kafka record its consumers receive."""
    headers = [(k, v.encode()) for k, v in json.loads(row["headers"]).items()]
    return ConsumerRecord(
        row["topic"],
        0,
        row["position"],
        0,
        0,
        row["key"].encode(),
        row["value"],
        None,
        0,
        0,
        headers,
    )


def event_ids(records: list[ConsumerRecord], dossier_id: UUID | None = None) -> list[str]:
    """The ce_id of each record (of one dossier, when given), in log order."""
    out = []
    for r in records:
        headers = dict(r.headers)
        if "ce_id" not in headers:
            continue  # a poison message some test put on the topic
        if dossier_id is None or r.key == str(dossier_id).encode():
            out.append(headers["ce_id"].decode())
    return out


def bearer(
    settings: Settings,
    role: Role | str,
    *,
    siren: str | None = None,
    departement: str | None = None,
    subject: str | None = None,
) -> dict[str, str]:
    """The Authorization header of a test actor, signed with the test session's key."""
    role = Role(role)
    with open(settings.jwt_private_key_file) as key:
        token = mint(
            key.read(),
            role=role,
            subject=subject or f"{role.value}@test.example.fr",
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            siren=siren,
            departement=departement,
        )
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A TCP port nobody listens on at this instant (for a mail sink, a service)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def metric(metrics_url: str, name: str, **labels: str) -> float:
    """The sum of a Prometheus sample at a service's /metrics over the series with these labels."""
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(metrics_url)).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
