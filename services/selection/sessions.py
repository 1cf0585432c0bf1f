"""A committee session as one decider, on a stream of its own: recorded with the dossiers it
examined (each with its consensus), then decided by the President at once, within the envelope.

The dossiers' own decisions (one SelectionDecided each) are decided by `decision.decide` on their
streams, in the same transaction (services/selection/session_handlers.py); this module decides
what only the whole session can: which dossiers, which amounts, and whether they fit."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from services.selection.errors import OverEnvelope, SessionRefused, UnknownSession
from services.selection.guards import require_not_withdrawn
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.committee import (
    CommitteeSessionDecided,
    CommitteeSessionHeld,
    SessionDecision,
    SessionDossier,
)
from shared.contracts.selection import Outcome
from shared.kernel.decider import Decider
from shared.language.actors import Actor, Role, require_role
from shared.language.campaigns import Campaign, find
from shared.language.errors import invalid

NOTHING = Decimal("0.00")


@dataclass(frozen=True)
class SessionState:
    held: CommitteeSessionHeld | None = None
    decided: CommitteeSessionDecided | None = None


@dataclass(frozen=True)
class RecordSession:
    """The moderator records a session held: its dossiers (read from their streams), the members
    present, the minutes."""

    actor: Actor
    session_id: UUID
    campaign: Campaign
    title: str
    held_at: datetime
    members_present: tuple[str, ...]
    minutes: str
    dossiers: Mapping[UUID, SelectionState]  # as asked, each folded from its stream
    withdrawn: frozenset[UUID]
    now: datetime


@dataclass(frozen=True)
class Choice:
    outcome: Outcome
    granted_eur: Decimal | None  # a selection without an amount grants the consensus's proposal
    motivation: str


@dataclass(frozen=True)
class DecideSession:
    """The President decides every dossier of the session at once."""

    actor: Actor
    campaigns: Mapping[str, Campaign]
    choices: Mapping[UUID, Choice]
    granted_so_far: Decimal  # what the campaign granted before, read under the envelope's lock
    now: datetime


Command = RecordSession | DecideSession


def _examined(dossier_id: UUID, state: SelectionState, c: RecordSession) -> SessionDossier:
    checked, assessment = state.checked, state.assessment
    if checked is None or checked.campaign_id != c.campaign.id:
        raise SessionRefused(
            f"dossier {dossier_id}: no dossier of campaign {c.campaign.id} has this id"
        )
    ref = checked.reference
    require_not_withdrawn(dossier_id in c.withdrawn, f"examine dossier {ref} in a session")
    if state.decision is not None:
        raise SessionRefused(f"dossier {ref}: the President already decided on it")
    if assessment is None:
        raise SessionRefused(
            f"dossier {ref}: the committee has not recorded its consensus yet, a session "
            "examines assessed dossiers"
        )
    return SessionDossier(
        dossier_id=dossier_id,
        reference=ref,
        weighted_score=assessment.weighted_score,
        proposed_eur=assessment.proposed_eur,
    )


def record(state: SessionState, c: RecordSession) -> list[DomainEvent]:
    require_role(c.actor, Role.instructor, to="record a committee session")
    if state.held is not None:
        raise SessionRefused(f"session {c.session_id} is recorded already")
    if c.held_at > c.now:
        raise invalid("held_at", "in_the_future", "a session is recorded once it was held")
    examined = [_examined(dossier_id, s, c) for dossier_id, s in c.dossiers.items()]
    examined.sort(key=lambda d: (-d.weighted_score, d.reference))
    return [
        CommitteeSessionHeld(
            dossier_id=c.session_id,
            session_id=c.session_id,
            campaign_id=c.campaign.id,
            title=c.title,
            held_at=c.held_at,
            moderator=c.actor.label(),
            members_present=list(c.members_present),
            dossiers=examined,
            minutes=c.minutes,
            recorded_at=c.now,
        )
    ]


def _decision(dossier: SessionDossier, choice: Choice) -> SessionDecision:
    granted = NOTHING
    if choice.outcome is Outcome.selected:
        granted = dossier.proposed_eur if choice.granted_eur is None else choice.granted_eur
    return SessionDecision(
        dossier_id=dossier.dossier_id,
        reference=dossier.reference,
        outcome=choice.outcome,
        granted_eur=granted,
    )


def decide(state: SessionState, c: DecideSession) -> list[DomainEvent]:
    """The session's decisions in its ranking, refused as a whole when they would exceed the
    envelope or leave one of its dossiers out."""
    require_role(c.actor, Role.president, to="decide a committee session's dossiers")
    held = state.held
    if held is None:
        raise UnknownSession("no committee session has this id")
    if state.decided is not None:
        raise SessionRefused("the President already decided this session's dossiers")
    examined = {d.dossier_id: d for d in held.dossiers}
    missing = [d.reference for d in held.dossiers if d.dossier_id not in c.choices]
    foreign = [str(i) for i in c.choices if i not in examined]
    if missing or foreign:
        said = (
            f"missing: {', '.join(missing)}" if missing else f"not examined: {', '.join(foreign)}"
        )
        raise invalid(
            "decisions",
            "not_the_session",
            f"the President decides every dossier the session examined, and only those ({said})",
        )
    decisions = [_decision(d, c.choices[d.dossier_id]) for d in held.dossiers]
    total = sum((d.granted_eur for d in decisions), NOTHING)
    envelope = find(c.campaigns, held.campaign_id).envelope_eur
    remaining = envelope - c.granted_so_far
    if total > remaining:
        raise OverEnvelope(
            f"the session's grants total {total} EUR, beyond the {remaining} EUR that remain of "
            f"the campaign's envelope of {envelope} EUR: the whole session is refused, none of "
            "its dossiers is decided"
        )
    return [
        CommitteeSessionDecided(
            dossier_id=held.session_id,
            session_id=held.session_id,
            campaign_id=held.campaign_id,
            decisions=decisions,
            granted_total_eur=total,
            envelope_eur=envelope,
            granted_before_eur=c.granted_so_far,
            decided_at=c.now,
        )
    ]


def _decide(state: SessionState, command: Command) -> list[DomainEvent]:
    match command:
        case RecordSession():
            return record(state, command)
        case DecideSession():
            return decide(state, command)


def evolve(state: SessionState, event: DomainEvent) -> SessionState:
    match event:
        case CommitteeSessionHeld():
            return SessionState(held=event)
        case CommitteeSessionDecided():
            return SessionState(held=state.held, decided=event)
        case _:
            return state


SESSION: Decider[SessionState, Command] = Decider(SessionState(), _decide, evolve)
