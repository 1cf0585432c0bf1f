"""A dossier's way through selection: the préfecture's opinion, the committee, the President's
decision, the tripartite convention — and every refusal on the way, each named as its rule."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.selection import convention, decision, errors, instruction
from services.selection.commands import Decide, GiveOpinion, RecordAssessment
from services.selection.domain import SelectionState, evolve
from shared.contracts import DomainEvent
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionSignatureAdded,
    ConventionSigned,
    EligibilityChecked,
    FailedRule,
    GrantReleased,
    Opinion,
    Outcome,
    Party,
    PrefectureOpinionGiven,
    Scores,
    SelectionDecided,
)
from shared.language.actors import Actor, Role
from shared.language.campaigns import Campaign, load_campaigns
from shared.language.errors import Forbidden
from tests.factories import random_siren

PARIS = ZoneInfo("Europe/Paris")
MAY = datetime(2024, 5, 20, 10, 0, tzinfo=PARIS)
JUNE = datetime(2024, 6, 20, 15, 0, tzinfo=PARIS)
SEPTEMBER = datetime(2024, 9, 16, 11, 0, tzinfo=PARIS)
CAMPAIGN = load_campaigns()["mildeca-2024"]
NOTHING_GRANTED = Decimal("0.00")

SIREN = random_siren()
APPLICANT = Actor(Role.applicant, "maire@roubaix.example.fr", siren=SIREN)
OTHER_APPLICANT = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
PREFECTURE = Actor(Role.prefecture, "chef-de-projet@nord.example.gouv.fr", departement="59")
OTHER_PREFECTURE = Actor(Role.prefecture, "chef-de-projet@bdr.example.gouv.fr", departement="13")
INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.gouv.fr")
PRESIDENT = Actor(Role.president, "president@mildeca.example.gouv.fr")
AUDITOR = Actor(Role.auditor, "audit@ccomptes.example.fr")

FAVORABLE = GiveOpinion(
    opinion=Opinion.favorable, motivation="Plan partenarial solide, CLSPD actif."
)
SCORES = Scores(
    adequacy=4, innovation=3, team_competence=5, methodology=2, partnership=4, prefecture_opinion=5
)
SELECT = Decide(
    outcome=Outcome.selected,
    granted_eur=Decimal("150000.00"),
    motivation="Projet global, fortement partenarial.",
)
REJECT = Decide(
    outcome=Outcome.rejected, motivation="Actions ponctuelles, partenariat à construire."
)


def campaigns(**changes: Any) -> dict[str, Campaign]:
    campaign = CAMPAIGN.model_copy(update=changes)
    return {campaign.id: campaign}


def assess(proposed: str = "150000.00", scores: Scores = SCORES) -> RecordAssessment:
    return RecordAssessment(scores=scores, proposed_eur=Decimal(proposed), comment="Solide.")


def history(*events: DomainEvent, withdrawn: bool = False) -> SelectionState:
    return replace(reduce(evolve, events, SelectionState()), withdrawn=withdrawn)


def checked(
    *,
    eligible: bool = True,
    objectives: tuple[str, ...] = ("prevent_entry", "reclaim_public_space"),
    requested: str = "160000.00",
) -> EligibilityChecked:
    return EligibilityChecked(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id=CAMPAIGN.id,
        eligible=eligible,
        failed_rules=[] if eligible else [FailedRule(rule="E4", reason="12 months")],
        checked_at=MAY,
        siren=SIREN,
        applicant_name="Commune de Roubaix",
        departement="59",
        requested_eur=Decimal(requested),
        objectives=list(objectives),
    )


def then(state: SelectionState, events: list[DomainEvent]) -> SelectionState:
    return reduce(evolve, events, state)


def given_checked(**kwargs: Any) -> SelectionState:
    return history(checked(**kwargs))


def given_opinion(**kwargs: Any) -> SelectionState:
    state = given_checked(**kwargs)
    return then(state, instruction.give_opinion(state, PREFECTURE, FAVORABLE, MAY))


def given_assessed(**kwargs: Any) -> SelectionState:
    state = given_opinion(**kwargs)
    return then(
        state, instruction.record_assessment(state, INSTRUCTOR, assess(), campaigns(), JUNE)
    )


def given_decided(command: Decide = SELECT) -> SelectionState:
    state = given_assessed()
    return then(
        state, decision.decide(state, PRESIDENT, command, campaigns(), NOTHING_GRANTED, JUNE)
    )


# --- the préfecture's opinion -------------------------------------------------------------------


def test_the_prefecture_of_the_dossiers_departement_gives_its_opinion():
    state = given_checked()
    [event] = instruction.give_opinion(state, PREFECTURE, FAVORABLE, MAY)
    assert isinstance(event, PrefectureOpinionGiven)
    assert (event.departement, event.opinion, event.given_at) == ("59", Opinion.favorable, MAY)
    assert event.motivation == FAVORABLE.motivation


def test_a_prefecture_of_another_departement_may_not_give_the_opinion_and_is_told_both():
    with pytest.raises(errors.NotYourDepartement) as refusal:
        instruction.give_opinion(given_checked(), OTHER_PREFECTURE, FAVORABLE, MAY)
    assert refusal.value.status == 403
    assert "13" in refusal.value.detail and "59" in refusal.value.detail


def test_only_a_prefecture_gives_the_prefecture_opinion():
    with pytest.raises(Forbidden, match="only the prefecture may"):
        instruction.give_opinion(given_checked(), INSTRUCTOR, FAVORABLE, MAY)


def test_an_opinion_on_an_ineligible_dossier_is_refused():
    with pytest.raises(errors.NotEligible, match="E4"):
        instruction.give_opinion(given_checked(eligible=False), PREFECTURE, FAVORABLE, MAY)


def test_the_prefecture_gives_its_opinion_once():
    with pytest.raises(errors.OpinionAlreadyGiven):
        instruction.give_opinion(given_opinion(), PREFECTURE, FAVORABLE, MAY)


def test_an_opinion_on_a_dossier_selection_does_not_know_is_refused_as_not_found():
    with pytest.raises(errors.UnknownDossier) as refusal:
        instruction.give_opinion(SelectionState(), PREFECTURE, FAVORABLE, MAY)
    assert refusal.value.status == 404


# --- the committee's assessment -----------------------------------------------------------------


def test_the_committee_scores_a_dossier_with_the_campaigns_weights():
    # given the 2024 weights: 1 for five criteria, 2 for the préfecture's opinion
    state = given_opinion()
    # when the committee scores 4, 3, 5, 2, 4 and 5 for the opinion
    [event] = instruction.record_assessment(state, INSTRUCTOR, assess(), campaigns(), JUNE)
    # then the weighted score is (4 + 3 + 5 + 2 + 4 + 2 × 5) / 7 = 4.00
    assert isinstance(event, CommitteeAssessmentRecorded)
    assert event.weighted_score == Decimal("4.00")
    assert (event.proposed_eur, event.scores, event.assessed_at) == (
        Decimal("150000.00"),
        SCORES,
        JUNE,
    )


def test_the_weighted_score_changes_with_the_campaigns_weights():
    heavy_opinion = {**CAMPAIGN.criteria_weights, "prefecture_opinion": Decimal(5)}
    scores = SCORES.model_copy(update={"prefecture_opinion": 0})
    [event] = instruction.record_assessment(
        given_opinion(),
        INSTRUCTOR,
        assess(scores=scores),
        campaigns(criteria_weights=heavy_opinion),
        JUNE,
    )
    assert isinstance(event, CommitteeAssessmentRecorded)
    assert event.weighted_score == Decimal("1.80")  # 18 / 10


def test_the_weighted_score_is_rounded_half_up_to_the_hundredth():
    weights = {**CAMPAIGN.criteria_weights, "prefecture_opinion": Decimal(3)}  # Σ w = 8
    scores = Scores(
        adequacy=4,
        innovation=4,
        team_competence=4,
        methodology=4,
        partnership=4,
        prefecture_opinion=3,
    )
    # (5 × 4 + 3 × 3) / 8 = 3.625: half up, not half even
    assert instruction.weighted_score(scores, weights) == Decimal("3.63")


def test_an_assessment_before_the_prefectures_opinion_is_refused():
    with pytest.raises(errors.OpinionMissing):
        instruction.record_assessment(given_checked(), INSTRUCTOR, assess(), campaigns(), JUNE)


def test_a_later_assessment_replaces_the_earlier_one():
    state = given_assessed()
    revised = instruction.record_assessment(
        state, INSTRUCTOR, assess("120000.00"), campaigns(), JUNE
    )
    assert then(state, revised).assessment == revised[0]


def test_the_committee_may_not_propose_more_than_was_requested():
    with pytest.raises(errors.OverRequest, match="160000.00"):
        instruction.record_assessment(
            given_opinion(), INSTRUCTOR, assess("160000.01"), campaigns(), JUNE
        )


def test_the_committee_may_not_propose_more_than_the_campaigns_cap():
    with pytest.raises(errors.OverCap, match="100000.00"):
        instruction.record_assessment(
            given_opinion(),
            INSTRUCTOR,
            assess("150000.00"),
            campaigns(cap_eur=Decimal("100000.00")),
            JUNE,
        )


def test_only_an_instructor_records_the_committees_assessment():
    with pytest.raises(Forbidden, match="only the instructor may"):
        instruction.record_assessment(given_opinion(), PRESIDENT, assess(), campaigns(), JUNE)


def test_no_assessment_once_the_president_decided():
    with pytest.raises(errors.AlreadyDecided):
        instruction.record_assessment(given_decided(), INSTRUCTOR, assess(), campaigns(), JUNE)


# --- the President's decision -------------------------------------------------------------------


def test_the_president_selects_an_assessed_dossier_granting_an_amount():
    [event] = decision.decide(
        given_assessed(), PRESIDENT, SELECT, campaigns(), NOTHING_GRANTED, JUNE
    )
    assert isinstance(event, SelectionDecided)
    assert (event.outcome, event.granted_eur, event.requested_eur) == (
        Outcome.selected,
        Decimal("150000.00"),
        Decimal("160000.00"),
    )
    assert (event.siren, event.departement, event.decided_at) == (SIREN, "59", JUNE)


def test_a_rejection_records_a_grant_of_zero():
    [event] = decision.decide(
        given_assessed(), PRESIDENT, REJECT, campaigns(), NOTHING_GRANTED, JUNE
    )
    assert isinstance(event, SelectionDecided)
    assert (event.outcome, event.granted_eur) == (Outcome.rejected, Decimal("0.00"))


def test_a_decision_before_the_prefectures_opinion_is_refused():
    with pytest.raises(errors.OpinionMissing):
        decision.decide(given_checked(), PRESIDENT, SELECT, campaigns(), NOTHING_GRANTED, JUNE)


def test_a_decision_before_the_committees_assessment_is_refused():
    with pytest.raises(errors.AssessmentMissing):
        decision.decide(given_opinion(), PRESIDENT, SELECT, campaigns(), NOTHING_GRANTED, JUNE)


def test_the_president_may_not_grant_more_than_was_requested():
    over = SELECT.model_copy(update={"granted_eur": Decimal("160000.01")})
    with pytest.raises(errors.OverRequest):
        decision.decide(given_assessed(), PRESIDENT, over, campaigns(), NOTHING_GRANTED, JUNE)


def test_the_president_may_not_grant_more_than_the_campaigns_cap():
    with pytest.raises(errors.OverCap):
        decision.decide(
            given_assessed(),
            PRESIDENT,
            SELECT,
            campaigns(cap_eur=Decimal("100000.00")),
            NOTHING_GRANTED,
            JUNE,
        )


def test_the_president_may_not_grant_more_than_remains_of_the_envelope():
    # given a campaign of 2,000,000.00 that granted 1,900,000.00 already
    with pytest.raises(errors.OverEnvelope, match="100000.00 EUR remain"):
        decision.decide(
            given_assessed(), PRESIDENT, SELECT, campaigns(), Decimal("1900000.00"), JUNE
        )


def test_the_president_may_grant_exactly_what_remains_of_the_envelope():
    [event] = decision.decide(
        given_assessed(), PRESIDENT, SELECT, campaigns(), Decimal("1850000.00"), JUNE
    )
    assert isinstance(event, SelectionDecided) and event.granted_eur == Decimal("150000.00")


def test_a_project_acting_on_a_single_objective_cannot_be_selected():
    state = given_assessed(objectives=("prevent_entry",))
    with pytest.raises(errors.SingleLever):
        decision.decide(state, PRESIDENT, SELECT, campaigns(), NOTHING_GRANTED, JUNE)


def test_a_project_acting_on_a_single_objective_may_be_rejected():
    state = given_assessed(objectives=("prevent_entry",))
    [event] = decision.decide(state, PRESIDENT, REJECT, campaigns(), NOTHING_GRANTED, JUNE)
    assert isinstance(event, SelectionDecided) and event.outcome is Outcome.rejected


def test_the_president_decides_once():
    with pytest.raises(errors.AlreadyDecided):
        decision.decide(
            given_decided(REJECT), PRESIDENT, SELECT, campaigns(), NOTHING_GRANTED, JUNE
        )


def test_only_the_president_decides():
    with pytest.raises(Forbidden, match="only the president may"):
        decision.decide(given_assessed(), INSTRUCTOR, SELECT, campaigns(), NOTHING_GRANTED, JUNE)


def test_a_selection_names_the_amount_granted():
    with pytest.raises(ValidationError, match="granted_eur"):
        Decide(outcome=Outcome.selected, motivation="Retenu.")


def test_a_rejection_grants_nothing():
    with pytest.raises(ValidationError, match="granted_eur"):
        Decide(outcome=Outcome.rejected, granted_eur=Decimal("10.00"), motivation="Non retenu.")
    assert Decide(outcome=Outcome.rejected, granted_eur=Decimal("0.00"), motivation="Non retenu.")


# --- the tripartite convention ------------------------------------------------------------------


def sign(state: SelectionState, actor: Actor, now: datetime = SEPTEMBER) -> list[DomainEvent]:
    return convention.sign(state, actor, campaigns(), now)


@pytest.mark.parametrize(
    ("actor", "party"),
    [(APPLICANT, Party.collectivite), (PREFECTURE, Party.prefecture), (PRESIDENT, Party.mildeca)],
)
def test_each_party_signs_for_the_role_it_holds(actor: Actor, party: Party):
    [event] = sign(given_decided(), actor)
    assert isinstance(event, ConventionSignatureAdded)
    assert (event.party, event.signatory, event.signed_at) == (party, actor.subject, SEPTEMBER)


def test_the_convention_is_signed_only_when_the_third_party_signs():
    state = given_decided()
    first = sign(state, PRESIDENT)
    second = sign(state := then(state, first), APPLICANT)
    third = sign(state := then(state, second), PREFECTURE)
    assert [type(e) for e in first + second] == [ConventionSignatureAdded] * 2
    added, signed = third
    assert isinstance(added, ConventionSignatureAdded) and added.party is Party.prefecture
    assert isinstance(signed, ConventionSigned)
    assert (signed.granted_eur, signed.siren, signed.departement, signed.signed_at) == (
        Decimal("150000.00"),
        SIREN,
        "59",
        SEPTEMBER,
    )


def test_a_party_signs_once():
    state = given_decided()
    state = then(state, sign(state, APPLICANT))
    with pytest.raises(errors.AlreadySigned, match="collectivite"):
        sign(state, APPLICANT)


def test_a_signature_at_the_convention_deadline_is_refused_naming_it():
    # the 2024 conventions are signed "before the end of September 2024"
    deadline = datetime(2024, 10, 1, 0, 0, tzinfo=PARIS)
    with pytest.raises(errors.ConventionDeadlinePassed, match=r"2024-10-01T00:00:00\+02:00"):
        sign(given_decided(), APPLICANT, deadline)


def test_a_signature_on_the_last_evening_of_september_is_lawful():
    assert sign(given_decided(), APPLICANT, datetime(2024, 9, 30, 23, 59, tzinfo=PARIS))


@pytest.mark.parametrize(
    "state", [given_assessed(), given_decided(REJECT)], ids=["undecided", "rejected"]
)
def test_only_a_selected_dossier_has_a_convention_to_sign(state: SelectionState):
    with pytest.raises(errors.NotSelected):
        sign(state, APPLICANT)


def test_an_applicant_signs_only_the_convention_of_its_own_siren():
    with pytest.raises(errors.NotYourDossier, match=SIREN):
        sign(given_decided(), OTHER_APPLICANT)


def test_a_prefecture_signs_only_the_conventions_of_its_own_departement():
    with pytest.raises(errors.NotYourDepartement):
        sign(given_decided(), OTHER_PREFECTURE)


@pytest.mark.parametrize("actor", [INSTRUCTOR, AUDITOR], ids=["instructor", "auditor"])
def test_instructors_and_auditors_are_no_party_to_the_convention(actor: Actor):
    with pytest.raises(Forbidden, match="sign the convention"):
        sign(given_decided(), actor)


# --- across the lifecycle: the auditor, a withdrawn dossier -------------------------------------

# Each command, on the state in which it would be lawful, by the actor who may give it.
COMMANDS = {
    "opinion": (
        given_checked,
        PREFECTURE,
        lambda s, a: instruction.give_opinion(s, a, FAVORABLE, MAY),
    ),
    "assessment": (
        given_opinion,
        INSTRUCTOR,
        lambda s, a: instruction.record_assessment(s, a, assess(), campaigns(), JUNE),
    ),
    "decision": (
        given_assessed,
        PRESIDENT,
        lambda s, a: decision.decide(s, a, SELECT, campaigns(), NOTHING_GRANTED, JUNE),
    ),
    "signature": (given_decided, APPLICANT, lambda s, a: sign(s, a)),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_is_lawful_in_its_place(command: str):
    given, actor, run = COMMANDS[command]
    assert run(given(), actor)


@pytest.mark.parametrize("command", COMMANDS)
def test_an_auditor_writes_nothing(command: str):
    given, _, run = COMMANDS[command]
    with pytest.raises(Forbidden, match="the auditor may not"):
        run(given(), AUDITOR)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_on_a_withdrawn_dossier_is_refused(command: str):
    given, actor, run = COMMANDS[command]
    with pytest.raises(errors.DossierWithdrawn):
        run(replace(given(), withdrawn=True), actor)


def test_a_dossier_withdrawn_before_selection_knew_it_is_refused_as_withdrawn():
    with pytest.raises(errors.DossierWithdrawn):
        instruction.give_opinion(SelectionState(withdrawn=True), PREFECTURE, FAVORABLE, MAY)


# --- a withdrawal that crossed the decision on the bus ------------------------------------------


def withdrawn(state: SelectionState) -> SelectionState:
    return replace(state, withdrawn=True)


def test_a_dossier_withdrawn_after_its_selection_gives_its_grant_back_to_the_envelope():
    state = given_decided()
    [released] = decision.release_on_withdrawal(withdrawn(state), SEPTEMBER)
    assert isinstance(released, GrantReleased)
    assert (
        released.released_eur,
        released.campaign_id,
        released.reference,
        released.released_at,
    ) == (Decimal("150000.00"), CAMPAIGN.id, "AAP-2024-00042", SEPTEMBER)
    assert then(state, [released]).released


def test_a_grant_is_given_back_once():
    state = withdrawn(given_decided())
    state = then(state, decision.release_on_withdrawal(state, SEPTEMBER))
    assert decision.release_on_withdrawal(state, SEPTEMBER) == []


@pytest.mark.parametrize(
    "state", [given_assessed(), given_decided(REJECT)], ids=["not decided", "rejected"]
)
def test_a_withdrawal_without_a_grant_gives_nothing_back(state: SelectionState):
    assert decision.release_on_withdrawal(withdrawn(state), SEPTEMBER) == []


def test_once_the_convention_binds_a_withdrawal_gives_nothing_back_here():
    state = given_decided()
    for party in (PRESIDENT, APPLICANT, PREFECTURE):
        state = then(state, sign(state, party))
    assert state.convention_signed
    assert decision.release_on_withdrawal(withdrawn(state), SEPTEMBER) == []


def test_a_dossier_still_in_the_running_gives_nothing_back():
    assert decision.release_on_withdrawal(given_decided(), SEPTEMBER) == []
