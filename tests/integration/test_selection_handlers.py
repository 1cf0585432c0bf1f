"""Selection's commands on the real PostgreSQL: one transaction each, the envelope never overspent
under concurrent decisions, a refusal stores nothing, the read model follows every step."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.selection import api, handlers, main, projections, queries
from services.selection.errors import AssessmentMissing, DossierWithdrawn, OverEnvelope
from shared.audit.stores import campaign_envelope
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn, Dossier
from shared.contracts.selection import GrantReleased, Opinion, Outcome, Scores, SelectionDecided
from shared.kernel import db, topics
from shared.kernel.auth import TokenVerifier
from shared.kernel.envelope import wrap
from shared.kernel.eventstore import EventStore, read_stream
from shared.kernel.http import install_error_handlers
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings
from shared.language.actors import Actor, Role
from shared.language.campaigns import Campaign, load_campaigns
from tests.factories import eligible_dossier
from tests.helpers import bearer

PARIS = ZoneInfo("Europe/Paris")
MAY = datetime(2024, 5, 20, 10, 0, tzinfo=PARIS)
JUNE = datetime(2024, 6, 20, 15, 0, tzinfo=PARIS)
SEPTEMBER = datetime(2024, 9, 16, 11, 0, tzinfo=PARIS)
DATABASE = "selection_handlers"  # its own: no running service relays its outbox

PREFECTURE = Actor(Role.prefecture, "chef-de-projet@nord.example.gouv.fr", departement="59")
INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.gouv.fr")
PRESIDENT = Actor(Role.president, "president@mildeca.example.gouv.fr")
SCORES = Scores(
    adequacy=4, innovation=3, team_competence=5, methodology=2, partnership=4, prefecture_opinion=5
)
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, DATABASE, main.spec().schema_sql)
    pool = await db.open_pool(settings, DATABASE, size=12)
    yield pool
    await pool.close()
    await db.drop_database(settings, DATABASE)


@pytest.fixture
def store(settings: Settings) -> EventStore:
    return EventStore(
        source="/aap/selection", topic=topics.events_topic(settings.topic_prefix, "selection")
    )


def campaign(**changes: Any) -> dict[str, Campaign]:
    """The 2024 edition under a fresh id, so that each test has an envelope of its own."""
    edition = load_campaigns()["mildeca-2024"].model_copy(
        update={"id": f"t-{uuid4().hex[:8]}", **changes}
    )
    return {edition.id: edition}


async def eligible(pool: asyncpg.Pool, store: EventStore, campaigns: dict[str, Campaign]) -> UUID:
    [campaign_id] = campaigns
    submitted = ApplicationSubmitted(
        dossier_id=uuid4(),
        reference=f"AAP-2024-{next(_numbers):05d}",
        campaign_id=campaign_id,
        submitted_at=datetime(2024, 4, 2, tzinfo=PARIS),
        dossier=Dossier.model_validate(eligible_dossier()),
    )
    async with pool.acquire() as conn, conn.transaction():
        await handlers.check_eligibility(
            conn, store, submitted, campaigns[campaign_id], MAY, uuid4()
        )
    return submitted.dossier_id


async def with_opinion(
    pool: asyncpg.Pool, store: EventStore, campaigns: dict[str, Campaign]
) -> UUID:
    dossier_id = await eligible(pool, store, campaigns)
    await handlers.give_opinion(
        pool,
        store,
        dossier_id,
        PREFECTURE,
        opinion=Opinion.favorable,
        motivation="Solide.",
        now=MAY,
    )
    return dossier_id


async def assessed(
    pool: asyncpg.Pool, store: EventStore, campaigns: dict[str, Campaign], scores: Scores = SCORES
) -> UUID:
    dossier_id = await with_opinion(pool, store, campaigns)
    await handlers.record_assessment(
        pool,
        store,
        campaigns,
        dossier_id,
        INSTRUCTOR,
        scores=scores,
        proposed_eur=Decimal("100000.00"),
        comment="Plusieurs leviers.",
        now=JUNE,
    )
    return dossier_id


def grant(amount: str) -> dict[str, Any]:
    """The President's decision to select, with the amount granted."""
    return {"outcome": Outcome.selected, "granted_eur": Decimal(amount), "motivation": "Retenu."}


