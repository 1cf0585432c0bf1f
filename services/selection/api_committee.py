"""HTTP routes of the committee: a dossier's reviewers, their declarations of interests and
reviews, the committee's sessions and the President's decision of a session's dossiers."""

from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.selection import committee_handlers, committee_views, handlers
from services.selection.commands import AssignReviewer, DeclareInterests, SubmitReview
from services.selection.committee import DECLARE, REVIEW
from services.selection.domain import SELECTION
from services.selection.errors import UnknownDossier, UnknownSession
from services.selection.guards import UNKNOWN
from services.selection.sessions import SESSION, Choice
from shared.contracts.committee import Conflict
from shared.contracts.selection import Outcome, Scores
from shared.contracts.values import Euros, Minutes, Motivation, Person, ShortText, refuse
from shared.kernel.deps import (
    ActorDep,
    CampaignId,
    CampaignsDep,
    ClockDep,
    PoolDep,
    ReviewerDep,
    StoreDep,
)
from shared.kernel.http import recorded
from shared.kernel.openapi import READ_ONE, api_router, command, errors
from shared.language.actors import Actor, Role, require_role
from shared.language.campaigns import find
from shared.language.errors import Forbidden

router = api_router()
Recorded = dict[str, Any]
MILDECA = (Role.instructor, Role.president, Role.auditor)


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReviewerBody(_Body):
    """The committee member the moderator names, by the e-mail they log in with."""

    reviewer: Person


class InterestsBody(_Body):
    """No conflict of interest (`conflict` null), or the conflict that recuses the reviewer."""

    conflict: Conflict | None = None
    details: Motivation | None = None

    @model_validator(mode="after")
    def _details_with_a_conflict(self) -> "InterestsBody":
        if self.conflict is not None and self.details is None:
            refuse("details_missing", "a declared conflict says what it is (details)")
        return self


class ReviewBody(_Body):
    """One reviewer's six scores, the amount they propose and why."""

    scores: Scores
    proposed_eur: Euros
    comment: Motivation


class SessionBody(_Body):
    """A committee session held: the dossiers it examined, the members present, its minutes."""

    title: ShortText
    held_at: AwareDatetime
    members_present: list[Person] = Field(min_length=1, max_length=100)
    minutes: Minutes
    dossiers: list[UUID] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _each_dossier_once(self) -> "SessionBody":
        if len(set(self.dossiers)) != len(self.dossiers):
            refuse("dossier_twice", "a session examines each dossier once")
        return self


class SessionChoice(_Body):
    dossier_id: UUID
    outcome: Outcome
    granted_eur: Euros | None = Field(
        default=None, description="for a selection: the consensus's proposal unless said"
    )
    motivation: Motivation | None = Field(default=None, description="the session's unless said")

    @model_validator(mode="after")
    def _nothing_granted_on_a_rejection(self) -> "SessionChoice":
        if self.outcome is Outcome.rejected and self.granted_eur:
            refuse("granted_with_rejection", "a rejection grants nothing: leave granted_eur out")
        return self


class SessionDecisionBody(_Body):
    """The President's decision on every dossier the session examined, at once."""

    motivation: Motivation
    decisions: list[SessionChoice] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _each_dossier_once(self) -> "SessionDecisionBody":
        if len({c.dossier_id for c in self.decisions}) != len(self.decisions):
            refuse("dossier_twice", "the President decides each dossier of the session once")
        return self


def _reviewer(actor: Actor, to: str) -> None:
    if actor.role is not Role.reviewer:
        raise Forbidden(f"{actor.describe()} may not {to}: only a committee member may")


