"""A dossier filed over HTTP is checked for eligibility and acknowledged by mail,
crossing three services over the real Kafka, with the real PostgreSQL."""

import json
import re
import secrets
from uuid import UUID

import asyncpg
import httpx
import pytest

from shared.kernel import db, topics
from shared.kernel.projection import digest, rebuild
from shared.language.actors import Role
from shared.language.referentials import siren_is_valid
from tests.e2e.conftest import Platform, text_of
from tests.factories import dossier_failing_several_rules, eligible_dossier, random_siren
from tests.helpers import bearer, read_topic, wait_for


async def file(
    platform: Platform, dossier: dict, campaign: str = "demo", headers: dict[str, str] | None = None
) -> httpx.Response:
    """File as the dossier's own collectivité (any valid SIREN when the dossier's is malformed)."""
    siren = dossier["applicant"]["siren"]
    token = bearer(
        platform.settings, Role.applicant, siren=siren if siren_is_valid(siren) else random_siren()
    )
    async with httpx.AsyncClient() as client:
        return await client.post(
            platform.url("applications", f"/campaigns/{campaign}/dossiers"),
            json=dossier,
            headers={**token, **(headers or {})},
        )


async def eligibility_of(platform: Platform, dossier_id: str) -> tuple[dict, dict[str, str]]:
    topic = topics.events_topic(platform.settings.topic_prefix, "selection")

    def mine(r) -> bool:  # type: ignore[no-untyped-def]
        return r.key == dossier_id.encode() and dict(r.headers)["ce_type"].endswith(
            b"EligibilityChecked.v2"
        )

    records = await read_topic(
        platform.settings, topic, lambda rs: any(mine(r) for r in rs), timeout=60
    )
    record = next(r for r in records if mine(r))
    return json.loads(record.value), {k: v.decode() for k, v in record.headers}


async def mails_for(platform: Platform, reference: str, count: int) -> list:
    async def arrived():  # type: ignore[no-untyped-def]
        mails = platform.mail.to_dossier(reference)
        return mails if len(mails) >= count else None

    return await wait_for(arrived, timeout=60, what=f"{count} mails for {reference}")


async def test_an_eligible_dossier_is_found_eligible_and_its_holder_told_twice(platform: Platform):
    trace_id = secrets.token_hex(16)
    response = await file(
        platform,
        eligible_dossier(),
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert response.status_code == 201, response.text
    filed = response.json()
    assert re.fullmatch(r"AAP-DEMO-\d{5}", filed["reference"])

    checked, headers = await eligibility_of(platform, filed["dossier_id"])
    assert checked["eligible"] is True
    assert checked["failed_rules"] == []
    assert headers["ce_subject"] == filed["dossier_id"]
    # The trace begun by the HTTP request goes on through Kafka into the selection consumer.
    assert headers["traceparent"].split("-")[1] == trace_id

    mails = [
        m
        for m in await mails_for(platform, filed["reference"], 3)
        if m["X-AAP-Template"] in ("acknowledgement", "eligible")
    ]
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert any("Accusé de réception" in s for s in subjects)
    assert any("est éligible" in s for s in subjects)
    assert all(m["To"].addresses[0].addr_spec == "maire@roubaix.example.fr" for m in mails)


async def test_a_dossier_failing_several_rules_is_told_every_failed_rule(platform: Platform):
    response = await file(platform, dossier_failing_several_rules())
    assert response.status_code == 201, response.text
    filed = response.json()

    checked, _ = await eligibility_of(platform, filed["dossier_id"])
    assert checked["eligible"] is False
    assert [f["rule"] for f in checked["failed_rules"]] == ["E1", "E3", "E4", "E5", "E6", "E7"]

    mails = await mails_for(platform, filed["reference"], 2)
    [verdict] = [m for m in mails if "pas éligible" in str(m["Subject"])]
    body = text_of(verdict)
    for rule in ("E1", "E3", "E4", "E5", "E6", "E7"):
        assert rule in body


async def events_stored(platform: Platform) -> int:
    conn = await asyncpg.connect(platform.settings.admin_dsn("applications"))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM events"))
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("applicant__siren", "217500017", "applicant.siren"),
        ("applicant__departement", "99", "applicant.departement"),
        ("requested_eur", 160000.5, "requested_eur"),
        (
            "budget__lines",
            [{"year": 1, "category": "actions", "label": "x", "amount_eur": "-5.00"}],
            "budget.lines.0.amount_eur",
        ),
    ],
)
async def test_a_malformed_dossier_is_refused_naming_the_field_and_nothing_is_stored(
    platform: Platform, field: str, value: object, named: str
):
    before = await events_stored(platform)
    response = await file(platform, eligible_dossier(**{field: value}))
    assert response.status_code == 422
    assert named in [e["field"] for e in response.json()["errors"]]
    assert await events_stored(platform) == before


