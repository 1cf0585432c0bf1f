"""The committee's rules, pure: reviewers seated and recused, declarations before reading, each
scoring alone, the consensus once every seated reviewer scored; a session decided at once within
the envelope, refused as a whole beyond it."""

from dataclasses import replace
from decimal import Decimal
from functools import reduce
from uuid import uuid4

import pytest

from services.selection import sessions
from services.selection.commands import (
    AssignReviewer,
    DeclareInterests,
    RecordAssessment,
    SubmitReview,
)
from services.selection.domain import decide, evolve
from services.selection.errors import (
    ConsensusRecorded,
    NotAReviewer,
    OverEnvelope,
    ReviewerNotCleared,
    ReviewersComplete,
    ReviewerTaken,
    ReviewsMissing,
    SessionRefused,
    UnknownDossier,
)
from services.selection.sessions import SESSION, Choice, DecideSession, RecordSession
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.committee import Conflict, ReviewerAssigned, ReviewerRecused
from shared.contracts.selection import Outcome
from shared.language.actors import Actor, Role
from shared.language.campaigns import Committee
from shared.language.errors import Forbidden, Invalid
from tests.unit.test_selection_lifecycle import (
    CAMPAIGN,
    INSTRUCTOR,
    JUNE,
    PRESIDENT,
    SCORES,
    assess,
    checked,
    given_opinion,
    history,
)

THREE = CAMPAIGN.model_copy(update={"committee": Committee(reviewers_per_dossier=3)})
VOLUNTEERS = CAMPAIGN.model_copy(
    update={"committee": Committee(reviewers_per_dossier=2, assignment="volunteer")}
)
ALICE, BRUNO, CHLOE, DAVID = (
    f"{name}@mildeca.example.gouv.fr" for name in ("alice", "bruno", "chloe", "david")
)


def member(who: str) -> Actor:
    return Actor(Role.reviewer, who)


def then(state: SelectionState, events: list[DomainEvent]) -> SelectionState:
    return reduce(evolve, events, state)


def named(state: SelectionState, *who: str, campaign=THREE) -> SelectionState:
    for reviewer in who:
        command = AssignReviewer(INSTRUCTOR, reviewer, {campaign.id: campaign}, False, JUNE)
        state = then(state, decide(state, command))
    return state


def declaration(who: str, conflict: Conflict | None = None, campaign=THREE) -> DeclareInterests:
    details = "Conseiller municipal." if conflict else ""
    return DeclareInterests(member(who), conflict, details, {campaign.id: campaign}, False, JUNE)


def review(who: str, proposed: str = "150000.00", campaign=THREE) -> SubmitReview:
    return SubmitReview(
        member(who), SCORES, Decimal(proposed), "Avis.", {campaign.id: campaign}, False, JUNE
    )


def consensus(campaign=THREE) -> RecordAssessment:
    return replace(assess(), campaigns={campaign.id: campaign})


def given_reviewed(*who: str) -> SelectionState:
    state = named(given_opinion(), *who)
    for reviewer in who:
        state = then(state, decide(state, declaration(reviewer)))
        state = then(state, decide(state, review(reviewer)))
    return state


def test_a_dossier_seats_as_many_reviewers_as_its_campaign_asks_and_no_more():
    state = named(given_opinion(), ALICE, BRUNO, CHLOE)
    assert state.reviewers.seated == (ALICE, BRUNO, CHLOE)
    with pytest.raises(ReviewersComplete, match="has its 3 reviewers"):
        named(state, DAVID)


def test_only_the_moderator_names_a_reviewer():
    command = AssignReviewer(PRESIDENT, ALICE, {THREE.id: THREE}, False, JUNE)
    with pytest.raises(Forbidden):
        decide(given_opinion(), command)


def test_a_declared_conflict_recuses_the_reviewer_for_good_and_frees_a_seat():
    state = named(given_opinion(), ALICE, BRUNO, CHLOE)
    [event] = decide(state, declaration(CHLOE, Conflict.family))
    assert isinstance(event, ReviewerRecused) and event.conflict is Conflict.family
    state = then(state, [event])
    assert state.reviewers.seated == (ALICE, BRUNO)
    with pytest.raises(ReviewerTaken, match="recused"):
        named(state, CHLOE)
    with pytest.raises(Forbidden, match="recused reviewer scores nothing"):
        decide(state, review(CHLOE))
    assert named(state, DAVID).reviewers.seated == (ALICE, BRUNO, DAVID)


def test_a_reviewer_scores_only_after_declaring_no_conflict():
    state = named(given_opinion(), ALICE)
    with pytest.raises(ReviewerNotCleared):
        decide(state, review(ALICE))


def test_a_reviewer_not_named_on_the_dossier_finds_no_such_dossier():
    with pytest.raises(UnknownDossier):
        decide(named(given_opinion(), ALICE), declaration(BRUNO))


def test_only_a_committee_member_declares_interests():
    command = replace(declaration(ALICE), actor=INSTRUCTOR)
    with pytest.raises(Forbidden):
        decide(named(given_opinion(), ALICE), command)


def test_volunteers_take_a_dossier_themselves_until_it_has_its_reviewers():
    state = given_opinion()
    for who in (ALICE, BRUNO):
        events = decide(state, declaration(who, campaign=VOLUNTEERS))
        assert isinstance(events[0], ReviewerAssigned) and events[0].reviewer == who
        state = then(state, events)
    with pytest.raises(ReviewersComplete):
        decide(state, declaration(CHLOE, campaign=VOLUNTEERS))


def test_the_consensus_waits_for_every_seated_reviewer_without_conflict():
    state = given_reviewed(ALICE, BRUNO)
    with pytest.raises(ReviewsMissing, match=r"2 are in .* 1 more needed"):
        decide(state, consensus())
    state = given_reviewed(ALICE, BRUNO, CHLOE)
    assert decide(state, consensus())


def test_a_recused_reviewers_scores_do_not_count_towards_the_consensus():
    state = given_reviewed(ALICE, BRUNO, CHLOE)
    state = then(state, decide(state, declaration(CHLOE, Conflict.employment)))
    assert set(state.reviewers.counted) == {ALICE, BRUNO}
    with pytest.raises(ReviewsMissing):
        decide(state, consensus())


def test_reviews_close_once_the_consensus_is_recorded_and_stay_in_the_history():
    state = given_reviewed(ALICE, BRUNO, CHLOE)
    state = then(state, decide(state, consensus()))
    with pytest.raises(ConsensusRecorded):
        decide(state, review(ALICE))
    assert set(state.reviewers.reviews) == {ALICE, BRUNO, CHLOE}


def test_a_campaign_assessed_in_one_voice_needs_no_reviewers():
    state = given_opinion()
    assert decide(state, assess())
    with pytest.raises(NotAReviewer, match="one voice"):
        named(state, ALICE, campaign=CAMPAIGN)


# --- sessions ------------------------------------------------------------------------------------


def assessed_dossier(score_innovation: int, proposed: str) -> tuple[SelectionState, str]:
    state = given_opinion()
    scores = SCORES.model_copy(update={"innovation": score_innovation})
    state = then(state, decide(state, assess(proposed, scores)))
    assert state.checked is not None
    return state, state.checked.reference


def held(*states: SelectionState) -> sessions.SessionState:
    command = RecordSession(
        INSTRUCTOR,
        uuid4(),
        CAMPAIGN,
        "Comité du 20 juin",
        JUNE,
        (ALICE, BRUNO),
        "Procès-verbal.",
        {s.checked.dossier_id: s for s in states if s.checked},
        frozenset(),
        JUNE,
    )
    return SESSION.fold(SESSION.decide(SESSION.initial, command))


def test_a_session_ranks_its_dossiers_by_their_consensus():
    low, _ = assessed_dossier(1, "100000.00")
    high, _ = assessed_dossier(5, "100000.00")
    state = held(low, high)
    assert state.held is not None
    assert [d.dossier_id for d in state.held.dossiers] == [
        high.checked.dossier_id,
        low.checked.dossier_id,
    ]


def test_a_session_examines_only_assessed_dossiers():
    with pytest.raises(SessionRefused, match="consensus"):
        held(given_opinion())


def choices(state: sessions.SessionState, outcome: Outcome = Outcome.selected) -> dict:
    assert state.held is not None
    return {d.dossier_id: Choice(outcome, None, "Classement.") for d in state.held.dossiers}


def test_a_session_is_decided_at_once_with_the_proposed_amounts():
    a, _ = assessed_dossier(5, "100000.00")
    b, _ = assessed_dossier(4, "150000.00")
    state = held(a, b)
    command = DecideSession(PRESIDENT, {CAMPAIGN.id: CAMPAIGN}, choices(state), Decimal(0), JUNE)
    [decided] = SESSION.decide(state, command)
    assert decided.granted_total_eur == Decimal("250000.00")


def test_a_session_beyond_the_envelope_is_refused_whole():
    a, _ = assessed_dossier(5, "100000.00")
    b, _ = assessed_dossier(4, "150000.00")
    state = held(a, b)
    spent = CAMPAIGN.envelope_eur - Decimal("200000.00")
    command = DecideSession(PRESIDENT, {CAMPAIGN.id: CAMPAIGN}, choices(state), spent, JUNE)
    with pytest.raises(OverEnvelope, match="the whole session is refused"):
        SESSION.decide(state, command)


def test_a_session_decision_covers_every_examined_dossier():
    a, _ = assessed_dossier(5, "100000.00")
    b, _ = assessed_dossier(4, "150000.00")
    state = held(a, b)
    partial = {k: v for k, v in choices(state).items() if k == a.checked.dossier_id}
    command = DecideSession(PRESIDENT, {CAMPAIGN.id: CAMPAIGN}, partial, Decimal(0), JUNE)
    with pytest.raises(Invalid, match="missing"):
        SESSION.decide(state, command)


def test_only_the_president_decides_a_session():
    a, _ = assessed_dossier(5, "100000.00")
    state = held(a)
    command = DecideSession(INSTRUCTOR, {CAMPAIGN.id: CAMPAIGN}, choices(state), Decimal(0), JUNE)
    with pytest.raises(Forbidden):
        SESSION.decide(state, command)


def test_a_dossier_unknown_to_the_campaign_is_refused_from_a_session():
    other = history(checked().model_copy(update={"campaign_id": "another"}))
    with pytest.raises(SessionRefused, match="no dossier of campaign"):
        held(other)
