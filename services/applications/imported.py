"""Dossiers filed on another platform (Démarches Simplifiées) and imported: filed once, under the
call's deadline tested at their filing there; amended by what the applicant changed there;
withdrawn when deleted there. Pure: `decide`'s parts (docs/ds-bridge.md §3).

After the import, a dossier lives as one filed in aap: eligibility, the préfecture's opinion and
everything after follow from the same events.
"""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from services.applications.commands import AmendOnPlatform, ImportDossier, WithdrawOnPlatform
from services.applications.errors import (
    AlreadyDecided,
    AlreadySubmitted,
    AlreadyWithdrawn,
    DossierClosed,
    UnknownDossier,
)
from services.applications.filing import ensure_open, withdrawal
from services.applications.state import DossierState
from shared.contracts import DomainEvent
from shared.contracts.applications import (
    CORRECTABLE,
    ApplicationAmended,
    ApplicationSubmitted,
    AttachmentAdded,
    FieldChange,
    Side,
)
from shared.contracts.values import Attachment
from shared.language.attachments import Audience
from shared.language.errors import invalid

# Who the applicant is does not change by an amendment: a new SIREN is another dossier.
IDENTITY = ("applicant.siren", "applicant.kind", "applicant.departement")
AMENDABLE = ("applicant.name", *CORRECTABLE)


def import_dossier(state: DossierState, c: ImportDossier) -> list[DomainEvent]:
    """Once; refused when it was filed there outside the call's dates, as a filing in aap."""
    if state.submitted:
        raise AlreadySubmitted(f"dossier {state.reference} is already imported")
    ensure_open(c.campaign, c.origin.deposited_at)
    submitted = ApplicationSubmitted(
        dossier_id=c.dossier_id,
        reference=c.reference,
        campaign_id=c.campaign.id,
        submitted_at=c.origin.deposited_at,
        dossier=c.dossier,
        origin=c.origin,
    )
    return [submitted, *_files(c.dossier_id, c.reference, c.campaign.id, c.attachments, c)]


def amend_on_platform(state: DossierState, c: AmendOnPlatform) -> list[DomainEvent]:
    """The fields the applicant changed there, each before and after; new files attached.

    Before the decision only, the applicant's identity unchanged; a correction asked in aap is
    answered by it (its request id), else the change is its own (the platform's change id).
    """
    if not state.submitted:
        raise UnknownDossier(c.dossier_id)
    if not state.open:
        raise DossierClosed(f"dossier {state.reference} is withdrawn or closed: not amended")
    if c.decided is not None:
        raise AlreadyDecided(
            f"dossier {state.reference} was decided ({c.decided.outcome}) on "
            f"{c.decided.decided_at.isoformat()}: a change made on the platform after it is "
            "not applied"
        )
    assert state.dossier is not None
    before, after = state.dossier.model_dump(mode="json"), c.dossier.model_dump(mode="json")
    moved = [path for path in IDENTITY if _at(before, path) != _at(after, path)]
    if moved:
        raise invalid(
            moved[0],
            "identity_changed",
            "the applicant's SIREN, kind and département are not amended: "
            f"{', '.join(moved)} changed on the platform",
        )
    changes = [
        FieldChange(field=path, before=_at(before, path), after=_at(after, path))
        for path in AMENDABLE
        if _at(before, path) != _at(after, path)
    ]
    # A file's id comes from the platform's file (its checksum): one seen before is not added.
    files = [a for a in c.attachments if a.attachment_id not in state.attachments]
    events: list[DomainEvent] = []
    if changes:
        asked = state.correction
        events.append(
            ApplicationAmended(
                dossier_id=c.dossier_id,
                reference=state.reference,
                campaign_id=state.campaign_id,
                request_id=asked.request_id if asked else c.change_id,
                changes=changes,
                dossier=c.dossier,
                amended_at=c.now,
                origin=c.origin,
            )
        )
    return [*events, *_files(c.dossier_id, state.reference, state.campaign_id, files, c)]


def withdraw_on_platform(state: DossierState, c: WithdrawOnPlatform) -> list[DomainEvent]:
    """Deleted on the platform before the decision: withdrawn, every later step stops."""
    if not state.submitted:
        raise UnknownDossier(c.dossier_id)
    if state.withdrawn:
        raise AlreadyWithdrawn(f"dossier {state.reference} is already withdrawn")
    if c.decided is not None:
        raise AlreadyDecided(
            f"dossier {state.reference} was decided ({c.decided.outcome}): its deletion on the "
            "platform does not undo the decision"
        )
    return [withdrawal(state, c.dossier_id, c.now, c.reason)]


def _files(
    dossier_id: UUID,
    reference: str,
    campaign_id: str,
    attachments: Iterable[Attachment],
    c: ImportDossier | AmendOnPlatform,
) -> list[DomainEvent]:
    return [
        AttachmentAdded(
            dossier_id=dossier_id,
            reference=reference,
            campaign_id=campaign_id,
            attachment=attachment,
            audience=Audience.parties,
            side=Side.applicant,
            added_at=c.now,
        )
        for attachment in attachments
    ]


def _at(tree: Any, path: str) -> Any:
    for part in path.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree
