"""The applications read models, from the service's own events: the dossiers, their files,
their thread and notes, their amendments, and the drafts."""

import json
from uuid import UUID

import asyncpg

from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AttachmentAdded,
    CorrectionOverdue,
    CorrectionRequested,
    DossierClosedIncomplete,
    DraftCommented,
    DraftSaved,
    DraftShared,
    MessagePosted,
    NoteAdded,
)
from shared.contracts.personal import PersonalDataErased
from shared.kernel.consumer import Consumer, Handler, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.eventstore import EventStore

_UPSERT = """
INSERT INTO dossiers (dossier_id, reference, campaign_id, siren, applicant_name, departement,
                      title, requested_eur, status, submitted_at, filed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', $9, $10::jsonb)
ON CONFLICT (dossier_id) DO NOTHING
"""


async def on_submitted(conn: asyncpg.Connection, event: ApplicationSubmitted, _: Envelope) -> None:
    d = event.dossier
    await conn.execute(
        _UPSERT,
        event.dossier_id,
        event.reference,
        event.campaign_id,
        d.applicant.siren,
        d.applicant.name,
        d.applicant.departement,
        d.project.title,
        d.requested_eur,
        event.submitted_at,
        d.model_dump_json(),
    )
    # a dossier filed from a draft: the draft says what it became
    await conn.execute(
        "UPDATE drafts SET filed_as = $2 WHERE draft_id = $1", event.dossier_id, event.reference
    )


async def on_withdrawn(conn: asyncpg.Connection, event: ApplicationWithdrawn, _: Envelope) -> None:
    await conn.execute(
        "UPDATE dossiers SET status = 'withdrawn', withdrawn_at = $2, "
        "withdrawal_reason = $3 WHERE dossier_id = $1",
        event.dossier_id,
        event.withdrawn_at,
        event.reason,
    )


async def on_attachment(conn: asyncpg.Connection, e: AttachmentAdded, _: Envelope) -> None:
    a = e.attachment
    await conn.execute(
        "INSERT INTO dossier_attachments VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
        "ON CONFLICT DO NOTHING",
        a.attachment_id,
        e.dossier_id,
        a.kind.value,
        a.name,
        a.media_type,
        a.size,
        a.sha256,
        e.audience.value,
        e.side.value,
        e.added_at,
    )


_MESSAGE = (
    "INSERT INTO dossier_messages VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING"
)


async def on_message(conn: asyncpg.Connection, e: MessagePosted, _: Envelope) -> None:
    await conn.execute(
        _MESSAGE,
        e.message_id,
        e.dossier_id,
        False,
        e.side.value,
        e.author,
        e.text,
        e.attachments,
        e.posted_at,
    )


async def on_note(conn: asyncpg.Connection, e: NoteAdded, _: Envelope) -> None:
    await conn.execute(
        _MESSAGE,
        e.note_id,
        e.dossier_id,
        True,
        e.side.value,
        e.author,
        e.text,
        e.attachments,
        e.added_at,
    )


async def on_correction_requested(
    conn: asyncpg.Connection, e: CorrectionRequested, _: Envelope
) -> None:
    asked = {
        "request_id": str(e.request_id),
        "fields": e.fields,
        "reason": e.reason,
        "due_at": e.due_at.isoformat(),
        "requested_at": e.requested_at.isoformat(),
        "overdue": False,
    }
    await conn.execute(
        "UPDATE dossiers SET status = 'correction_requested', correction = $2::jsonb "
        "WHERE dossier_id = $1",
        e.dossier_id,
        json.dumps(asked),
    )


async def on_amended(conn: asyncpg.Connection, e: ApplicationAmended, _: Envelope) -> None:
    d = e.dossier
    await conn.execute(
        "UPDATE dossiers SET status = 'submitted', correction = NULL, amended_at = $2, "
        "filed = $3::jsonb, title = $4, requested_eur = $5 WHERE dossier_id = $1",
        e.dossier_id,
        e.amended_at,
        d.model_dump_json(),
        d.project.title,
        d.requested_eur,
    )
    await conn.execute(
        "INSERT INTO dossier_amendments VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING",
        e.dossier_id,
        e.request_id,
        e.amended_at,
        json.dumps([c.model_dump(mode="json") for c in e.changes]),
    )


async def on_set_aside(conn: asyncpg.Connection, e: AmendmentsSetAside, _: Envelope) -> None:
    # the dossier as decided on stands again, and its amendments that stand are listed
    d = e.dossier
    await conn.execute(
        "UPDATE dossiers SET filed = $2::jsonb, title = $3, requested_eur = $4 "
        "WHERE dossier_id = $1",
        e.dossier_id,
        d.model_dump_json(),
        d.project.title,
        d.requested_eur,
    )
    await conn.execute(
        "DELETE FROM dossier_amendments WHERE dossier_id = $1 AND request_id = ANY($2::uuid[])",
        e.dossier_id,
        e.request_ids,
    )


