"""HTTP routes of the payments service. Thin: parse, call the handler or the query, answer."""

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.payments import handlers, queries
from services.payments.errors import NothingCommitted
from shared.contracts.payments import DepartmentalOpinion
from shared.contracts.values import Boolean, Euros, Motivation, Text
from shared.kernel.deps import ActorDep, ClockDep, PoolDep, StoreDep
from shared.kernel.http import recorded
from shared.kernel.openapi import READ_ONE, api_router, command, link_to
from shared.language.actors import Actor

router = api_router()
# Every command on a dossier leads back to the dossier.
_ON_DOSSIER = command(
    links={"ReadDossier": link_to("read_dossier", dossier_id="$request.path.dossier_id")}
)


class NoFields(BaseModel):
    """The body of a command that needs nothing but its route: `{}` (or none)."""

    model_config = ConfigDict(extra="forbid")


class ActivityReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: Text  # what the action did so far
    spent_to_date_eur: Euros
    attachments: list[UUID] = Field(
        default_factory=list,
        description="proofs of spending already added (POST .../final-report/proofs), by id",
    )
    instalment_asked: Boolean = Field(
        default=True, description="the collectivité asks for the instalment the report unlocks"
    )


class FinalReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    justified_spending_eur: Euros
    summary: Motivation


class Opinion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: DepartmentalOpinion
    motivation: Motivation  # the opinion is motivated: never empty


@router.post("/dossiers/{dossier_id}/instalments", **_ON_DOSSIER)
async def pay_instalment(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
    body: NoFields | None = None,
) -> dict[str, Any]:
    return recorded(await handlers.pay_instalment(pool, store, dossier_id, actor, clock()))


@router.post("/dossiers/{dossier_id}/activity-reports", **_ON_DOSSIER)
async def submit_activity_report(
    dossier_id: UUID,
    report: ActivityReport,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """The collectivité's activity report, numbered in order (1, 2, …): the plan's instalments
    due on an activity report are paid once it is filed."""
    return recorded(
        await handlers.submit_activity_report(
            pool,
            store,
            dossier_id,
            actor,
            clock(),
            summary=report.summary,
            spent_to_date_eur=report.spent_to_date_eur,
            attachments=tuple(report.attachments),
            instalment_asked=report.instalment_asked,
        )
    )


@router.post("/dossiers/{dossier_id}/final-report", **_ON_DOSSIER)
async def submit_final_report(
    dossier_id: UUID,
    report: FinalReport,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    return recorded(
        await handlers.submit_final_report(
            pool,
            store,
            dossier_id,
            actor,
            clock(),
            justified_spending_eur=report.justified_spending_eur,
            summary=report.summary,
        )
    )


@router.post("/dossiers/{dossier_id}/departmental-opinion", **_ON_DOSSIER)
async def give_opinion(
    dossier_id: UUID,
    body: Opinion,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    return recorded(
        await handlers.give_opinion(
            pool,
            store,
            dossier_id,
            actor,
            clock(),
            opinion=body.opinion,
            motivation=body.motivation,
        )
    )


@router.post("/dossiers/{dossier_id}/balance", **_ON_DOSSIER)
async def release_balance(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
    body: NoFields | None = None,
) -> dict[str, Any]:
    return recorded(await handlers.release_balance(pool, store, dossier_id, actor, clock()))


@router.get("/dossiers/{dossier_id}", **READ_ONE)
async def read_dossier(dossier_id: UUID, actor: ActorDep, pool: PoolDep) -> dict[str, Any]:
    return await readable(pool, dossier_id, actor)


async def readable(pool: Any, dossier_id: UUID, actor: Actor) -> dict[str, Any]:
    """The dossier's read, when the actor may read it; else as a dossier payments knows not."""
    view = await queries.dossier_for(pool, dossier_id, actor)
    if view is None:
        raise NothingCommitted(
            f"payments knows no dossier {dossier_id} (yet: no convention "
            "signed, or the read model still follows the log)"
        )
    return view
