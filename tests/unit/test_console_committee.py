"""The console's committee without a browser: a committee member is an agent of their own, known
to the services by their e-mail; every status and conflict the services name has its French
words; a declaration never presumes the absence of a conflict; a session's time is Paris's."""

from datetime import UTC, datetime

import httpx
import pytest

from services.console import present
from services.console.backend import Services
from services.console.habilitations import Habilitation, checked
from services.console.pages.committee import _declaration
from services.console.pages.committee_sessions import held_at
from services.console.sessions import Person
from services.selection.committee_views import _status
from shared.contracts.committee import Conflict
from shared.kernel.auth import TokenVerifier, generate_keypair
from shared.kernel.settings import Settings
from shared.language.actors import Role


def reviewer(email: str) -> Person:
    return Person(
        session_id="sid",
        subject="sub-1",
        email=email,
        given_name="Alice",
        usual_name="Martin",
        siret=None,
        habilitation=Habilitation(Role.reviewer),
        csrf="csrf",
        expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


def test_a_committee_member_is_habilitated_by_e_mail_bound_to_no_departement():
    assert checked(" Alice.Martin@Mildeca.test ", "reviewer", None) == (
        "alice.martin@mildeca.test",
        Role.reviewer,
        None,
    )
    with pytest.raises(ValueError, match="only a préfecture"):
        checked("alice.martin@mildeca.test", "reviewer", "59")


async def test_a_committee_members_token_names_them_by_their_e_mail_as_habilitated():
    private, public = generate_keypair()
    settings = Settings()
    async with httpx.AsyncClient() as client:
        token = Services(settings, client, private).token(reviewer("Alice.Martin@Mildeca.test"))
    verifier = TokenVerifier(public, settings.jwt_issuer, settings.jwt_audience, ("ES256",))
    actor = verifier.verify(f"Bearer {token}")
    assert (actor.role, actor.subject) == (Role.reviewer, "alice.martin@mildeca.test")


def test_a_committee_members_home_is_the_dossiers_they_review():
    assert present.menu(reviewer("a@b.fr")) == [("/examens", "Mes dossiers à examiner")]
    assert present.ROLES["reviewer"] == "Comité de sélection"


@pytest.mark.parametrize(
    "row",
    [
        {"recused_at": None, "reviewed_at": None, "declared_at": None},
        {"recused_at": None, "reviewed_at": None, "declared_at": "x"},
        {"recused_at": None, "reviewed_at": "x", "declared_at": "x"},
        {"recused_at": "x", "reviewed_at": None, "declared_at": None},
    ],
)
def test_every_status_of_a_reviewer_selection_names_has_french_words(row):
    label, badge = present.review_status(_status(row))
    assert label != _status(row) and badge


def test_every_conflict_of_interest_has_french_words():
    assert set(present.CONFLICTS) == {c.value for c in Conflict}


def test_a_declaration_is_sent_only_as_ticked_never_presumed_without_conflict():
    assert _declaration({}) is None
    assert _declaration({"conflict": "family", "details": "Ma sœur est adjointe."}) is None
    assert _declaration({"declaration": "aucun", "conflict": "family"}) == {"conflict": None}
    assert _declaration({"declaration": "conflit", "conflict": "family", "details": "Sœur."}) == {
        "conflict": "family",
        "details": "Sœur.",
    }


def test_the_moderator_reads_each_criterions_mean_beside_the_reviews():
    reviews = [{"scores": dict.fromkeys(present.CRITERIA, n)} for n in (3, 4, 4)]
    assert present.means(reviews) == dict.fromkeys(present.CRITERIA, "3,7")
    assert present.means([]) == {}


def test_a_session_held_at_a_time_typed_is_held_at_that_time_in_paris():
    assert held_at("2025-12-02T14:30") == "2025-12-02T14:30:00+01:00"
    assert held_at("2025-07-02T14:30") == "2025-07-02T14:30:00+02:00"
    assert held_at("hier") is None
