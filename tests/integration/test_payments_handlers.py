"""Payments on the real PostgreSQL: a dossier's whole life, from commitment to balance."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from aiokafka.structs import ConsumerRecord

from services.payments import handlers, main, projections, queries
from services.payments.consumers import commitments
from services.payments.errors import (
    ActivityReportAwaited,
    BalanceIsNext,
    NothingCommitted,
    OpinionMissing,
)
from shared.contracts.payments import DepartmentalOpinion
from shared.contracts.selection import ConventionSigned
from shared.kernel import db, topics
from shared.kernel.consumer import Consumer
from shared.kernel.envelope import Envelope, unwrap, wrap
from shared.kernel.projection import digest, rebuild
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings
from shared.language.actors import Actor, Role
from shared.language.campaigns import load_campaigns
from tests.conftest import own_namespace
from tests.factories import random_siren
from tests.helpers import bearer, outbox_record, wait_for

INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.fr")
PREFECTURE = Actor(Role.prefecture, "chef-de-projet@nord.example.fr", departement="59")


@pytest.fixture(scope="module")
async def settings(settings: Settings) -> AsyncIterator[Settings]:
    """A namespace of its own: the platform of the end-to-end tests runs payments too."""
    async with own_namespace(settings) as own:
        yield own


@pytest.fixture(scope="module")
async def payments_db(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, "payments", main.spec().schema_sql)
    pool = await db.open_pool(settings, "payments")
    yield pool
    await pool.close()


@pytest.fixture
def rt(settings: Settings) -> Runtime:
    """The service's runtime, not started: what its consumers read (store, campaigns, clock)."""
    return Runtime(main.spec(), settings, campaigns=load_campaigns())


def signature(siren: str, granted: str = "100000.00") -> ConventionSigned:
    return ConventionSigned(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        siren=siren,
        departement="59",
        granted_eur=Decimal(granted),
        signed_at=datetime.now(UTC),
    )


def delivered(
    event: ConventionSigned, event_id: UUID | None = None
) -> tuple[Envelope, ConsumerRecord]:
    """The signature as selection's topic delivers it: an envelope and its Kafka record."""
    envelope = wrap(
        event, event_id=event_id or uuid4(), source="/aap/selection", time=datetime.now(UTC)
    )
    record = ConsumerRecord(
        "selection.events",
        0,
        0,
        0,
        0,
        str(event.dossier_id).encode(),
        envelope.value(),
        None,
        0,
        0,
        [(k, v.encode()) for k, v in envelope.headers().items()],
    )
    return envelope, record


async def commit(
    pool: asyncpg.Pool, rt: Runtime, event: ConventionSigned, event_id: UUID | None = None
) -> bool:
    envelope, record = delivered(event, event_id)
    return await commitments(rt.store, rt.campaigns, rt.clock).consumer.apply(
        pool, envelope, record
    )


async def events_of(pool: asyncpg.Pool, dossier_id: UUID) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            "SELECT * FROM events WHERE stream_id = $1 ORDER BY version", str(dossier_id)
        )


def types(rows: list[asyncpg.Record]) -> list[str]:
    return [r["event_type"].removeprefix("fr.gouv.mildeca.aap.").rsplit(".", 1)[0] for r in rows]


async def project(pool: asyncpg.Pool, dossier_id: UUID) -> dict[str, Any] | None:
    """Feed the projection what the outbox publishes for the dossier, then read the model."""
    consumer: Consumer = projections.dossiers().consumer
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT * FROM outbox WHERE key = $1 ORDER BY position", str(dossier_id)
        )
    for record in map(outbox_record, rows):
        await consumer.apply(pool, unwrap(record.headers, record.value), record)
    return await queries.dossier(pool, dossier_id)


