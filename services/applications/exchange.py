"""What the three sides exchange around a filed dossier: attachments, the thread's messages,
the agents' private notes. Pure: `decide`'s parts.

The sides are the collectivité (its applicant), the préfecture of its département and MILDECA
(instructors and the President). Auditors read, never write. A private note is for agents:
an applicant can neither write one nor read it, nor see a file attached to one.
"""

from uuid import UUID

from services.applications.commands import AddAttachment, AddNote, PostMessage
from services.applications.errors import UnknownDossier
from services.applications.state import DossierState
from shared.contracts import DomainEvent
from shared.contracts.applications import AttachmentAdded, MessagePosted, NoteAdded, Side
from shared.language.actors import Actor, Role, require_role
from shared.language.attachments import Audience
from shared.language.errors import Invalid, invalid

_SIDES = {
    Role.applicant: Side.applicant,
    Role.prefecture: Side.prefecture,
    Role.instructor: Side.mildeca,
    Role.president: Side.mildeca,
}
AGENTS = (Role.prefecture, Role.instructor, Role.president)


def side_of(actor: Actor) -> Side:
    return _SIDES[actor.role]


def _reachable(state: DossierState, actor: Actor, dossier_id: UUID) -> None:
    """A filed dossier within the actor's binding; any other answers as unknown."""
    if not state.submitted:
        raise UnknownDossier(dossier_id)
    if actor.role is Role.applicant and actor.siren != state.siren:
        raise UnknownDossier(dossier_id)
    if actor.role is Role.prefecture and actor.departement != state.departement:
        raise UnknownDossier(dossier_id)


def add_attachment(state: DossierState, c: AddAttachment, dossier_id: UUID) -> list[DomainEvent]:
    require_role(c.actor, *_SIDES, to="attach a file to a dossier")
    _reachable(state, c.actor, dossier_id)
    if c.audience is Audience.agents and c.actor.role not in AGENTS:
        raise invalid(
            "audience",
            "agents_only",
            "only MILDECA and the préfecture attach files for the agents alone",
        )
    if c.attachment.attachment_id in state.attachments:
        return []
    return [
        AttachmentAdded(
            dossier_id=dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            attachment=c.attachment,
            audience=c.audience,
            side=side_of(c.actor),
            added_at=c.now,
        )
    ]


def _attached(state: DossierState, ids: list[UUID], *, for_parties: bool) -> None:
    """Each file named is the dossier's; a message to the three sides names none of the
    agents' files."""
    errors: list[dict[str, object]] = []
    for n, attachment_id in enumerate(ids):
        audience = state.attachments.get(attachment_id)
        if audience is None:
            reason = f"no attachment {attachment_id} in this dossier: attach the file first"
            errors.append(_error(n, "attachment_unknown", reason))
        elif for_parties and audience is Audience.agents:
            reason = "a file for the agents alone cannot go with a message the applicant reads"
            errors.append(_error(n, "attachment_private", reason))
    if errors:
        raise Invalid(errors)


def _error(n: int, kind: str, reason: str) -> dict[str, object]:
    return {"field": f"attachments.{n}", "type": kind, "reason": reason, "context": {}}


def post_message(state: DossierState, c: PostMessage, dossier_id: UUID) -> list[DomainEvent]:
    require_role(c.actor, *_SIDES, to="write in a dossier's thread")
    _reachable(state, c.actor, dossier_id)
    _attached(state, c.attachments, for_parties=True)
    return [
        MessagePosted(
            dossier_id=dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            message_id=c.message_id,
            side=side_of(c.actor),
            author=c.actor.subject,
            text=c.text,
            attachments=c.attachments,
            posted_at=c.now,
        )
    ]


def add_note(state: DossierState, c: AddNote, dossier_id: UUID) -> list[DomainEvent]:
    require_role(c.actor, *AGENTS, to="write a private note among agents")
    _reachable(state, c.actor, dossier_id)
    _attached(state, c.attachments, for_parties=False)
    return [
        NoteAdded(
            dossier_id=dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            note_id=c.note_id,
            side=side_of(c.actor),
            author=c.actor.subject,
            text=c.text,
            attachments=c.attachments,
            added_at=c.now,
        )
    ]
