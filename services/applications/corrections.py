"""Correction requests (DS's "demande de correction"): an instructor names the fields to
correct, why, and by when; the applicant amends those fields only; a dossier whose deadline
passed unanswered may be closed as incomplete. Pure: `decide`'s parts.

Asked, answered and closed before the President's decision only: after it, the dossier as
decided is the one the convention binds.
"""

from datetime import timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from services.applications.commands import (
    Amend,
    CloseIncomplete,
    Decision,
    HearDecision,
    MarkCorrectionOverdue,
    RemindOfCorrection,
    RequestCorrection,
)
from services.applications.errors import (
    AlreadyDecided,
    CorrectionNotOverdue,
    CorrectionPending,
    DossierClosed,
    NoCorrectionAsked,
    UnknownDossier,
)
from services.applications.state import DossierState
from shared.contracts import DomainEvent
from shared.contracts.applications import (
    CORRECTABLE,
    AmendmentsSetAside,
    ApplicationAmended,
    CorrectionOverdue,
    CorrectionRequested,
    Dossier,
    DossierClosedIncomplete,
    FieldChange,
)
from shared.contracts.deadlines import DeadlineApproaching, DeadlineKind, PartyToAct
from shared.language.actors import Role, require_role, within_binding
from shared.language.campaigns import find
from shared.language.deadlines import days_left, reminder_is_due
from shared.language.errors import Invalid, invalid, refused_fields

_MILDECA = (Role.instructor, Role.president)


def _in_instruction(
    state: DossierState, dossier_id: UUID, decided: Decision | None, to: str
) -> None:
    if not state.submitted:
        raise UnknownDossier(dossier_id)
    if not state.open:
        raise DossierClosed(f"dossier {state.reference} is withdrawn or closed: no one may {to}")
    if decided is not None:
        raise AlreadyDecided(
            f"dossier {state.reference} was decided ({decided.outcome}) on "
            f"{decided.decided_at.isoformat()}: no one may {to} now"
        )


def request(state: DossierState, c: RequestCorrection, dossier_id: UUID) -> list[DomainEvent]:
    require_role(c.actor, *_MILDECA, to="ask for a correction")
    _in_instruction(state, dossier_id, c.decided, "ask for a correction")
    if state.correction is not None:
        raise CorrectionPending(
            f"dossier {state.reference} already waits for the correction asked on "
            f"{', '.join(state.correction.fields)}"
        )
    unknown = [
        {
            "field": f"fields.{n}",
            "type": "field_not_correctable",
            "reason": f"{name!r} is not a part of the dossier an applicant corrects "
            f"(one of: {', '.join(CORRECTABLE)})",
            "context": {},
        }
        for n, name in enumerate(c.fields)
        if name not in CORRECTABLE
    ]
    if unknown:
        raise Invalid(unknown)  # type: ignore[arg-type]
    days = find(c.campaigns, state.campaign_id).deadlines.correction_days
    due_at = c.due_at or c.now + timedelta(days=days)
    if due_at <= c.now:
        raise invalid("due_at", "due_in_the_past", "a correction's deadline is in the future")
    return [
        CorrectionRequested(
            dossier_id=dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            request_id=c.request_id,
            fields=list(dict.fromkeys(c.fields)),
            reason=c.reason,
            due_at=due_at,
            requested_at=c.now,
        )
    ]


