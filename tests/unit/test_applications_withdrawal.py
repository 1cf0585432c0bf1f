"""Withdrawing a dossier: by its applicant only, once, and never after the President's decision."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.applications.domain import (
    AlreadyDecided,
    AlreadyWithdrawn,
    Decision,
    DossierState,
    UnknownDossier,
    evolve,
    withdraw,
)
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


def test_the_applicant_withdraws_its_dossier_with_its_reason(state, applicant):
    # given a submitted dossier, when its applicant withdraws it
    [event] = withdraw(
        state,
        dossier_id=DOSSIER_ID,
        actor=applicant,
        reason="Projet reporté",
        now=NOW,
        decided=None,
    )
    # then the withdrawal names the dossier, its campaign, the time and the reason
    assert isinstance(event, ApplicationWithdrawn)
    assert (event.dossier_id, event.reference, event.campaign_id) == (
        DOSSIER_ID,
        "AAP-DEMO-00007",
        "demo",
    )
    assert (event.withdrawn_at, event.reason) == (NOW, "Projet reporté")


def test_an_applicant_may_not_withdraw_the_dossier_of_another_siren(state):
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    with pytest.raises(Forbidden) as caught:
        withdraw(state, dossier_id=DOSSIER_ID, actor=stranger, reason="x", now=NOW, decided=None)
    assert stranger.siren in caught.value.detail and state.siren in caught.value.detail


@pytest.mark.parametrize("role", [Role.prefecture, Role.instructor, Role.president, Role.auditor])
def test_only_the_applicant_may_withdraw_a_dossier(state, role):
    actor = Actor(
        role, "agent@example.gouv.fr", departement="59" if role is Role.prefecture else None
    )
    with pytest.raises(Forbidden) as caught:
        withdraw(state, dossier_id=DOSSIER_ID, actor=actor, reason="x", now=NOW, decided=None)
    assert "only the applicant may" in caught.value.detail


def test_a_dossier_cannot_be_withdrawn_twice(state, applicant):
    # given a withdrawn dossier
    [first] = withdraw(
        state, dossier_id=DOSSIER_ID, actor=applicant, reason="x", now=NOW, decided=None
    )
    withdrawn = evolve(state, first)
    # when its applicant withdraws it again, then it is refused
    with pytest.raises(AlreadyWithdrawn):
        withdraw(
            withdrawn, dossier_id=DOSSIER_ID, actor=applicant, reason="y", now=NOW, decided=None
        )


@pytest.mark.parametrize("outcome", ["selected", "rejected"])
def test_a_dossier_cannot_be_withdrawn_after_the_decision(state, applicant, outcome):
    decided = Decision(outcome, NOW - timedelta(days=1))
    with pytest.raises(AlreadyDecided) as caught:
        withdraw(
            state, dossier_id=DOSSIER_ID, actor=applicant, reason="x", now=NOW, decided=decided
        )
    assert outcome in caught.value.detail


def test_a_dossier_never_filed_cannot_be_withdrawn(applicant):
    with pytest.raises(UnknownDossier):
        withdraw(
            DossierState(), dossier_id=uuid4(), actor=applicant, reason="x", now=NOW, decided=None
        )


def test_a_stranger_is_refused_before_being_told_the_dossier_is_decided(state):
    # the binding check comes before the state check: nothing is said of another SIREN's dossier
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    with pytest.raises(Forbidden):
        withdraw(
            state,
            dossier_id=DOSSIER_ID,
            actor=stranger,
            reason="x",
            now=NOW,
            decided=Decision("selected", NOW),
        )