async def events_count(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM events"))


async def test_concurrent_decisions_never_exceed_the_campaigns_envelope(pool, store):
    # given five assessed dossiers of a campaign whose envelope holds two grants of 100,000.00
    campaigns = campaign(envelope_eur=Decimal("250000.00"))
    [campaign_id] = campaigns
    dossiers = [await assessed(pool, store, campaigns) for _ in range(5)]
    # when the President selects all five at once
    outcomes = await asyncio.gather(
        *[
            handlers.decide(pool, store, campaigns, d, PRESIDENT, **grant("100000.00"), now=JUNE)
            for d in dossiers
        ],
        return_exceptions=True,
    )
    # then two are selected, three refused for the envelope
    assert sum(isinstance(o, list) for o in outcomes) == 2, outcomes
    assert sum(isinstance(o, OverEnvelope) for o in outcomes) == 3, outcomes
    # and the envelope's account is exactly the sum of the grants in the log
    async with pool.acquire() as conn:
        account = await conn.fetchval(
            "SELECT granted_eur FROM campaign_envelopes WHERE campaign_id = $1", campaign_id
        )
        logged = await conn.fetchval(
            "SELECT sum((data->>'granted_eur')::numeric) FROM events "
            "WHERE event_type = $1 AND data->>'campaign_id' = $2",
            SelectionDecided.cloud_type(),
            campaign_id,
        )
    assert account == logged == Decimal("200000.00")


async def test_a_refused_decision_stores_nothing(pool, store):
    campaigns = campaign()
    dossier_id = await with_opinion(pool, store, campaigns)
    before = await events_count(pool)
    with pytest.raises(AssessmentMissing):
        await handlers.decide(
            pool, store, campaigns, dossier_id, PRESIDENT, **grant("100000.00"), now=JUNE
        )
    assert await events_count(pool) == before


async def test_a_withdrawal_heard_from_the_applications_log_stops_every_command(pool, store):
    # given an eligible dossier, then its withdrawal as the projection consumer receives it
    campaigns = campaign()
    dossier_id = await eligible(pool, store, campaigns)
    withdrawn = ApplicationWithdrawn(
        dossier_id=dossier_id,
        reference="AAP-2024-99999",
        campaign_id=next(iter(campaigns)),
        withdrawn_at=MAY,
        reason="Le conseil municipal a retiré le projet.",
    )
    on_withdrawn = projections.dossiers().consumer.handlers[ApplicationWithdrawn]
    envelope = wrap(withdrawn, event_id=uuid4(), source="/aap/applications", time=MAY)
    async with pool.acquire() as conn, conn.transaction():
        await on_withdrawn(conn, withdrawn, envelope)
    before = await events_count(pool)
    # when the préfecture gives its opinion, then it is refused and nothing is stored
    with pytest.raises(DossierWithdrawn):
        await handlers.give_opinion(
            pool,
            store,
            dossier_id,
            PREFECTURE,
            opinion=Opinion.favorable,
            motivation="x",
            now=MAY,
        )
    assert await events_count(pool) == before
    # and whoever reads the dossier sees it withdrawn
    await project(pool, store, dossier_id)
    view = await queries.dossier(pool, dossier_id)
    assert view is not None and view["withdrawn"] is True


def withdrawal_of(dossier_id: UUID, campaigns: dict[str, Campaign]) -> ApplicationWithdrawn:
    return ApplicationWithdrawn(
        dossier_id=dossier_id,
        reference="AAP-2024-99999",
        campaign_id=next(iter(campaigns)),
        withdrawn_at=JUNE,
        reason="Le conseil municipal a retiré le projet.",
    )


async def hear_withdrawal(
    pool: asyncpg.Pool, store: EventStore, campaigns: dict[str, Campaign], dossier_id: UUID
) -> None:
    """The withdrawals consumer, as it handles the event in its tracking transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await handlers.react_to_withdrawal(
            conn, store, campaigns, withdrawal_of(dossier_id, campaigns), JUNE, uuid4()
        )


async def envelope_account(pool: asyncpg.Pool, campaign_id: str) -> tuple[Decimal, Decimal]:
    """The envelope row, and the same sum from the log: grants decided minus grants released."""
    async with pool.acquire() as conn:
        account = await conn.fetchval(
            "SELECT granted_eur FROM campaign_envelopes WHERE campaign_id = $1", campaign_id
        )
        logged = await conn.fetchval(
            "SELECT coalesce(sum(coalesce((data->>'granted_eur')::numeric, "
            "                             -(data->>'released_eur')::numeric)), 0) FROM events "
            "WHERE event_type = ANY($1::text[]) AND data->>'campaign_id' = $2",
            [SelectionDecided.cloud_type(), GrantReleased.cloud_type()],
            campaign_id,
        )
    return account, logged


async def test_a_withdrawal_heard_after_the_selection_gives_the_grant_back_to_the_envelope(
    pool, store
):
    campaigns = campaign(envelope_eur=Decimal("250000.00"))
    [campaign_id] = campaigns
    dossier_id = await assessed(pool, store, campaigns)
    await handlers.decide(
        pool, store, campaigns, dossier_id, PRESIDENT, **grant("100000.00"), now=JUNE
    )

    await hear_withdrawal(pool, store, campaigns, dossier_id)
    await hear_withdrawal(
        pool, store, campaigns, dossier_id
    )  # a second delivery gives nothing more

    async with pool.acquire() as conn:
        stream = [e.event_type for e in await read_stream(conn, str(dossier_id))]
    assert stream[-2:] == [SelectionDecided.cloud_type(), GrantReleased.cloud_type()]
    assert await envelope_account(pool, campaign_id) == (Decimal("0.00"), Decimal("0.00"))
    remaining = await campaign_envelope(
        pool, campaign_id, Decimal("250000.00"), datetime.now(PARIS)
    )
    assert remaining.remaining(datetime.now(PARIS)) == Decimal("250000.00")
    assert remaining.remaining(JUNE - timedelta(seconds=1)) == Decimal("250000.00")


async def test_a_withdrawal_and_a_decision_that_cross_never_leave_a_grant_counted(pool, store):
    # given six assessed dossiers, each withdrawn by its applicant as the President selects it
    campaigns = campaign(envelope_eur=Decimal("1000000.00"))
    [campaign_id] = campaigns
    dossiers = [await assessed(pool, store, campaigns) for _ in range(6)]
    decisions = [
        handlers.decide(pool, store, campaigns, d, PRESIDENT, **grant("100000.00"), now=JUNE)
        for d in dossiers
    ]
    withdrawals = [hear_withdrawal(pool, store, campaigns, d) for d in dossiers]
    outcomes = await asyncio.gather(
        *itertools.chain(*zip(decisions, withdrawals, strict=True)), return_exceptions=True
    )
    # then each decision is either refused as withdrawn, or recorded and its grant given back
    for dossier_id, outcome in zip(dossiers, outcomes[::2], strict=True):
        async with pool.acquire() as conn:
            types = [e.event_type for e in await read_stream(conn, str(dossier_id))]
        if isinstance(outcome, DossierWithdrawn):
            assert SelectionDecided.cloud_type() not in types
        else:
            assert isinstance(outcome, list), outcome
            assert types[-1] == GrantReleased.cloud_type()
    # and nothing stays counted in the envelope, which equals the log's account
    assert await envelope_account(pool, campaign_id) == (Decimal("0.00"), Decimal("0.00"))


async def test_the_third_signature_binds_the_convention_in_the_same_append(pool, store):
    campaigns = campaign()
    dossier_id = await assessed(pool, store, campaigns)
    await handlers.decide(
        pool, store, campaigns, dossier_id, PRESIDENT, **grant("100000.00"), now=JUNE
    )
    applicant = Actor(
        Role.applicant, "maire@roubaix.example.fr", siren=await _siren(pool, dossier_id)
    )
    for signatory in (applicant, PREFECTURE):
        await handlers.sign_convention(pool, store, campaigns, dossier_id, signatory, SEPTEMBER)
    last = await handlers.sign_convention(pool, store, campaigns, dossier_id, PRESIDENT, SEPTEMBER)
    assert [s.event_type.split(".")[-2] for s in last] == [
        "ConventionSignatureAdded",
        "ConventionSigned",
    ]
    assert {s.metadata["actor"] for s in last} == {PRESIDENT.label()}
    async with pool.acquire() as conn:
        history = await store.load(conn, str(dossier_id))
    assert [s.event_type.split(".")[-2] for s in history] == [
        "EligibilityChecked",
        "PrefectureOpinionRequested",
        "PrefectureOpinionGiven",
        "CommitteeAssessmentRecorded",
        "SelectionDecided",
        "ConventionSignatureAdded",
        "ConventionSignatureAdded",
        "ConventionSignatureAdded",
        "ConventionSigned",
    ]
    assert history[0].metadata["actor"] == "system:eligibility"


async def _siren(pool: asyncpg.Pool, dossier_id: UUID) -> str:
    async with pool.acquire() as conn:
        return str(
            await conn.fetchval(
                "SELECT data->>'siren' FROM events WHERE stream_id = $1 AND version = 1",
                str(dossier_id),
            )
        )


async def project(pool: asyncpg.Pool, store: EventStore, dossier_id: UUID) -> None:
    """Apply the dossier's stream to the read model, as the projection consumer does."""
    consumer = projections.dossiers().consumer
    async with pool.acquire() as conn, conn.transaction():
        for stored in await store.load(conn, str(dossier_id)):
            event = stored.event()
            if type(event) in consumer.handlers:
                envelope = wrap(
                    event, event_id=stored.event_id, source=store.source, time=stored.occurred_at
                )
                await consumer.handlers[type(event)](conn, event, envelope)


async def test_the_ranking_orders_the_assessed_dossiers_by_weighted_score_with_the_envelope(
    pool, store
):
    campaigns = campaign(envelope_eur=Decimal("250000.00"))
    weaker = await assessed(
        pool, store, campaigns, SCORES.model_copy(update={"prefecture_opinion": 1})
    )
    stronger = await assessed(pool, store, campaigns)
    tied = await assessed(pool, store, campaigns)  # filed after `stronger`: ranked after it
    await handlers.decide(
        pool, store, campaigns, stronger, PRESIDENT, **grant("100000.00"), now=JUNE
    )
    for dossier_id in (weaker, stronger, tied):
        await project(pool, store, dossier_id)
    ranking = await queries.ranking(pool, next(iter(campaigns.values())))
    assert [(r["rank"], r["dossier_id"], r["weighted_score"]) for r in ranking["dossiers"]] == [
        (1, str(stronger), "4.00"),
        (2, str(tied), "4.00"),
        (3, str(weaker), "2.86"),
    ]
    assert ranking["dossiers"][0]["outcome"] == "selected"
    assert ranking["dossiers"][0]["granted_eur"] == "100000.00"
    assert (ranking["envelope_eur"], ranking["granted_eur"], ranking["remaining_eur"]) == (
        "250000.00",
        "100000.00",
        "150000.00",
    )


# --- through HTTP: the routes, their bodies and their answers -----------------------------------


@pytest.fixture
def campaigns() -> dict[str, Campaign]:
    return campaign()


@pytest.fixture
async def client(
    pool: asyncpg.Pool, settings: Settings, campaigns: dict[str, Campaign]
) -> AsyncIterator[httpx.AsyncClient]:
    """The selection routes over the test database, in June 2024, without Kafka."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(api.router)
    app.state.verifier = TokenVerifier.from_settings(settings)
    app.state.runtime = Runtime(
        main.spec(), settings, clock=lambda: JUNE, campaigns=campaigns, pool=pool
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://selection"
    ) as c:
        yield c


async def test_a_decision_is_answered_with_the_event_it_recorded(
    client, pool, store, settings, campaigns
):
    dossier_id = await assessed(pool, store, campaigns)
    response = await client.post(
        f"/dossiers/{dossier_id}/decision",
        headers=bearer(settings, Role.president),
        json={"outcome": "selected", "granted_eur": "100000.00", "motivation": "Retenu."},
    )
    assert response.status_code == 201, response.text
    [recorded] = response.json()["recorded"]
    assert recorded["type"] == "SelectionDecided"
    assert (recorded["data"]["granted_eur"], recorded["data"]["requested_eur"]) == (
        "100000.00",
        "160000.00",
    )


async def test_a_selection_without_its_amount_is_refused_naming_the_field(client, settings):
    response = await client.post(
        f"/dossiers/{uuid4()}/decision",
        headers=bearer(settings, Role.president),
        json={"outcome": "selected", "motivation": "Retenu."},
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["granted_eur"]


async def test_a_prefecture_of_another_departement_is_answered_as_for_a_dossier_that_does_not_exist(
    client, pool, store, settings, campaigns
):
    dossier_id = await eligible(pool, store, campaigns)
    await project(pool, store, dossier_id)
    other, nobody = bearer(settings, Role.prefecture, departement="13"), uuid4()

    async def both(method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, httpx.Response]:
        mine = await client.request(method, path.format(dossier_id), headers=other, **kwargs)
        none = await client.request(method, path.format(nobody), headers=other, **kwargs)
        return mine, none

    opinion = {"opinion": "favorable", "motivation": "x"}
    for method, path, kwargs in (
        ("POST", "/dossiers/{}/prefecture-opinion", {"json": opinion}),
        ("GET", "/dossiers/{}", {}),
    ):
        existing, unknown = await both(method, path, **kwargs)
        # the same status and the same words as for a dossier that does not exist
        assert existing.status_code == unknown.status_code == 404
        assert existing.text == unknown.text.replace(str(nobody), str(dossier_id))
        assert "59" not in existing.json()["detail"].replace(str(dossier_id), "")
    own = await client.get(
        f"/dossiers/{dossier_id}", headers=bearer(settings, Role.prefecture, departement="59")
    )
    assert own.status_code == 200
    assert (own.json()["eligible"], own.json()["signatures"], own.json()["withdrawn"]) == (
        True,
        [],
        False,
    )


async def test_a_past_campaign_is_re_ranked_with_new_weights_without_changing_anything_stored(
    pool, store
):
    # The 2024 edition, closed since October 2024: its scores are in the log, its ranking decided.
    campaigns = campaign()
    [edition] = campaigns.values()
    assert edition.deadline < datetime.now(PARIS)
    innovative = await assessed(
        pool, store, campaigns, SCORES.model_copy(update={"innovation": 5, "partnership": 1})
    )
    partnered = await assessed(
        pool, store, campaigns, SCORES.model_copy(update={"innovation": 1, "partnership": 5})
    )
    for dossier_id in (innovative, partnered):
        await project(pool, store, dossier_id)

    async def stored() -> list[Any]:
        async with pool.acquire() as conn:
            events = await conn.fetch("SELECT event_id, hash FROM events ORDER BY event_id")
            rows = await conn.fetch(
                "SELECT * FROM selection_dossiers WHERE campaign_id = $1 ORDER BY dossier_id",
                edition.id,
            )
        return [*map(dict, events), *map(dict, rows)]

    before = await stored()
    weights = {**edition.criteria_weights, "innovation": Decimal(10)}
    again = await queries.reweighted(pool, edition, weights)
    first, second = again["dossiers"]
    assert (first["dossier_id"], second["dossier_id"]) == (str(innovative), str(partnered))
    assert Decimal(first["weighted_score"]) > Decimal(second["weighted_score"])
    weights = {**edition.criteria_weights, "partnership": Decimal(10)}
    again = await queries.reweighted(pool, edition, weights)
    assert [d["dossier_id"] for d in again["dossiers"]] == [str(partnered), str(innovative)]
    assert await stored() == before
