"""Withdrawing a dossier: by its applicant only, once, and never after the President's decision."""

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from services.applications.commands import Decision, Withdraw
from services.applications.domain import DossierState, decide, evolve
from services.applications.errors import AlreadyDecided, AlreadyWithdrawn, UnknownDossier
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn, Dossier
from shared.language.actors import Actor, Role
from shared.language.errors import Forbidden
from tests.factories import eligible_dossier, random_siren

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
DOSSIER_ID = uuid4()


@pytest.fixture
def submitted() -> ApplicationSubmitted:
    return ApplicationSubmitted(
        dossier_id=DOSSIER_ID,
        reference="AAP-DEMO-00007",
        campaign_id="demo",
        submitted_at=NOW - timedelta(days=30),
        dossier=Dossier.model_validate(eligible_dossier()),
    )


@pytest.fixture
def state(submitted: ApplicationSubmitted) -> DossierState:
    return evolve(DossierState(), submitted)


@pytest.fixture
def applicant(submitted: ApplicationSubmitted) -> Actor:
    return Actor(
        Role.applicant, "maire@roubaix.example.fr", siren=submitted.dossier.applicant.siren
    )


def withdraw(
    actor: Actor,
    *,
    reason: str = "x",
    decided: Decision | None = None,
    dossier_id: UUID = DOSSIER_ID,
) -> Withdraw:
    return Withdraw(actor=actor, dossier_id=dossier_id, reason=reason, now=NOW, decided=decided)


def test_the_applicant_withdraws_its_dossier_with_its_reason(state, applicant):
    # given a submitted dossier, when its applicant withdraws it
    [event] = decide(state, withdraw(applicant, reason="Projet reporté"))
    # then the withdrawal names the dossier, its campaign, the time and the reason
    assert isinstance(event, ApplicationWithdrawn)
    assert (event.dossier_id, event.reference, event.campaign_id) == (
        DOSSIER_ID,
        "AAP-DEMO-00007",
        "demo",
    )
    assert (event.withdrawn_at, event.reason) == (NOW, "Projet reporté")


def test_an_applicant_of_another_siren_withdrawing_is_answered_as_for_a_dossier_that_does_not_exist(
    state,
):
    # given a dossier of one SIREN, and the same withdrawal on a dossier never filed
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    with pytest.raises(UnknownDossier) as unknown:
        decide(DossierState(), withdraw(stranger))
    # when an applicant of another SIREN withdraws it
    with pytest.raises(UnknownDossier) as caught:
        decide(state, withdraw(stranger))
    # then it is answered exactly as the dossier never filed: 404, naming neither SIREN
    assert caught.value.status == 404
    assert type(caught.value) is type(unknown.value)
    assert caught.value.detail == unknown.value.detail
    assert stranger.siren not in caught.value.detail and state.siren not in caught.value.detail


@pytest.mark.parametrize("role", [Role.prefecture, Role.instructor, Role.president, Role.auditor])
def test_only_the_applicant_may_withdraw_a_dossier(state, role):
    actor = Actor(
        role, "agent@example.gouv.fr", departement="59" if role is Role.prefecture else None
    )
    with pytest.raises(Forbidden) as caught:
        decide(state, withdraw(actor))
    assert "only the applicant may" in caught.value.detail


def test_a_dossier_cannot_be_withdrawn_twice(state, applicant):
    # given a withdrawn dossier
    [first] = decide(state, withdraw(applicant, reason="x"))
    withdrawn = evolve(state, first)
    # when its applicant withdraws it again, then it is refused
    with pytest.raises(AlreadyWithdrawn):
        decide(withdrawn, withdraw(applicant, reason="y"))


@pytest.mark.parametrize("outcome", ["selected", "rejected"])
def test_a_dossier_cannot_be_withdrawn_after_the_decision(state, applicant, outcome):
    decided = Decision(outcome, NOW - timedelta(days=1))
    with pytest.raises(AlreadyDecided) as caught:
        decide(state, withdraw(applicant, decided=decided))
    assert outcome in caught.value.detail


def test_a_dossier_never_filed_cannot_be_withdrawn(applicant):
    with pytest.raises(UnknownDossier):
        decide(DossierState(), withdraw(applicant, dossier_id=uuid4()))


def test_a_stranger_is_answered_as_for_a_dossier_that_does_not_exist_even_once_decided(
    state,
):
    # the binding check comes before the state check: nothing is said of another SIREN's dossier
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    with pytest.raises(UnknownDossier):
        decide(state, withdraw(stranger, decided=Decision("selected", NOW)))
