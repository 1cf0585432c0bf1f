"""Drafts: saved, shared with the préfecture of their département, commented, then filed. A
draft is not a filing: no reference, no eligibility; the deadline applies to filing only."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.applications.commands import CommentDraft, FileDraft, SaveDraft, ShareDraft
from services.applications.domain import DossierState, decide, evolve
from services.applications.errors import CallClosed, UnknownDraft
from shared.contracts.applications import (
    ApplicationSubmitted,
    DraftCommented,
    DraftSaved,
    DraftShared,
)
from shared.language.actors import Actor, Role
from shared.language.campaigns import load_campaigns
from shared.language.errors import Invalid
from tests.factories import eligible_dossier

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
DRAFT_ID = uuid4()
CAMPAIGN = load_campaigns()["demo"]


@pytest.fixture
def content() -> dict:
    return eligible_dossier()


@pytest.fixture
def applicant(content) -> Actor:
    return Actor(Role.applicant, "maire@example.fr", siren=content["applicant"]["siren"])


def saved(applicant: Actor, content: dict) -> DossierState:
    [event] = decide(DossierState(), SaveDraft(applicant, DRAFT_ID, CAMPAIGN, content, NOW))
    assert isinstance(event, DraftSaved)
    return evolve(DossierState(), event)


def shared(state: DossierState, applicant: Actor) -> DossierState:
    [event] = decide(state, ShareDraft(applicant, DRAFT_ID, NOW))
    assert isinstance(event, DraftShared)
    return evolve(state, event)


def test_a_draft_is_saved_unfinished_and_is_not_a_filing(applicant):
    state = saved(applicant, {"project": {"title": "Prévenir l'entrée dans les réseaux"}})
    assert state.draft is not None and not state.submitted


def test_a_draft_is_written_for_the_applicant_s_own_siren(applicant):
    with pytest.raises(Invalid):
        saved(applicant, {"applicant": {"siren": "217174036"}})


def test_another_collectivite_never_sees_nor_saves_a_draft(applicant, content):
    state = saved(applicant, content)
    other = Actor(Role.applicant, "autre@example.fr", siren="217174036")
    with pytest.raises(UnknownDraft):
        decide(state, SaveDraft(other, DRAFT_ID, CAMPAIGN, content, NOW))


def test_the_prefecture_of_the_draft_s_departement_comments_once_it_is_shared(applicant, content):
    state = saved(applicant, content)
    prefecture = Actor(
        Role.prefecture, "cdp@nord.gouv.fr", departement=content["applicant"]["departement"]
    )
    comment = CommentDraft(prefecture, DRAFT_ID, uuid4(), "Associez le bailleur social.", NOW)
    with pytest.raises(UnknownDraft):
        decide(state, comment)
    state = shared(state, applicant)
    [event] = decide(state, comment)
    assert isinstance(event, DraftCommented)
    elsewhere = Actor(Role.prefecture, "cdp@paris.gouv.fr", departement="75")
    with pytest.raises(UnknownDraft):
        decide(state, CommentDraft(elsewhere, DRAFT_ID, uuid4(), "x", NOW))


def test_a_draft_without_a_departement_cannot_be_shared(applicant):
    state = saved(applicant, {"project": {"title": "x"}})
    with pytest.raises(Invalid) as refused:
        decide(state, ShareDraft(applicant, DRAFT_ID, NOW))
    assert refused.value.errors[0]["field"] == "content.applicant.departement"


def test_a_draft_is_filed_as_the_dossier_with_its_id(applicant, content):
    state = shared(saved(applicant, content), applicant)
    [event] = decide(state, FileDraft(applicant, DRAFT_ID, "AAP-DEMO-00009", CAMPAIGN, NOW))
    assert isinstance(event, ApplicationSubmitted)
    assert (event.dossier_id, event.reference) == (DRAFT_ID, "AAP-DEMO-00009")


def test_an_incomplete_draft_is_refused_at_filing_naming_its_fields(applicant, content):
    del content["budget"]
    state = saved(applicant, content)
    with pytest.raises(Invalid) as refused:
        decide(state, FileDraft(applicant, DRAFT_ID, "AAP-DEMO-00010", CAMPAIGN, NOW))
    assert [e["field"] for e in refused.value.errors] == ["content.budget"]


def test_the_call_s_deadline_applies_to_filing_not_to_saving(applicant, content):
    late = CAMPAIGN.deadline + timedelta(days=1)
    [event] = decide(DossierState(), SaveDraft(applicant, DRAFT_ID, CAMPAIGN, content, late))
    state = evolve(DossierState(), event)
    with pytest.raises(CallClosed):
        decide(state, FileDraft(applicant, DRAFT_ID, "AAP-DEMO-00011", CAMPAIGN, late))
