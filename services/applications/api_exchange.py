"""HTTP routes of a dossier's exchange: its attachments, its thread, the agents' notes. Thin:
parse, call the handler or the query, answer."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import File, Form, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from services.applications import handlers, queries
from services.applications.api import readable
from services.applications.errors import UnknownAttachment
from services.applications.exchange import AGENTS
from shared.contracts.values import Motivation
from shared.kernel import uploads
from shared.kernel.deps import ActorDep, BlobsDep, CampaignsDep, ClockDep, PoolDep, StoreDep
from shared.kernel.http import recorded
from shared.kernel.openapi import api_router, command, errors, link_to
from shared.language.actors import Actor, Role, require_role
from shared.language.attachments import ACCEPTED, AttachmentKind, Audience
from shared.language.campaigns import find

router = api_router()

_READ: dict[str, Any] = {"responses": errors(401, 403, 404, 422, 503)}
_AGENTS_READ: dict[str, Any] = {"responses": errors(401, 403, 404, 422, 503)}
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
_TO_THREAD = {"ReadThread": link_to("read_thread", dossier_id="$request.path.dossier_id")}


class Writing(BaseModel):
    """A message of the thread, or an agents' note: its text and the dossier's files it carries
    (attached first, by `POST /dossiers/{id}/attachments`)."""

    model_config = ConfigDict(extra="forbid")

    text: Motivation
    attachments: list[UUID] = Field(default_factory=list, max_length=20)


def _is_agent(actor: Actor) -> bool:
    return actor.role in (*AGENTS, Role.auditor)


@router.post(
    "/dossiers/{dossier_id}/attachments",
    **command(
        links={
            "ListAttachments": link_to("list_attachments", dossier_id="$request.path.dossier_id")
        }
    ),
)
async def attach_file(
    dossier_id: UUID,
    file: Annotated[UploadFile, File(description="PDF, ODT, DOCX, ODS, XLSX, PNG or JPEG")],
    kind: Annotated[AttachmentKind, Form()],
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    blobs: BlobsDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
    audience: Annotated[Audience, Form()] = Audience.parties,
) -> dict[str, Any]:
    """Attach a file to the dossier (the council's deliberation, the detailed budget, the bank
    details, a file for a message or a note). Its type is read from its content; its bytes are
    kept once, by their SHA-256, with the event that names them."""
    view = await readable(pool, dossier_id, actor)
    rules = find(campaigns, view["campaign_id"]).attachments
    received = await uploads.receive(file, rules.max_bytes)
    stored = await handlers.attach(
        pool, store, blobs, dossier_id, actor, kind, audience, received, clock()
    )
    return recorded(stored)


@router.get("/dossiers/{dossier_id}/attachments", **_READ)
async def list_attachments(
    dossier_id: UUID, actor: ActorDep, pool: PoolDep, campaigns: CampaignsDep
) -> dict[str, Any]:
    """The dossier's files (the agents' own to agents only), and whether it carries every file
    its call requires."""
    view = await readable(pool, dossier_id, actor)
    files = await queries.attachments(pool, dossier_id, agent=_is_agent(actor))
    required = find(campaigns, view["campaign_id"]).attachments.required
    return {"attachments": files, **queries.completeness(files, required)}


@router.get("/dossiers/{dossier_id}/attachments/{attachment_id}", **_FILE)
async def download_attachment(
    dossier_id: UUID, attachment_id: UUID, actor: ActorDep, pool: PoolDep, blobs: BlobsDep
) -> Response:
    """The file's bytes, given only when they are those its event recorded (409 otherwise)."""
    await readable(pool, dossier_id, actor)
    found = await queries.attachment(pool, dossier_id, attachment_id, agent=_is_agent(actor))
    if found is None:
        raise UnknownAttachment(attachment_id, dossier_id)
    async with pool.acquire() as conn:
        content = await blobs.get(conn, found["sha256"])
    return uploads.given_back(
        content, name=found["name"], media_type=found["media_type"], sha256=found["sha256"]
    )


@router.post("/dossiers/{dossier_id}/messages", **command(links=_TO_THREAD))
async def post_message(
    dossier_id: UUID,
    message: Writing,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """A message to the dossier's thread: the applicant, its préfecture and MILDECA read it, and
    the two sides that did not write it are mailed."""
    stored = await handlers.post_message(
        pool, store, dossier_id, actor, message.text, message.attachments, clock()
    )
    return recorded(stored)


@router.get("/dossiers/{dossier_id}/messages", **_READ)
async def read_thread(dossier_id: UUID, actor: ActorDep, pool: PoolDep) -> list[dict[str, Any]]:
    await readable(pool, dossier_id, actor)
    return await queries.thread(pool, dossier_id, private=False)


@router.post(
    "/dossiers/{dossier_id}/notes",
    **command(links={"ReadNotes": link_to("read_notes", dossier_id="$request.path.dossier_id")}),
)
async def add_note(
    dossier_id: UUID,
    note: Writing,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
) -> dict[str, Any]:
    """A private note among agents (MILDECA and the préfecture): never shown nor mailed to the
    applicant."""
    stored = await handlers.add_note(
        pool, store, dossier_id, actor, note.text, note.attachments, clock()
    )
    return recorded(stored)


@router.get("/dossiers/{dossier_id}/notes", **_AGENTS_READ)
async def read_notes(dossier_id: UUID, actor: ActorDep, pool: PoolDep) -> list[dict[str, Any]]:
    """The agents' notes: MILDECA, the dossier's préfecture and the auditors read them; an
    applicant never does."""
    require_role(
        actor, Role.prefecture, Role.instructor, Role.president, Role.auditor,
        to="read the agents' notes",
    )  # fmt: skip
    await readable(pool, dossier_id, actor)
    return await queries.thread(pool, dossier_id, private=True)
