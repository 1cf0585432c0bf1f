"""A dossier's way through selection: the préfecture's opinion, the committee, the President's
decision, the tripartite convention — and every refusal on the way, each named as its rule."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import reduce
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.selection import errors, instruction
from services.selection.api import DecisionBody
from services.selection.commands import (
    Decide,
    GiveOpinion,
    RecordAssessment,
    ReleaseOnWithdrawal,
    Sign,
)
from services.selection.domain import SelectionState, decide, evolve
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationWithdrawn
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


def campaigns(**changes: Any) -> dict[str, Campaign]:
    campaign = CAMPAIGN.model_copy(update=changes)
    return {campaign.id: campaign}


# Each command as the actor who may give it, lawful in its place; `replace` varies it.
FAVORABLE = GiveOpinion(
    actor=PREFECTURE,
    opinion=Opinion.favorable,
    motivation="Plan partenarial solide, CLSPD actif.",
    withdrawn=False,
    now=MAY,
)
SCORES = Scores(
    adequacy=4, innovation=3, team_competence=5, methodology=2, partnership=4, prefecture_opinion=5
)
SELECT = Decide(
    actor=PRESIDENT,
    outcome=Outcome.selected,
    granted_eur=Decimal("150000.00"),
    motivation="Projet global, fortement partenarial.",
    campaigns=campaigns(),
    granted_so_far=NOTHING_GRANTED,
    withdrawn=False,
    now=JUNE,
)
REJECT = replace(
    SELECT,
    outcome=Outcome.rejected,
    granted_eur=None,
    motivation="Actions ponctuelles, partenariat à construire.",
)


def assess(proposed: str = "150000.00", scores: Scores = SCORES) -> RecordAssessment:
    return RecordAssessment(
        actor=INSTRUCTOR,
        scores=scores,
        proposed_eur=Decimal(proposed),
        comment="Solide.",
        campaigns=campaigns(),
        withdrawn=False,
        now=JUNE,
    )


def history(*events: DomainEvent) -> SelectionState:
    return reduce(evolve, events, SelectionState())


def checked(
    *,
    eligible: bool = True,
    objectives: tuple[str, ...] = ("prevent_entry", "reclaim_public_space"),
    requested: str = "160000.00",
    after_amendment: UUID | None = None,
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
        after_amendment=after_amendment,
    )


def then(state: SelectionState, events: list[DomainEvent]) -> SelectionState:
    return reduce(evolve, events, state)


def given_checked(**kwargs: Any) -> SelectionState:
    return history(checked(**kwargs))


def given_opinion(**kwargs: Any) -> SelectionState:
    state = given_checked(**kwargs)
    return then(state, decide(state, FAVORABLE))


def given_assessed(**kwargs: Any) -> SelectionState:
    state = given_opinion(**kwargs)
    return then(state, decide(state, assess()))


def given_decided(command: Decide = SELECT) -> SelectionState:
    state = given_assessed()
    return then(state, decide(state, command))


# --- the préfecture's opinion -------------------------------------------------------------------


def test_the_prefecture_of_the_dossiers_departement_gives_its_opinion():
    state = given_checked()
    [event] = decide(state, FAVORABLE)
    assert isinstance(event, PrefectureOpinionGiven)
    assert (event.departement, event.opinion, event.given_at) == ("59", Opinion.favorable, MAY)
    assert event.motivation == FAVORABLE.motivation


def test_a_prefecture_of_another_departement_is_answered_as_for_a_dossier_that_does_not_exist():
    # given a dossier of département 59, and the same opinion on a dossier selection does not know
    command = replace(FAVORABLE, actor=OTHER_PREFECTURE)
    with pytest.raises(errors.UnknownDossier) as unknown:
        decide(SelectionState(), command)
    # when the préfecture of département 13 gives its opinion on it
    with pytest.raises(errors.UnknownDossier) as refusal:
        decide(given_checked(), command)
    # then it is answered exactly as for a dossier that does not exist, naming neither département
    assert refusal.value.status == 404
    assert type(refusal.value) is type(unknown.value)
    assert refusal.value.detail == unknown.value.detail
    assert "13" not in refusal.value.detail and "59" not in refusal.value.detail


def test_only_a_prefecture_gives_the_prefecture_opinion():
    with pytest.raises(Forbidden, match="only the prefecture may"):
        decide(given_checked(), replace(FAVORABLE, actor=INSTRUCTOR))


def test_an_opinion_on_an_ineligible_dossier_is_refused():
    with pytest.raises(errors.NotEligible, match="E4"):
        decide(given_checked(eligible=False), FAVORABLE)


def test_the_prefecture_gives_its_opinion_once():
    with pytest.raises(errors.OpinionAlreadyGiven):
        decide(given_opinion(), FAVORABLE)


def test_an_opinion_on_a_dossier_selection_does_not_know_is_refused_as_not_found():
    with pytest.raises(errors.UnknownDossier) as refusal:
        decide(SelectionState(), FAVORABLE)
    assert refusal.value.status == 404


# --- the committee's assessment -----------------------------------------------------------------


def test_the_committee_scores_a_dossier_with_the_campaigns_weights():
    # given the 2024 weights: 1 for five criteria, 2 for the préfecture's opinion
    state = given_opinion()
    # when the committee scores 4, 3, 5, 2, 4 and 5 for the opinion
    [event] = decide(state, assess())
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
    [event] = decide(
        given_opinion(),
        replace(assess(scores=scores), campaigns=campaigns(criteria_weights=heavy_opinion)),
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
        decide(given_checked(), assess())


def test_a_later_assessment_replaces_the_earlier_one():
    state = given_assessed()
    revised = decide(state, assess("120000.00"))
    assert then(state, revised).assessment == revised[0]


def test_the_committee_may_not_propose_more_than_was_requested():
    with pytest.raises(errors.OverRequest, match=r"160000\.00"):
        decide(given_opinion(), assess("160000.01"))


def test_the_committee_may_not_propose_more_than_the_campaigns_cap():
    with pytest.raises(errors.OverCap, match=r"100000\.00"):
        decide(
            given_opinion(),
            replace(assess("150000.00"), campaigns=campaigns(cap_eur=Decimal("100000.00"))),
        )


def test_only_an_instructor_records_the_committees_assessment():
    with pytest.raises(Forbidden, match="only the instructor may"):
        decide(given_opinion(), replace(assess(), actor=PRESIDENT))


def test_no_assessment_once_the_president_decided():
    with pytest.raises(errors.AlreadyDecided):
        decide(given_decided(), assess())


# --- the President's decision -------------------------------------------------------------------


def test_the_president_selects_an_assessed_dossier_granting_an_amount():
    [event] = decide(given_assessed(), SELECT)
    assert isinstance(event, SelectionDecided)
    assert (event.outcome, event.granted_eur, event.requested_eur) == (
        Outcome.selected,
        Decimal("150000.00"),
        Decimal("160000.00"),
    )
    assert (event.siren, event.departement, event.decided_at) == (SIREN, "59", JUNE)


def test_a_rejection_records_a_grant_of_zero():
    [event] = decide(given_assessed(), REJECT)
    assert isinstance(event, SelectionDecided)
    assert (event.outcome, event.granted_eur) == (Outcome.rejected, Decimal("0.00"))


def test_a_decision_before_the_prefectures_opinion_is_refused():
    with pytest.raises(errors.OpinionMissing):
        decide(given_checked(), SELECT)


def test_a_decision_before_the_committees_assessment_is_refused():
    with pytest.raises(errors.AssessmentMissing):
        decide(given_opinion(), SELECT)


def test_the_president_may_not_grant_more_than_was_requested():
    over = replace(SELECT, granted_eur=Decimal("160000.01"))
    with pytest.raises(errors.OverRequest):
        decide(given_assessed(), over)


def test_the_president_may_not_grant_more_than_the_campaigns_cap():
    with pytest.raises(errors.OverCap):
        decide(given_assessed(), replace(SELECT, campaigns=campaigns(cap_eur=Decimal("100000.00"))))


def test_the_president_may_not_grant_more_than_remains_of_the_envelope():
    # given a campaign of 2,000,000.00 that granted 1,900,000.00 already
    with pytest.raises(errors.OverEnvelope, match=r"100000\.00 EUR remain"):
        decide(given_assessed(), replace(SELECT, granted_so_far=Decimal("1900000.00")))


def test_the_president_may_grant_exactly_what_remains_of_the_envelope():
    [event] = decide(given_assessed(), replace(SELECT, granted_so_far=Decimal("1850000.00")))
    assert isinstance(event, SelectionDecided) and event.granted_eur == Decimal("150000.00")


def test_a_project_acting_on_a_single_objective_cannot_be_selected():
    state = given_assessed(objectives=("prevent_entry",))
    with pytest.raises(errors.SingleLever):
        decide(state, SELECT)


def test_a_project_acting_on_a_single_objective_may_be_rejected():
    state = given_assessed(objectives=("prevent_entry",))
    [event] = decide(state, REJECT)
    assert isinstance(event, SelectionDecided) and event.outcome is Outcome.rejected


def test_a_decision_names_the_version_of_the_dossier_it_was_taken_on():
    [as_filed] = decide(given_assessed(), SELECT)
    assert isinstance(as_filed, SelectionDecided) and as_filed.decided_on is not None
    assert as_filed.decided_on.amendment is None
    amendment = uuid4()
    [as_amended] = decide(given_assessed(after_amendment=amendment), SELECT)
    assert isinstance(as_amended, SelectionDecided) and as_amended.decided_on is not None
    assert as_amended.decided_on.amendment == amendment


def test_the_president_decides_once():
    with pytest.raises(errors.AlreadyDecided):
        decide(given_decided(REJECT), SELECT)


def test_only_the_president_decides():
    with pytest.raises(Forbidden, match="only the president may"):
        decide(given_assessed(), replace(SELECT, actor=INSTRUCTOR))


def test_a_selection_names_the_amount_granted():
    with pytest.raises(ValidationError, match="granted_eur"):
        DecisionBody(outcome=Outcome.selected, motivation="Retenu.")


def test_a_rejection_grants_nothing():
    with pytest.raises(ValidationError, match="granted_eur"):
        DecisionBody(
            outcome=Outcome.rejected, granted_eur=Decimal("10.00"), motivation="Non retenu."
        )
    assert DecisionBody(
        outcome=Outcome.rejected, granted_eur=Decimal("0.00"), motivation="Non retenu."
    )


# --- the tripartite convention ------------------------------------------------------------------


def signature(actor: Actor, now: datetime = SEPTEMBER) -> Sign:
    return Sign(actor=actor, campaigns=campaigns(), withdrawn=False, now=now)


def sign(state: SelectionState, actor: Actor, now: datetime = SEPTEMBER) -> list[DomainEvent]:
    return decide(state, signature(actor, now))


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


def test_a_signature_by_another_siren_is_answered_as_for_a_dossier_that_does_not_exist():
    # given a selected dossier of one SIREN, and the same signature on a dossier selection does
    # not know
    with pytest.raises(errors.UnknownDossier) as unknown:
        sign(SelectionState(), OTHER_APPLICANT)
    # when an applicant of another SIREN signs its convention
    with pytest.raises(errors.UnknownDossier) as refusal:
        sign(given_decided(), OTHER_APPLICANT)
    # then it is answered exactly as for a dossier that does not exist, naming neither SIREN
    assert refusal.value.status == 404
    assert type(refusal.value) is type(unknown.value)
    assert refusal.value.detail == unknown.value.detail
    assert OTHER_APPLICANT.siren is not None
    assert SIREN not in refusal.value.detail and OTHER_APPLICANT.siren not in refusal.value.detail


def test_a_signature_by_another_departement_is_answered_as_for_a_dossier_that_does_not_exist():
    # given a selected dossier of département 59, and the same signature on a dossier selection
    # does not know
    with pytest.raises(errors.UnknownDossier) as unknown:
        sign(SelectionState(), OTHER_PREFECTURE)
    # when the préfecture of département 13 signs its convention
    with pytest.raises(errors.UnknownDossier) as refusal:
        sign(given_decided(), OTHER_PREFECTURE)
    # then it is answered exactly as for a dossier that does not exist, naming neither département
    assert refusal.value.status == 404
    assert type(refusal.value) is type(unknown.value)
    assert refusal.value.detail == unknown.value.detail
    assert "13" not in refusal.value.detail and "59" not in refusal.value.detail


@pytest.mark.parametrize("actor", [INSTRUCTOR, AUDITOR], ids=["instructor", "auditor"])
def test_instructors_and_auditors_are_no_party_to_the_convention(actor: Actor):
    with pytest.raises(Forbidden, match="sign the convention"):
        sign(given_decided(), actor)


# --- across the lifecycle: the auditor, a withdrawn dossier -------------------------------------

# Each command, on the state in which it would be lawful, by the actor who may give it.
COMMANDS = {
    "opinion": (given_checked, FAVORABLE),
    "assessment": (given_opinion, assess()),
    "decision": (given_assessed, SELECT),
    "signature": (given_decided, signature(APPLICANT)),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_is_lawful_in_its_place(command: str):
    given, lawful = COMMANDS[command]
    assert decide(given(), lawful)


@pytest.mark.parametrize("command", COMMANDS)
def test_an_auditor_writes_nothing(command: str):
    given, lawful = COMMANDS[command]
    with pytest.raises(Forbidden, match="the auditor may not"):
        decide(given(), replace(lawful, actor=AUDITOR))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_on_a_withdrawn_dossier_is_refused(command: str):
    given, lawful = COMMANDS[command]
    with pytest.raises(errors.DossierWithdrawn):
        decide(given(), replace(lawful, withdrawn=True))


def test_a_dossier_withdrawn_before_selection_checked_it_is_answered_as_not_known_yet():
    # selection knows neither its holder nor its département: it cannot tell whose it is, so it
    # tells nobody that it exists
    with pytest.raises(errors.UnknownDossier) as refusal:
        decide(SelectionState(), replace(FAVORABLE, withdrawn=True))
    assert refusal.value.status == 404


# --- a withdrawal that crossed the decision on the bus ------------------------------------------


# The applications' log said the dossier was withdrawn: selection gives back a grant decided
# meanwhile.
WITHDRAWN = ReleaseOnWithdrawal(
    ApplicationWithdrawn(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id=CAMPAIGN.id,
        withdrawn_at=SEPTEMBER,
        reason="Le conseil municipal a retiré le projet.",
    ),
    now=SEPTEMBER,
)


def test_a_dossier_withdrawn_after_its_selection_gives_its_grant_back_to_the_envelope():
    state = given_decided()
    [released] = decide(state, WITHDRAWN)
    assert isinstance(released, GrantReleased)
    assert (
        released.released_eur,
        released.campaign_id,
        released.reference,
        released.released_at,
    ) == (Decimal("150000.00"), CAMPAIGN.id, "AAP-2024-00042", SEPTEMBER)
    assert then(state, [released]).released


def test_a_grant_is_given_back_once():
    state = given_decided()
    state = then(state, decide(state, WITHDRAWN))
    assert decide(state, WITHDRAWN) == []


@pytest.mark.parametrize(
    "state", [given_assessed(), given_decided(REJECT)], ids=["not decided", "rejected"]
)
def test_a_withdrawal_without_a_grant_gives_nothing_back(state: SelectionState):
    assert decide(state, WITHDRAWN) == []


def test_once_the_convention_binds_a_withdrawal_gives_nothing_back_here():
    state = given_decided()
    for party in (PRESIDENT, APPLICANT, PREFECTURE):
        state = then(state, sign(state, party))
    assert state.convention_signed
    assert decide(state, WITHDRAWN) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_a_dossier_still_in_the_running_gives_nothing_back(command: str):
    # a grant goes back on a withdrawal only (`ReleaseOnWithdrawal`, which selection gives itself
    # on hearing one): no command on a dossier still in the running gives anything back
    given, lawful = COMMANDS[command]
    state = given()
    events = decide(state, lawful)
    assert [e for e in events if isinstance(e, GrantReleased)] == []
    assert not then(state, events).released