async def on_correction_overdue(
    conn: asyncpg.Connection, e: CorrectionOverdue, _: Envelope
) -> None:
    await conn.execute(
        "UPDATE dossiers SET correction = jsonb_set(correction, '{overdue}', 'true') "
        "WHERE dossier_id = $1 AND correction->>'request_id' = $2",
        e.dossier_id,
        str(e.request_id),
    )


async def on_closed(conn: asyncpg.Connection, e: DossierClosedIncomplete, _: Envelope) -> None:
    await conn.execute(
        "UPDATE dossiers SET status = 'closed_incomplete', correction = NULL, closed_at = $2, "
        "closure_motivation = $3 WHERE dossier_id = $1",
        e.dossier_id,
        e.closed_at,
        e.motivation,
    )


async def on_draft_saved(conn: asyncpg.Connection, e: DraftSaved, _: Envelope) -> None:
    await conn.execute(
        "INSERT INTO drafts (draft_id, campaign_id, siren, content, saved_at) "
        "VALUES ($1, $2, $3, $4::jsonb, $5) ON CONFLICT (draft_id) DO UPDATE "
        "SET content = excluded.content, saved_at = excluded.saved_at",
        e.dossier_id,
        e.campaign_id,
        e.siren,
        json.dumps(e.content),
        e.saved_at,
    )


async def on_draft_shared(conn: asyncpg.Connection, e: DraftShared, _: Envelope) -> None:
    await conn.execute(
        "UPDATE drafts SET departement = $2, shared_at = $3 WHERE draft_id = $1",
        e.dossier_id,
        e.departement,
        e.shared_at,
    )


async def on_draft_commented(conn: asyncpg.Connection, e: DraftCommented, _: Envelope) -> None:
    await conn.execute(
        "INSERT INTO draft_comments VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        e.comment_id,
        e.dossier_id,
        e.departement,
        e.author,
        e.text,
        e.commented_at,
    )


_AUTHOR = "UPDATE dossier_messages SET author = $2 WHERE message_id = $1"
_COMMENTER = "UPDATE draft_comments SET author = $2 WHERE comment_id = $1"


def rewritten_from_the_log(store: EventStore) -> Handler:
    """A person's data erased: what the read models keep of their dossiers and drafts is
    written again from the store, whose events now read with the placeholders."""

    async def on_erased(conn: asyncpg.Connection, e: PersonalDataErased, _: Envelope) -> None:
        for stream in e.streams:
            try:
                dossier_id = UUID(stream)
            except ValueError:
                continue  # another service's stream (a committee session's): none of ours
            filed, draft = None, None
            for stored in await store.load(conn, stream):
                match stored.event():
                    case ApplicationSubmitted() as submitted:
                        filed = submitted.dossier
                    case AmendmentsSetAside() as set_aside:
                        filed = set_aside.dossier
                    case ApplicationAmended() as amended:
                        filed = amended.dossier
                        await conn.execute(
                            "UPDATE dossier_amendments SET changes = $3::jsonb "
                            "WHERE dossier_id = $1 AND request_id = $2",
                            amended.dossier_id,
                            amended.request_id,
                            json.dumps([c.model_dump(mode="json") for c in amended.changes]),
                        )
                    case DraftSaved() as saved:
                        draft = saved.content
                    case (
                        MessagePosted(message_id=written, author=author)
                        | NoteAdded(note_id=written, author=author)
                    ):
                        await conn.execute(_AUTHOR, written, author)
                    case DraftCommented() as comment:
                        await conn.execute(_COMMENTER, comment.comment_id, comment.author)
            if filed is not None:
                await conn.execute(
                    "UPDATE dossiers SET filed = $2::jsonb WHERE dossier_id = $1",
                    dossier_id,
                    filed.model_dump_json(),
                )
            if draft is not None:
                await conn.execute(
                    "UPDATE drafts SET content = $2::jsonb WHERE draft_id = $1",
                    dossier_id,
                    json.dumps(draft),
                )

    return on_erased


def dossiers(store: EventStore) -> Subscription:
    return Subscription(
        Consumer(
            "dossiers",
            {
                ApplicationSubmitted: on_submitted,
                ApplicationWithdrawn: on_withdrawn,
                AttachmentAdded: on_attachment,
                MessagePosted: on_message,
                NoteAdded: on_note,
                CorrectionRequested: on_correction_requested,
                ApplicationAmended: on_amended,
                AmendmentsSetAside: on_set_aside,
                CorrectionOverdue: on_correction_overdue,
                DossierClosedIncomplete: on_closed,
                DraftSaved: on_draft_saved,
                DraftShared: on_draft_shared,
                DraftCommented: on_draft_commented,
                PersonalDataErased: rewritten_from_the_log(store),
            },
        ),
        services=["applications"],
        read_models=[
            "dossiers",
            "dossier_attachments",
            "dossier_messages",
            "dossier_amendments",
            "drafts",
            "draft_comments",
        ],
    )