def amend(state: DossierState, c: Amend, dossier_id: UUID) -> list[DomainEvent]:
    """The fields asked, and only them; the dossier checked whole as a filing is."""
    require_role(c.actor, Role.applicant, to="amend a dossier")
    if not state.submitted or not within_binding(c.actor, siren=state.siren):
        raise UnknownDossier(dossier_id)
    _in_instruction(state, dossier_id, c.decided, "amend it")
    asked = state.correction
    if asked is None:
        raise NoCorrectionAsked(
            f"no correction is asked of dossier {state.reference}: it is amended only on request"
        )
    not_asked = [name for name in c.changes if name not in asked.fields]
    if not_asked:
        raise Invalid(
            [
                {
                    "field": f"changes.{name}",
                    "type": "field_not_asked",
                    "reason": f"only the fields asked are corrected: {', '.join(asked.fields)}",
                    "context": {},
                }
                for name in not_asked
            ]
        )
    assert state.dossier is not None
    before = state.dossier.model_dump(mode="json")
    after_raw = before
    for name, value in c.changes.items():
        after_raw = _with(after_raw, name, value)
    try:
        dossier = Dossier.model_validate(after_raw)
    except ValidationError as error:
        raise refused_fields(error, "changes") from None
    after = dossier.model_dump(mode="json")
    changes = [
        FieldChange(field=name, before=_at(before, name), after=_at(after, name))
        for name in c.changes
        if _at(before, name) != _at(after, name)
    ]
    if not changes:
        raise invalid("changes", "nothing_changed", "the values given are those of the dossier")
    return [
        ApplicationAmended(
            dossier_id=dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            request_id=asked.request_id,
            changes=changes,
            dossier=dossier,
            amended_at=c.now,
        )
    ]


def _at(tree: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        tree = tree[part]
    return tree


def _with(tree: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {**tree, head: _with(tree[head], rest, value) if rest else value}


def remind(state: DossierState, c: RemindOfCorrection) -> list[DomainEvent]:
    """The applicant reminded of the correction still awaited, once per reminder."""
    asked = state.correction
    if asked is None or asked.due_at != c.due_at or not state.open:
        return []
    if not reminder_is_due(
        due_at=c.due_at,
        window_days=c.window_days,
        reminder_days=c.reminder_days,
        now=c.now,
        reminded_at=asked.reminded_at,
    ):
        return []
    return [
        DeadlineApproaching(
            dossier_id=c.dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            deadline=DeadlineKind.correction,
            due_at=c.due_at,
            days_left=days_left(c.due_at, c.now),
            party=PartyToAct.applicant,
            reminded_at=c.now,
        )
    ]


def mark_overdue(state: DossierState, c: MarkCorrectionOverdue) -> list[DomainEvent]:
    """The deadline came: said once, and only of the request still unanswered."""
    asked = state.correction
    if asked is None or asked.due_at != c.due_at or asked.overdue or not state.open:
        return []
    if c.now < asked.due_at:
        return []
    return [
        CorrectionOverdue(
            dossier_id=c.dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            request_id=asked.request_id,
            due_at=asked.due_at,
            recorded_at=c.now,
        )
    ]


def close(state: DossierState, c: CloseIncomplete, dossier_id: UUID) -> list[DomainEvent]:
    require_role(c.actor, *_MILDECA, to="close a dossier as incomplete")
    _in_instruction(state, dossier_id, c.decided, "close it")
    asked = state.correction
    if asked is None:
        raise NoCorrectionAsked(
            f"dossier {state.reference} waits for no correction: it is closed as incomplete "
            "only when a correction asked did not come before its deadline"
        )
    if c.now < asked.due_at:
        raise CorrectionNotOverdue(
            f"the correction of dossier {state.reference} is due by {asked.due_at.isoformat()}: "
            "it cannot be closed before"
        )
    return [
        DossierClosedIncomplete(
            dossier_id=dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            request_id=asked.request_id,
            motivation=c.motivation,
            closed_at=c.now,
        )
    ]


def set_aside_crossed(state: DossierState, c: HearDecision) -> list[DomainEvent]:
    """The dossier as decided stands again: the amendments taken after the version the President
    decided on (applications had not heard the decision yet) are set aside, once."""
    ids = [amendment for amendment, _ in state.versions]
    if c.decided_on not in ids:  # a version this stream never had (or nothing filed)
        return []
    at = ids.index(c.decided_on)
    dossier = state.versions[at][1]
    crossed = [a for a in ids[at + 1 :] if a is not None]
    if not crossed:
        return []
    return [
        AmendmentsSetAside(
            dossier_id=c.dossier_id,
            reference=state.reference,
            campaign_id=state.campaign_id,
            request_ids=crossed,
            dossier=dossier,
            decided_at=c.decided_at,
            set_aside_at=c.now,
        )
    ]
