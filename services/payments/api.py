"""HTTP routes of the payments service. Thin: parse, call the handler, answer."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from services.payments import handlers, projections
from services.payments.refusals import NothingCommitted
from shared.contracts.payments import DepartmentalOpinion, Motivation
from shared.contracts.values import Euros
from shared.kernel.app import actor_of, runtime_of
from shared.kernel.http import recorded
from shared.kernel.runtime import Runtime
from shared.language.actors import Actor, require_reader

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
ActorDep = Annotated[Actor, Depends(actor_of)]


class NoFields(BaseModel):
    """The body of a command that needs nothing but its route: `{}` (or none)."""

    model_config = ConfigDict(extra="forbid")


class FinalReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    justified_spending_eur: Euros
    summary: Motivation


class Opinion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: DepartmentalOpinion
    motivation: Motivation  # the opinion is motivated: never empty


@router.post("/dossiers/{dossier_id}/instalments", status_code=201)
async def pay_instalment(
    dossier_id: UUID, rt: RuntimeDep, actor: ActorDep, body: NoFields | None = None
) -> dict[str, Any]:
    return recorded(await handlers.pay_instalment(rt.db(), rt.store, dossier_id, actor, rt.clock()))


@router.post("/dossiers/{dossier_id}/final-report", status_code=201)
async def submit_final_report(
    dossier_id: UUID, report: FinalReport, rt: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    return recorded(
        await handlers.submit_final_report(
            rt.db(),
            rt.store,
            dossier_id,
            actor,
            rt.clock(),
            justified_spending_eur=report.justified_spending_eur,
            summary=report.summary,
        )
    )


@router.post("/dossiers/{dossier_id}/departmental-opinion", status_code=201)
async def give_opinion(
    dossier_id: UUID, body: Opinion, rt: RuntimeDep, actor: ActorDep
) -> dict[str, Any]:
    return recorded(
        await handlers.give_opinion(
            rt.db(),
            rt.store,
            dossier_id,
            actor,
            rt.clock(),
            opinion=body.opinion,
            motivation=body.motivation,
        )
    )


@router.post("/dossiers/{dossier_id}/balance", status_code=201)
async def release_balance(
    dossier_id: UUID, rt: RuntimeDep, actor: ActorDep, body: NoFields | None = None
) -> dict[str, Any]:
    return recorded(
        await handlers.release_balance(rt.db(), rt.store, dossier_id, actor, rt.clock())
    )


@router.get("/dossiers/{dossier_id}")
async def read_dossier(dossier_id: UUID, rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    async with rt.db().acquire() as conn:
        view = await projections.dossier_view(conn, dossier_id)
    if view is None:
        raise NothingCommitted(
            f"payments knows no dossier {dossier_id} (yet: no convention "
            "signed, or the read model still follows the log)"
        )
    require_reader(actor, siren=view["siren"], departement=view["departement"])
    return view
