"""A dossier's exchange, as the applications service keeps it: its files (sent through the
console, given back through it: the browser never holds a service's token), the thread between
the collectivité, its préfecture and MILDECA, and the agents' notes, which an applicant's token
never reads. A message's files are attached first, one by one, then the message names them."""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from services.console import reasons
from services.console.backend import Answer, Upload
from services.console.context import Console, ConsoleDep, PersonDep, page, require
from services.console.pages.common import NOTE_WRITERS, new_key, recorded, refusal, settled
from services.console.pages.dossiers import show_dossier
from services.console.sessions import Person, same_token
from shared.language.actors import Role

router = APIRouter(include_in_schema=False)

WRITERS = (Role.applicant, *NOTE_WRITERS)  # the three sides; auditors read, never write
INVALID = "Le formulaire contient des erreurs : corrigez les champs signalés."
EXPIRED = "Ce formulaire a expiré : rechargez la page et recommencez."


async def _uploads(form: FormData, name: str) -> list[Upload]:
    """The files of a file input; an input left empty sends a part with no name and no bytes."""
    found = []
    for item in form.getlist(name):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            content = await item.read()
            media_type = item.content_type or "application/octet-stream"
            found.append(Upload(item.filename or "", media_type, content))
    return found


def _texts(form: FormData) -> dict[str, str]:
    return {k: str(v).strip() for k, v in form.multi_items() if isinstance(v, str)}


async def _refused(
    request: Request,
    person: Person,
    console: Console,
    dossier_id: str,
    form_name: str,
    message: str,
    fields: dict[str, str],
    values: dict[str, str],
    status: int,
    key: str | None = None,
) -> Response:
    return await show_dossier(
        request,
        person,
        console,
        dossier_id,
        status=status,
        values=values,
        errors={form_name: {"message": message, "fields": fields}},
        key=key,
    )


async def _attach(
    console: Console,
    person: Person,
    dossier_id: str,
    upload: Upload,
    fields: dict[str, str],
    key: str,
) -> Answer:
    return await console.services.post_form(
        person, "applications", f"/dossiers/{dossier_id}/attachments", fields, upload, key
    )


async def _listed(
    console: Console, person: Person, dossier_id: str, path: str, key: str, id_: Any
) -> None:
    """Wait until the read at `path` lists the item whose `key` is `id_`."""

    async def shown() -> bool:
        read = await console.services.get(person, "applications", f"/dossiers/{dossier_id}{path}")
        items = read.body.get("attachments", []) if isinstance(read.body, dict) else read.body
        return read.ok and any(str(i.get(key)) == str(id_) for i in items or [])

    await settled(shown)


@router.post("/dossiers/{dossier_id}/pieces")
async def attach(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    """A file joined to the dossier: its kind, and for agents who may read it."""
    require(person, *WRITERS)
    form = await request.form()
    values = _texts(form)
    key = values.get("key") or new_key()
    if not same_token(person.csrf, values.get("csrf")):
        return await _refused(
            request, person, console, dossier_id, "piece", EXPIRED, {}, values, 400
        )
    files = await _uploads(form, "file")
    if not files:
        fields = {"file": "Choisissez le fichier à joindre."}
        return await _refused(
            request, person, console, dossier_id, "piece", INVALID, fields, values, 422, key
        )
    sent = {"kind": values.get("kind", "")}
    if person.role is not Role.applicant:
        sent["audience"] = values.get("audience") or "parties"
    answer = await _attach(console, person, dossier_id, files[0], sent, key)
    if not answer.ok:
        fields = answer.field_errors()
        message = INVALID if fields else refusal(answer)
        return await _refused(
            request, person, console, dossier_id, "piece", message, fields, values, answer.status
        )
    added = recorded(answer, "attachment") or {}
    await _listed(
        console, person, dossier_id, "/attachments", "attachment_id", added.get("attachment_id")
    )
    return RedirectResponse(f"/dossiers/{dossier_id}?fait=piece#pieces", status_code=303)


async def _write(
    request: Request, person: Person, console: Console, dossier_id: str, *, note: bool
) -> Response:
    """A message of the thread, or an agents' note: its files attached first (for the agents
    alone when it is a note), then the text naming them. Sent again after a refusal under the
    same key, the files already attached are not attached twice."""
    name, path, id_key = (
        ("note", "/notes", "note_id") if note else ("message", "/messages", "message_id")
    )
    form = await request.form()
    values = _texts(form)
    key = values.get("key") or new_key()
    if not same_token(person.csrf, values.get("csrf")):
        return await _refused(request, person, console, dossier_id, name, EXPIRED, {}, values, 400)
    text = values.get("text", "")
    if not text:  # said before any file is sent
        fields = {"text": reasons.FIELDS["text_empty"]}
        return await _refused(
            request, person, console, dossier_id, name, INVALID, fields, values, 422, key
        )
    attached: list[str] = []
    audience = {"kind": "other", "audience": "agents"} if note else {"kind": "other"}
    for n, upload in enumerate(await _uploads(form, "files")):
        answer = await _attach(console, person, dossier_id, upload, audience, f"{key}.{n}")
        if not answer.ok:
            why = next(iter(answer.field_errors().values()), None) or refusal(answer)
            fields = {"files": f"« {upload.name} » : {why}"}
            return await _refused(
                request,
                person,
                console,
                dossier_id,
                name,
                INVALID,
                fields,
                values,
                answer.status,
                key,
            )
        attached.append(str((recorded(answer, "attachment") or {}).get("attachment_id")))
    answer = await console.services.post(
        person,
        "applications",
        f"/dossiers/{dossier_id}{path}",
        {"text": text, "attachments": attached},
        idempotency_key=key,
    )
    if not answer.ok:
        fields = {
            ("files" if field.startswith("attachments") else field): reason
            for field, reason in answer.field_errors().items()
        }
        message = INVALID if fields else refusal(answer)
        return await _refused(
            request, person, console, dossier_id, name, message, fields, values, answer.status, key
        )
    await _listed(console, person, dossier_id, path, "message_id", recorded(answer, id_key))
    anchor = "notes" if note else "messagerie"
    return RedirectResponse(f"/dossiers/{dossier_id}?fait={name}#{anchor}", status_code=303)


@router.post("/dossiers/{dossier_id}/messages")
async def post_message(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, *WRITERS)
    return await _write(request, person, console, dossier_id, note=False)


@router.post("/dossiers/{dossier_id}/notes")
async def add_note(
    dossier_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    require(person, *NOTE_WRITERS)
    return await _write(request, person, console, dossier_id, note=True)


@router.get("/dossiers/{dossier_id}/pieces/{attachment_id}")
async def download(
    dossier_id: str, attachment_id: str, request: Request, person: PersonDep, console: ConsoleDep
) -> Response:
    """The file, as the service gives it back once it checked its bytes against their hash; the
    console passes them on, with the service's name and digest for them."""
    path = f"/dossiers/{quote(dossier_id)}/attachments/{quote(attachment_id)}"
    answer = await console.services.download(person, "applications", path)
    if not answer.ok:
        reason = (
            "Ce fichier n'existe pas, ou n'est pas de votre ressort."
            if answer.status == 404
            else refusal(answer)
        )
        return page(
            request,
            "refused.html",
            status=answer.status,
            person=person,
            title="Fichier non remis",
            heading="Le fichier n'est pas remis",
            reason=reason,
            back=f"/dossiers/{dossier_id}#pieces",
        )
    headers = {
        **{k: v for k, v in answer.headers.items() if k.lower() != "content-length"},
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(answer.body, status_code=200, headers=headers)
