"""HTTP routes of the proofs of spending that go with the final report. Thin: parse, call the
handler or the query, answer."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import File, Response, UploadFile

from services.payments import handlers, queries
from services.payments.api import readable
from services.payments.errors import NothingCommitted
from shared.kernel import uploads
from shared.kernel.deps import ActorDep, BlobsDep, CampaignsDep, ClockDep, PoolDep, StoreDep
from shared.kernel.http import recorded
from shared.kernel.openapi import api_router, command, errors, link_to
from shared.language.attachments import ACCEPTED
from shared.language.campaigns import find

router = api_router()

_FILE: dict[str, Any] = {
    "response_class": Response,
    "responses": {
        200: {
            "description": "the file, its bytes checked against the SHA-256 its event recorded",
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in ACCEPTED},
        },
        **errors(401, 403, 404, 409, 422, 503),
    },
}


@router.post(
    "/dossiers/{dossier_id}/final-report/proofs",
    **command(links={"ListProofs": link_to("list_proofs", dossier_id="$request.path.dossier_id")}),
)
async def add_proof(
    dossier_id: UUID,
    file: Annotated[UploadFile, File(description="PDF, ODT, DOCX, ODS, XLSX, PNG or JPEG")],
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    blobs: BlobsDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """A proof of spending for the final report (an invoice, a payslip, a statement), checked
    by its content as every attachment is, and kept once by its SHA-256."""
    view = await readable(pool, dossier_id, actor)
    rules = find(campaigns, view["campaign_id"]).attachments
    received = await uploads.receive(file, rules.max_bytes)
    stored = await handlers.add_spending_proof(
        pool, store, blobs, dossier_id, actor, received, clock()
    )
    return recorded(stored)


@router.get("/dossiers/{dossier_id}/final-report/proofs", responses=errors(401, 403, 404, 422, 503))
async def list_proofs(dossier_id: UUID, actor: ActorDep, pool: PoolDep) -> list[dict[str, Any]]:
    await readable(pool, dossier_id, actor)
    return await queries.proofs(pool, dossier_id)


@router.get("/dossiers/{dossier_id}/final-report/proofs/{attachment_id}", **_FILE)
async def download_proof(
    dossier_id: UUID, attachment_id: UUID, actor: ActorDep, pool: PoolDep, blobs: BlobsDep
) -> Response:
    """The proof's bytes, given only when they are those its event recorded (409 otherwise)."""
    await readable(pool, dossier_id, actor)
    found = await queries.proof(pool, dossier_id, attachment_id)
    if found is None:
        raise NothingCommitted(f"no proof {attachment_id} in dossier {dossier_id}")
    async with pool.acquire() as conn:
        content = await blobs.get(conn, found["sha256"])
    return uploads.given_back(
        content, name=found["name"], media_type=found["media_type"], sha256=found["sha256"]
    )
