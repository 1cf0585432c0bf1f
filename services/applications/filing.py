"""Filing a dossier, from a draft or at once, and withdrawing it. Pure: `decide`'s parts."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from services.applications.commands import (
    CommentDraft,
    FileDraft,
    SaveDraft,
    ShareDraft,
    Submit,
    Withdraw,
)
from services.applications.errors import (
    AlreadyDecided,
    AlreadySubmitted,
    AlreadyWithdrawn,
    CallClosed,
    CallNotOpen,
    UnknownDossier,
    UnknownDraft,
)
from services.applications.state import DossierState, Draft
from shared.contracts import DomainEvent
from shared.contracts.applications import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    Dossier,
    DraftCommented,
    DraftSaved,
    DraftShared,
)
from shared.language.actors import Actor, Role, require_own_dossier, require_role, within_binding
from shared.language.campaigns import Campaign
from shared.language.errors import invalid, refused_fields


def ensure_open(campaign: Campaign, now: datetime) -> None:
    if now < campaign.published_at:
        raise CallNotOpen(campaign)
    if now >= campaign.deadline:
        raise CallClosed(campaign)


def submit(state: DossierState, c: Submit) -> list[DomainEvent]:
    """Only an applicant files, for its own SIREN, while the call is open; once."""
    require_role(c.actor, Role.applicant, to="file a dossier")
    require_own_dossier(c.actor, c.dossier.applicant.siren, "file a dossier")
    ensure_open(c.campaign, c.now)
    if state.submitted:
        raise AlreadySubmitted(f"dossier {c.dossier_id} is already submitted")
    return [_submitted(c.dossier_id, c.reference, c.campaign, c.dossier, c.now)]


def _submitted(
    dossier_id: Any, reference: str, campaign: Campaign, dossier: Dossier, now: datetime
) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=dossier_id,
        reference=reference,
        campaign_id=campaign.id,
        submitted_at=now,
        dossier=dossier,
    )


def withdraw(state: DossierState, c: Withdraw) -> list[DomainEvent]:
    """The applicant of the dossier's SIREN withdraws it, once, and only before the decision."""
    require_role(c.actor, Role.applicant, to="withdraw a dossier")
    if not state.submitted or not within_binding(c.actor, siren=state.siren):
        raise UnknownDossier(c.dossier_id)
    if state.withdrawn:
        raise AlreadyWithdrawn(f"dossier {state.reference} is already withdrawn")
    if c.decided is not None:
        raise AlreadyDecided(
            f"dossier {state.reference} can no longer be withdrawn: the President of MILDECA "
            f"decided ({c.decided.outcome}) on {c.decided.decided_at.isoformat()}"
        )
    return [withdrawal(state, c.dossier_id, c.now, c.reason)]


def withdrawal(
    state: DossierState, dossier_id: UUID, now: datetime, reason: str
) -> ApplicationWithdrawn:
    """The withdrawal of a filed dossier, whoever asked for it (its applicant, or the platform
    it was filed on)."""
    return ApplicationWithdrawn(
        dossier_id=dossier_id,
        reference=state.reference,
        campaign_id=state.campaign_id,
        withdrawn_at=now,
        reason=reason,
    )


# --- drafts: never a filing until filed ---------------------------------------------------------


def _own_draft(state: DossierState, actor: Actor, draft_id: Any) -> Draft:
    """The draft of the actor's SIREN; any other answers as one that does not exist."""
    if state.draft is None or state.submitted or actor.siren != state.draft.siren:
        raise UnknownDraft(draft_id)
    return state.draft


def save_draft(state: DossierState, c: SaveDraft, draft_id: Any) -> list[DomainEvent]:
    """An applicant saves what it wrote so far, as often as it likes, until it files."""
    require_role(c.actor, Role.applicant, to="save a draft")
    if state.submitted:
        raise AlreadySubmitted(f"draft {draft_id} was filed as dossier {state.reference}")
    if state.draft is not None:
        _own_draft(state, c.actor, draft_id)
    assert c.actor.siren is not None
    claimed = (c.content.get("applicant") or {}).get("siren")
    if claimed not in (None, "", c.actor.siren):
        raise invalid(
            "content.applicant.siren",
            "siren_not_yours",
            f"a draft is written for the actor's own SIREN {c.actor.siren}",
        )
    return [
        DraftSaved(
            dossier_id=draft_id,
            campaign_id=c.campaign.id,
            siren=c.actor.siren,
            content=c.content,
            saved_at=c.now,
        )
    ]


def share_draft(state: DossierState, c: ShareDraft, draft_id: Any) -> list[DomainEvent]:
    """The préfecture of the draft's département may then read it and comment."""
    require_role(c.actor, Role.applicant, to="share a draft")
    draft = _own_draft(state, c.actor, draft_id)
    applicant = draft.content.get("applicant") or {}
    representative = draft.content.get("representative") or {}
    departement = applicant.get("departement")
    if not departement:
        raise invalid(
            "content.applicant.departement",
            "missing",
            "the draft names no département: its préfecture cannot be found",
        )
    if draft.shared_with == departement:
        return []
    return [
        DraftShared(
            dossier_id=draft_id,
            campaign_id=draft.campaign_id,
            siren=draft.siren,
            departement=departement,
            applicant_name=str(applicant.get("name") or draft.siren),
            contact_email=str(representative.get("email") or c.actor.subject),
            shared_at=c.now,
        )
    ]


def comment_draft(state: DossierState, c: CommentDraft, draft_id: Any) -> list[DomainEvent]:
    """Only the préfecture the draft was shared with comments on it."""
    require_role(c.actor, Role.prefecture, to="comment on a draft")
    draft = state.draft
    if draft is None or state.submitted or draft.shared_with != c.actor.departement:
        raise UnknownDraft(draft_id)
    return [
        DraftCommented(
            dossier_id=draft_id,
            campaign_id=draft.campaign_id,
            comment_id=c.comment_id,
            departement=draft.shared_with,
            author=c.actor.subject,
            text=c.text,
            commented_at=c.now,
        )
    ]


def file_draft(state: DossierState, c: FileDraft, draft_id: Any) -> list[DomainEvent]:
    """The draft becomes the dossier, under the call's deadline, as a filing at once would."""
    require_role(c.actor, Role.applicant, to="file a dossier")
    draft = _own_draft(state, c.actor, draft_id)
    ensure_open(c.campaign, c.now)
    try:
        dossier = Dossier.model_validate(draft.content)
    except ValidationError as error:
        raise refused_fields(error, "content") from None
    require_own_dossier(c.actor, dossier.applicant.siren, "file a dossier")
    return [_submitted(draft_id, c.reference, c.campaign, dossier, c.now)]