@router.post("/dossiers/{dossier_id}/reviewers", **command())
async def assign_reviewer(
    dossier_id: UUID,
    body: ReviewerBody,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> Recorded:
    """The moderator names a reviewer of the dossier (a committee member, by e-mail)."""
    now = clock()
    return recorded(
        await handlers.on_dossier(
            pool,
            store,
            dossier_id,
            actor,
            lambda withdrawn: AssignReviewer(actor, body.reviewer, campaigns, withdrawn, now),
            now,
        )
    )


@router.post("/dossiers/{dossier_id}/interests", **command())
async def declare_interests(
    dossier_id: UUID,
    body: InterestsBody,
    actor: ReviewerDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> Recorded:
    """A reviewer declares no conflict of interest with the applicant collectivité (then may
    read and score the dossier), or the conflict that recuses them from it."""
    _reviewer(actor, DECLARE)
    now = clock()
    details = body.details or ""
    return recorded(
        await handlers.on_dossier(
            pool,
            store,
            dossier_id,
            actor,
            lambda w: DeclareInterests(actor, body.conflict, details, campaigns, w, now),
            now,
        )
    )


@router.post("/dossiers/{dossier_id}/review", **command())
async def submit_review(
    dossier_id: UUID,
    body: ReviewBody,
    actor: ReviewerDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> Recorded:
    """A reviewer's scores of the six criteria, until the moderator records the consensus."""
    _reviewer(actor, REVIEW)
    now = clock()
    return recorded(
        await handlers.on_dossier(
            pool,
            store,
            dossier_id,
            actor,
            lambda w: SubmitReview(
                actor, body.scores, body.proposed_eur, body.comment, campaigns, w, now
            ),
            now,
        )
    )


@router.get("/reviews", responses=errors(401, 403, 503))
async def my_reviews(actor: ReviewerDep, pool: PoolDep) -> list[dict[str, Any]]:
    """The dossiers a committee member reviews, with where they stand on each."""
    _reviewer(actor, "list the dossiers they review")
    return await committee_views.reviews_of(pool, actor.subject)


@router.get("/reviews/open", responses=errors(401, 403, 503))
async def open_reviews(
    actor: ReviewerDep, pool: PoolDep, campaigns: CampaignsDep
) -> list[dict[str, Any]]:
    """The dossiers a committee member may take themselves, in the campaigns whose members
    volunteer: a seat left, not yet theirs. Declaring their interests on one takes its seat."""
    _reviewer(actor, "list the dossiers open to review")
    volunteering = {
        c.id: c.committee.reviewers_per_dossier
        for c in campaigns.values()
        if c.committee.assignment == "volunteer" and c.committee.reviewers_per_dossier
    }
    return await committee_views.open_to(pool, volunteering, actor.subject)


async def _state(pool: PoolDep, store: StoreDep, dossier_id: UUID) -> Any:
    async with pool.acquire() as conn:
        history = await store.load(conn, str(dossier_id))
    return SELECTION.fold(s.event() for s in history)


@router.get("/dossiers/{dossier_id}/review", **READ_ONE)
async def read_for_review(
    dossier_id: UUID, actor: ReviewerDep, pool: PoolDep, store: StoreDep
) -> dict[str, Any]:
    """The dossier as its reviewer reads it, once they declared no conflict of interest: a
    recused reviewer reads nothing of it, and no reviewer reads the others' scores before
    giving theirs."""
    _reviewer(actor, "read a dossier for review")
    state = await _state(pool, store, dossier_id)
    r = state.reviewers
    if state.checked is None or actor.subject not in r.assigned:
        raise UnknownDossier(UNKNOWN)
    if actor.subject in r.recused:
        raise Forbidden(
            "you declared a conflict of interest with this dossier: a recused reviewer reads "
            "none of its assessments"
        )
    if actor.subject not in r.cleared:
        raise Forbidden(
            "declare your interests first (POST /dossiers/{id}/interests): a reviewer sees a "
            "dossier only after declaring no conflict of interest"
        )
    return await committee_views.dossier_for_reviewer(pool, state, actor.subject)


@router.get("/dossiers/{dossier_id}/committee", **READ_ONE)
async def read_committee(
    dossier_id: UUID,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
) -> dict[str, Any]:
    """The dossier's committee for MILDECA and the auditors: its reviewers and where each
    stands, every review (those of the recused apart), what the consensus still waits for."""
    require_role(actor, *MILDECA, to="read a dossier's committee")
    state = await _state(pool, store, dossier_id)
    if state.checked is None:
        raise UnknownDossier(UNKNOWN)
    c = find(campaigns, state.checked.campaign_id).committee
    return committee_views.committee_json(state, c.reviewers_per_dossier, c.assignment)


@router.post("/campaigns/{campaign_id}/committee-sessions", **command())
async def record_session(
    campaign_id: CampaignId,
    body: SessionBody,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> Recorded:
    """The moderator records a session held: the dossiers it examined (each with its
    consensus, ranked), the members present, its minutes."""
    require_role(actor, Role.instructor, to="record a committee session")
    _, stored = await committee_handlers.record_session(
        pool,
        store,
        find(campaigns, campaign_id),
        actor,
        title=body.title,
        held_at=body.held_at,
        members_present=body.members_present,
        minutes=body.minutes,
        dossier_ids=body.dossiers,
        now=clock(),
    )
    return recorded(stored)


@router.get(
    "/campaigns/{campaign_id}/committee-sessions", responses=errors(401, 403, 404, 422, 503)
)
async def list_sessions(
    campaign_id: CampaignId, actor: ActorDep, pool: PoolDep, campaigns: CampaignsDep
) -> list[dict[str, Any]]:
    require_role(actor, *MILDECA, to="list a campaign's committee sessions")
    return await committee_views.sessions_of(pool, find(campaigns, campaign_id).id)


async def _session(pool: PoolDep, store: StoreDep, session_id: UUID) -> Any:
    state = SESSION.fold(
        s.event() for s in await committee_handlers.session_of(pool, store, session_id)
    )
    if state.held is None:
        raise UnknownSession(f"no committee session {session_id}")
    return state


@router.get("/committee-sessions/{session_id}", **READ_ONE)
async def read_session(
    session_id: UUID, actor: ActorDep, pool: PoolDep, store: StoreDep
) -> dict[str, Any]:
    """A session as its stream says it: its ranked dossiers, members, minutes, decision."""
    require_role(actor, *MILDECA, to="read a committee session")
    return committee_views.session_json(await _session(pool, store, session_id))


@router.post("/committee-sessions/{session_id}/decision", **command())
async def decide_session(
    session_id: UUID,
    body: SessionDecisionBody,
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    campaigns: CampaignsDep,
    clock: ClockDep,
) -> Recorded:
    """The President decides every dossier of the session at once, in its ranking: each its own
    SelectionDecided; the whole refused, with the reason, if the grants would exceed the
    envelope or one dossier cannot be decided as asked."""
    choices = {
        c.dossier_id: Choice(c.outcome, c.granted_eur, c.motivation or body.motivation)
        for c in body.decisions
    }
    return recorded(
        await committee_handlers.decide_session(
            pool, store, campaigns, session_id, actor, choices=choices, now=clock()
        )
    )