async def test_a_dossier_goes_from_commitment_to_its_balance(payments_db, rt):
    pool, siren = payments_db, random_siren()
    applicant = Actor(Role.applicant, "maire@roubaix.example.fr", siren=siren)
    signed = signature(siren, "100000.01")
    dossier = signed.dossier_id
    now = datetime.now(UTC)

    # the signed convention commits the funds, once, however often it is delivered
    first_id = uuid4()
    assert await commit(pool, rt, signed, first_id) is True
    assert await commit(pool, rt, signed, first_id) is False  # the kernel knows this event
    assert await commit(pool, rt, signed) is True  # a new delivery: the domain commits nothing more
    [committed] = await events_of(pool, dossier)
    assert types([committed]) == ["FundsCommitted"]
    assert json.loads(committed["metadata"]) == {
        "actor": "system:commitments",
        "causation_id": str(first_id),
    }

    # the advance; the second instalment awaits the first activity report; the balance is next
    await handlers.pay_instalment(pool, rt.store, dossier, INSTRUCTOR, now)
    with pytest.raises(ActivityReportAwaited, match=r"activity report no\. 1"):
        await handlers.pay_instalment(pool, rt.store, dossier, INSTRUCTOR, now)
    await handlers.submit_activity_report(
        pool,
        rt.store,
        dossier,
        applicant,
        now,
        summary="Deux actions menées à mi-parcours.",
        spent_to_date_eur=Decimal("52000.00"),
    )
    stored = await handlers.pay_instalment(pool, rt.store, dossier, INSTRUCTOR, now)
    assert stored[0].data["paid_total_eur"] == "80000.00"
    with pytest.raises(BalanceIsNext):
        await handlers.pay_instalment(pool, rt.store, dossier, INSTRUCTOR, now)

    # the final report, by the dossier's own applicant only
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    with pytest.raises(NothingCommitted):  # answered as for a dossier that does not exist
        await handlers.submit_final_report(
            pool,
            rt.store,
            dossier,
            stranger,
            now,
            justified_spending_eur=Decimal("1.00"),
            summary="x",
        )
    await handlers.submit_final_report(
        pool,
        rt.store,
        dossier,
        applicant,
        now,
        justified_spending_eur=Decimal("95000.00"),
        summary="Trois actions menées, évaluées par le CLSPD.",
    )

    # no balance before the departmental opinion; only the dossier's préfecture gives it
    with pytest.raises(OpinionMissing):
        await handlers.release_balance(pool, rt.store, dossier, INSTRUCTOR, now)
    elsewhere = Actor(Role.prefecture, "chef-de-projet@bdr.example.fr", departement="13")
    with pytest.raises(NothingCommitted):  # answered as for a dossier that does not exist
        await handlers.give_opinion(
            pool,
            rt.store,
            dossier,
            elsewhere,
            now,
            opinion=DepartmentalOpinion.favorable,
            motivation="x",
        )
    await handlers.give_opinion(
        pool,
        rt.store,
        dossier,
        PREFECTURE,
        now,
        opinion=DepartmentalOpinion.favorable,
        motivation="Les actions ont réduit les points de deal.",
    )

    [released] = await handlers.release_balance(pool, rt.store, dossier, INSTRUCTOR, now)
    assert (released.data["amount_eur"], released.data["paid_total_eur"]) == (
        "15000.00",
        "95000.00",
    )
    assert released.metadata == {"actor": INSTRUCTOR.label()}

    # the log holds exactly what was recorded; every refusal stored nothing
    rows = await events_of(pool, dossier)
    assert types(rows) == [
        "FundsCommitted",
        "InstalmentPaid",
        "ActivityReportSubmitted",
        "InstalmentPaid",
        "FinalReportSubmitted",
        "DepartmentalOpinionGiven",
        "BalanceReleased",
    ]
    assert [r["version"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]

    view = await project(pool, dossier)
    assert view is not None
    assert (view["committed_eur"], view["paid_total_eur"], view["remaining_eur"]) == (
        "100000.01",
        "95000.00",
        "5000.01",
    )
    assert [(p["number"], p["amount_eur"], p["paid"], p["paid_eur"]) for p in view["plan"]] == [
        (1, "50000.00", True, "50000.00"),
        (2, "30000.00", True, "30000.00"),
        (3, "20000.01", True, "15000.00"),
    ]
    assert view["final_report"]["justified_spending_eur"] == "95000.00"
    assert view["departmental_opinion"]["opinion"] == "favorable"
    assert view["balance"]["status"] == "released"
    assert view["balance"]["amount_eur"] == "15000.00"


async def test_an_unfavourable_opinion_withholds_the_balance_in_the_same_append(payments_db, rt):
    pool, siren = payments_db, random_siren()
    applicant = Actor(Role.applicant, "maire@roubaix.example.fr", siren=siren)
    signed = signature(siren)
    now = datetime.now(UTC)
    await commit(pool, rt, signed)
    await handlers.pay_instalment(pool, rt.store, signed.dossier_id, INSTRUCTOR, now)
    await handlers.submit_final_report(
        pool,
        rt.store,
        signed.dossier_id,
        applicant,
        now,
        justified_spending_eur=Decimal("70000.00"),
        summary="Peu fait.",
    )

    stored = await handlers.give_opinion(
        pool,
        rt.store,
        signed.dossier_id,
        PREFECTURE,
        now,
        opinion=DepartmentalOpinion.unfavorable,
        motivation="Aucune action dans les halls.",
    )

    assert [s.event_type.split(".")[-2] for s in stored] == [
        "DepartmentalOpinionGiven",
        "BalanceWithheld",
    ]
    assert stored[1].data["withheld_eur"] == "20000.00"
    view = await project(pool, signed.dossier_id)
    assert view is not None
    assert view["balance"] == {
        "status": "withheld",
        "amount_eur": "20000.00",
        "settled_at": view["balance"]["settled_at"],
    }
    assert view["departmental_opinion"]["motivation"] == "Aucune action dans les halls."


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The payments service running in this process: HTTP, relay, consumers on the real Kafka."""
    app = main.create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://payments"
        ) as http,
    ):
        yield http


@pytest.fixture
async def service(
    settings: Settings, payments_db: asyncpg.Pool
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings) as http:
        yield http


async def test_the_service_answers_its_commands_and_reads_over_http(
    settings, payments_db, rt, service
):
    pool, siren, http = payments_db, random_siren(), service
    signed = signature(siren)
    dossier = signed.dossier_id
    await commit(pool, rt, signed)
    instructor = bearer(settings, Role.instructor)
    paid = await http.post(f"/dossiers/{dossier}/instalments", json={}, headers=instructor)
    assert paid.status_code == 201, paid.text
    [event] = paid.json()["recorded"]
    assert (event["type"], event["data"]["number"], event["data"]["amount_eur"]) == (
        "InstalmentPaid",
        1,
        "50000.00",
    )

    # the second instalment, refused before the first activity report and paid after it
    early_second = await http.post(f"/dossiers/{dossier}/instalments", json={}, headers=instructor)
    assert (early_second.status_code, early_second.json()["reason"]) == (
        409,
        "ActivityReportAwaited",
    )
    assert "activity report no. 1" in early_second.json()["detail"]
    applicant = {
        **bearer(settings, Role.applicant, siren=siren),
        "Idempotency-Key": str(uuid4()),
    }
    body = {"summary": "Mi-parcours : deux quartiers.", "spent_to_date_eur": "52000.00"}
    filed = await http.post(f"/dossiers/{dossier}/activity-reports", json=body, headers=applicant)
    assert filed.status_code == 201, filed.text
    [report] = filed.json()["recorded"]
    assert (report["type"], report["data"]["number"], report["data"]["instalment_asked"]) == (
        "ActivityReportSubmitted",
        1,
        True,
    )
    # a retry with the same key files nothing more and gives the first answer
    again = await http.post(f"/dossiers/{dossier}/activity-reports", json=body, headers=applicant)
    assert (again.status_code, again.json()) == (201, filed.json())
    by_instructor = await http.post(
        f"/dossiers/{dossier}/activity-reports", json=body, headers=instructor
    )
    assert by_instructor.status_code == 403
    second = await http.post(f"/dossiers/{dossier}/instalments", json={}, headers=instructor)
    assert second.status_code == 201, second.text
    assert second.json()["recorded"][0]["data"]["number"] == 2

    unknown = await http.post(f"/dossiers/{uuid4()}/instalments", headers=instructor)
    assert (unknown.status_code, unknown.json()["reason"]) == (404, "NothingCommitted")
    auditor = await http.post(
        f"/dossiers/{dossier}/instalments", json={}, headers=bearer(settings, Role.auditor)
    )
    assert auditor.status_code == 403
    extra = await http.post(
        f"/dossiers/{dossier}/final-report",
        json={"justified_spending_eur": "1.00", "summary": "x", "x": 1},
        headers=bearer(settings, Role.applicant, siren=siren),
    )
    assert extra.status_code == 422 and "x" in extra.json()["detail"]
    unmotivated = await http.post(
        f"/dossiers/{dossier}/departmental-opinion",
        json={"opinion": "favorable", "motivation": " "},
        headers=bearer(settings, Role.prefecture, departement="59"),
    )
    assert unmotivated.status_code == 422 and "motivation" in unmotivated.json()["detail"]
    early = await http.post(f"/dossiers/{dossier}/balance", json={}, headers=instructor)
    assert (early.status_code, early.json()["reason"]) == (409, "ReportMissing")

    async def read(headers: dict[str, str]) -> httpx.Response | None:
        answer = await http.get(f"/dossiers/{dossier}", headers=headers)
        return answer if answer.status_code != 404 else None

    async def reported() -> httpx.Response | None:
        answer = await read(instructor)
        paid = answer is not None and answer.json()["next_instalment"]["number"] == 3
        return answer if paid else None

    answer = await wait_for(reported, what="the payments read model")
    assert answer.status_code == 200 and answer.json()["committed_eur"] == "100000.00"
    assert answer.json()["activity_reports"]["count"] == 1
    assert answer.json()["activity_reports"]["last_spent_to_date_eur"] == "52000.00"
    assert answer.json()["next_instalment"]["due_on"] == "balance"
    assert answer.json()["next_instalment"]["awaits_activity_report"] is False
    # a préfecture of another département is answered as for a dossier that does not exist
    elsewhere = bearer(settings, Role.prefecture, departement="13")
    other = await http.get(f"/dossiers/{dossier}", headers=elsewhere)
    nobody = uuid4()
    unknown_read = await http.get(f"/dossiers/{nobody}", headers=elsewhere)
    assert other.status_code == unknown_read.status_code == 404
    assert other.json() == json.loads(unknown_read.text.replace(str(nobody), str(dossier)))
    assert "59" not in other.text.replace(str(dossier), "")
    own = await read(bearer(settings, Role.applicant, siren=siren))
    assert own is not None and own.status_code == 200
    # the commitment, two instalments and the activity report between them
    assert len(await events_of(pool, dossier)) == 4


async def test_the_read_model_rebuilds_from_the_log_to_the_same_content(settings, payments_db, rt):
    # given a dossier paid once, projected by the running service from the payments topic
    pool, signed = payments_db, signature(random_siren())
    await commit(pool, rt, signed)
    await handlers.pay_instalment(pool, rt.store, signed.dossier_id, INSTRUCTOR, datetime.now(UTC))

    async def projected() -> bool:
        view = await queries.dossier(pool, signed.dossier_id)
        return view is not None and view["paid_total_eur"] == "50000.00"

    async with running(settings):
        await wait_for(projected, what="the instalment in the read model")
    # when the service is stopped and its read model rebuilt from offset 0 (`aap rebuild payments`)
    projection = projections.dossiers()
    before = await digest(pool, projection.read_models)
    await rebuild(
        pool,
        projection,
        bootstrap=settings.kafka_bootstrap,
        topics=[topics.events_topic(settings.topic_prefix, "payments")],
    )
    # then it holds the same content
    assert await digest(pool, projection.read_models) == before
    assert await projected()
