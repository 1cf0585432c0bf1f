"""HTTP routes of the selection service. Thin: parse, call the handler, answer."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends

from services.selection import handlers, queries
from services.selection.commands import Decide, GiveOpinion, RecordAssessment, Sign
from services.selection.errors import UnknownDossier
from shared.kernel.app import actor_of, runtime_of
from shared.kernel.http import recorded
from shared.kernel.runtime import Runtime
from shared.language.actors import Actor, Role, require_reader, require_role
from shared.language.campaigns import find

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
ActorDep = Annotated[Actor, Depends(actor_of)]
Recorded = dict[str, Any]


@router.post("/dossiers/{dossier_id}/prefecture-opinion", status_code=201)
async def give_opinion(
    dossier_id: UUID, body: GiveOpinion, rt: RuntimeDep, actor: ActorDep
) -> Recorded:
    return recorded(
        await handlers.give_opinion(rt.db(), rt.store, dossier_id, actor, body, rt.clock())
    )


@router.post("/dossiers/{dossier_id}/assessment", status_code=201)
async def record_assessment(
    dossier_id: UUID, body: RecordAssessment, rt: RuntimeDep, actor: ActorDep
) -> Recorded:
    return recorded(
        await handlers.record_assessment(
            rt.db(), rt.store, rt.campaigns, dossier_id, actor, body, rt.clock()
        )
    )


@router.post("/dossiers/{dossier_id}/decision", status_code=201)
async def decide(dossier_id: UUID, body: Decide, rt: RuntimeDep, actor: ActorDep) -> Recorded:
    return recorded(
        await handlers.decide(rt.db(), rt.store, rt.campaigns, dossier_id, actor, body, rt.clock())
    )


@router.post("/dossiers/{dossier_id}/convention/signatures", status_code=201)
async def sign_convention(
    dossier_id: UUID, rt: RuntimeDep, actor: ActorDep, body: Annotated[Sign | None, Body()] = None
) -> Recorded:
    return recorded(
        await handlers.sign_convention(
            rt.db(), rt.store, rt.campaigns, dossier_id, actor, rt.clock()
        )
    )


@router.get("/dossiers/{dossier_id}")
async def read_dossier(dossier_id: UUID, rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    view = await queries.dossier(rt.db(), dossier_id)
    if view is None:
        raise UnknownDossier(
            f"selection knows no dossier {dossier_id} (yet: the read model follows the log)"
        )
    require_reader(actor, siren=view["siren"], departement=view["departement"])
    return view


@router.get("/campaigns/{campaign_id}/ranking")
async def ranking(campaign_id: str, rt: RuntimeDep, actor: ActorDep) -> dict[str, Any]:
    require_role(
        actor, Role.instructor, Role.president, Role.auditor, to="read a campaign's ranking"
    )
    return await queries.ranking(rt.db(), find(rt.campaigns, campaign_id))