async def test_a_dossier_missing_a_field_is_refused_naming_it(platform: Platform):
    dossier = eligible_dossier()
    del dossier["representative"]["email"]
    response = await file(platform, dossier)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "representative.email"


async def test_a_dossier_after_the_deadline_is_refused_naming_it_and_nothing_is_stored(
    platform: Platform,
):
    before = await events_stored(platform)
    response = await file(platform, eligible_dossier(), campaign="mildeca-2024")
    assert response.status_code == 409
    assert "2024-04-30T00:00:00+02:00" in response.json()["detail"]
    assert await events_stored(platform) == before


async def test_the_selection_read_model_rebuilt_from_the_log_equals_the_live_one(
    platform: Platform,
):
    from services.selection.projections import dossiers

    response = await file(platform, eligible_dossier())
    dossier_id = response.json()["dossier_id"]
    await eligibility_of(platform, dossier_id)
    settings = platform.settings
    pool = await db.open_pool(settings, "selection")
    try:

        async def projected() -> bool:
            async with pool.acquire() as conn:
                return (
                    await conn.fetchval(
                        "SELECT eligible IS NOT NULL AND applicant IS NOT NULL "
                        "FROM selection_dossiers "
                        "WHERE dossier_id = $1",
                        UUID(dossier_id),
                    )
                    or False
                )

        await wait_for(projected, what="the live read model")
        projection = dossiers()
        live = await digest(pool, projection.read_models)
        await rebuild(
            pool,
            projection,
            bootstrap=settings.kafka_bootstrap,
            topics=[topics.events_topic(settings.topic_prefix, s) for s in projection.services],
        )
        assert await digest(pool, projection.read_models) == live
    finally:
        await pool.close()


async def test_a_redelivered_submission_sends_no_second_acknowledgement(platform: Platform):
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    response = await file(platform, eligible_dossier())
    filed = response.json()
    await mails_for(platform, filed["reference"], 2)
    settings = platform.settings
    topic = topics.events_topic(settings.topic_prefix, "applications")
    records = await read_topic(
        settings, topic, lambda rs: any(r.key == filed["dossier_id"].encode() for r in rs)
    )
    original = next(r for r in records if r.key == filed["dossier_id"].encode())

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:  # the same event, delivered again
        sent = await producer.send_and_wait(
            topic,
            original.value,
            key=original.key,
            headers=list(original.headers),
            partition=original.partition,
        )
    finally:
        await producer.stop()

    group = f"{settings.topic_prefix}.notifications.mail-requests"
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await reader.start()
    try:

        async def consumed() -> bool:
            committed = await reader.committed(TopicPartition(topic, sent.partition))
            return committed is not None and committed > sent.offset

        await wait_for(consumed, timeout=60, what="notifications to consume the duplicate")
    finally:
        await reader.stop()
    templates = [m["X-AAP-Template"] for m in platform.mail.to_dossier(filed["reference"])]
    assert templates.count("acknowledgement") == 1
