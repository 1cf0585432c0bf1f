"""HTTP routes of the notifications service: what was sent for a dossier, its documents as PDF;
the auditor's trail."""

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Response
from fastapi.responses import JSONResponse

from services.notifications import audit_trail, queries
from services.notifications.documents import files
from services.notifications.errors import UnknownDossier
from shared.audit import AuditEvent
from shared.kernel.deps import ActorDep, CampaignsDep, ClockDep, Instant, PoolDep, StoreDep
from shared.kernel.openapi import READ_ONE, api_router, errors
from shared.language.actors import Actor, Role, require_role, within_binding

router = api_router()


async def _readable(pool: PoolDep, actor: Actor, dossier_id: UUID) -> None:
    """MILDECA and the auditors read every dossier, its holder and its département's préfecture
    theirs; any other answers as a dossier unknown."""
    async with pool.acquire() as conn:
        holder = await queries.holder(conn, dossier_id)
    # A dossier recorded before its holder's binding was: only the unbound readers see it.
    siren, departement = holder or (None, None)
    if holder is None or not within_binding(actor, siren=siren, departement=departement):
        raise UnknownDossier(
            f"notifications knows no dossier {dossier_id} (yet: it follows the log)"
        )


@router.get("/dossiers/{dossier_id}/notifications", **READ_ONE)
async def notifications_of(
    dossier_id: UUID, actor: ActorDep, pool: PoolDep
) -> list[dict[str, Any]]:
    """The mails sent for a dossier: MILDECA and the auditors read all, its holder and its
    département's préfecture theirs."""
    await _readable(pool, actor, dossier_id)
    async with pool.acquire() as conn:
        return await queries.sent(conn, dossier_id)


_PDF: dict[str, Any] = {
    "response_class": Response,
    "responses": {
        200: {
            "description": "the document as PDF/A-3b, carrying the hash of the event it records "
            "(and that event, embedded as evenement.json)",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **errors(401, 403, 404, 422, 503),
    },
}


async def _document(
    pool: PoolDep,
    store: StoreDep,
    actor: Actor,
    dossier_id: UUID,
    build: Callable[[list[AuditEvent]], files.Document],
) -> Response:
    await _readable(pool, actor, dossier_id)
    async with pool.acquire() as conn:
        trail = await audit_trail.trail(conn, dossier_id, store.vault)
    return _given(await asyncio.to_thread(build, trail))  # WeasyPrint: beside the event loop


def _given(document: files.Document) -> Response:
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{document.filename}"'},
    )


@router.get("/dossiers/{dossier_id}/documents", **READ_ONE)
async def documents_of(dossier_id: UUID, actor: ActorDep, pool: PoolDep) -> list[dict[str, str]]:
    """The dossier's documents so far (decision letter, convention, each payment's attestation):
    the event each records, its hash, and its path under /dossiers/{dossier_id}/."""
    await _readable(pool, actor, dossier_id)
    async with pool.acquire() as conn:
        return files.available(await audit_trail.trail(conn, dossier_id))


@router.get("/dossiers/{dossier_id}/documents/decision.pdf", **_PDF)
async def decision_letter(
    dossier_id: UUID, actor: ActorDep, pool: PoolDep, store: StoreDep, campaigns: CampaignsDep
) -> Response:
    """The letter of the President's decision (selected or rejected, with its motivation), to the
    holder under cover of the departmental project lead; 404 before the decision."""
    return await _document(pool, store, actor, dossier_id, lambda t: files.decision(t, campaigns))


@router.get("/dossiers/{dossier_id}/documents/convention.pdf", **_PDF)
async def convention(
    dossier_id: UUID, actor: ActorDep, pool: PoolDep, store: StoreDep, campaigns: CampaignsDep
) -> Response:
    """The tripartite convention as its three signatures made it binding, its annexes (budget,
    payment plan) and each signature with its time; 404 before the third signature."""
    return await _document(
        pool, store, actor, dossier_id, lambda t: files.convention_of(t, campaigns)
    )


@router.get("/dossiers/{dossier_id}/documents/attestations/{event_id}.pdf", **_PDF)
async def payment_attestation(
    dossier_id: UUID, event_id: UUID, actor: ActorDep, pool: PoolDep, store: StoreDep
) -> Response:
    """The attestation of one payment (the event id of its InstalmentPaid or BalanceReleased);
    404 for any other event."""
    return await _document(
        pool, store, actor, dossier_id, lambda t: files.attestation_of(t, event_id)
    )


@router.get(
    "/sessions/{session_id}/minutes.pdf",
    response_class=Response,
    responses={200: _PDF["responses"][200], **errors(401, 403, 404, 422, 503)},
)
async def session_minutes(
    session_id: UUID, actor: ActorDep, pool: PoolDep, campaigns: CampaignsDep
) -> Response:
    """The minutes of a committee session: the dossiers examined in their ranking, the members
    present, its deliberations. MILDECA (instructors, the President) and the auditors."""
    require_role(
        actor, Role.instructor, Role.president, Role.auditor, to="read a committee's minutes"
    )
    async with pool.acquire() as conn:
        trail = await audit_trail.trail(conn, session_id)
    return _given(await asyncio.to_thread(files.minutes_of, trail, campaigns))


@router.get("/audit/dossiers/{dossier_id}", responses=errors(401, 403, 404, 422, 503))
async def audit_dossier(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
    as_of: Annotated[
        Instant | None,
        Query(description="the instant to travel to, with its UTC offset (default: now)"),
    ] = None,
) -> dict[str, Any]:
    """A dossier's history across the services as published, its state as of an instant (what
    the decision-makers saw then) and the verdict of its hash chains. Auditors only."""
    require_role(actor, Role.auditor, to="replay a dossier's history")
    async with pool.acquire() as conn:
        return await audit_trail.replay(conn, campaigns, dossier_id, as_of or clock(), store.vault)


@router.get("/audit/dossiers/{dossier_id}/bundle", responses=errors(401, 403, 404, 422, 503))
async def audit_bundle(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    clock: ClockDep,
    as_of: Annotated[
        Instant | None, Query(description="only the history up to this instant")
    ] = None,
) -> JSONResponse:
    """The dossier's history as published, as a self-contained bundle to keep and verify
    offline with `aap audit check FILE`. Auditors only."""
    require_role(actor, Role.auditor, to="export a dossier's history")
    now = clock()
    async with pool.acquire() as conn:
        document = await audit_trail.bundle(conn, dossier_id, as_of or now, now)
    name = f"aap-dossier-{dossier_id}-{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    disposition = f'attachment; filename="{name}"'
    return JSONResponse(document, headers={"Content-Disposition": disposition})
