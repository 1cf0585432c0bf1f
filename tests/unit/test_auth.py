"""Bearer tokens: who may be let in, and what the token must say."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.kernel.auth import TokenVerifier, Unauthenticated, generate_keypair, mint
from shared.language.actors import (
    Actor,
    Role,
    require_own_departement,
    require_own_dossier,
    require_role,
    within_binding,
)
from shared.language.errors import Forbidden

PRIVATE, PUBLIC = generate_keypair()
VERIFIER = TokenVerifier(PUBLIC, issuer="aap-dev", audience="aap", algorithms=("ES256",))


def token(role: Role, private: str = PRIVATE, **claims) -> str:  # type: ignore[no-untyped-def]
    return mint(
        private, role=role, subject="agent@example.fr", issuer="aap-dev", audience="aap", **claims
    )


def test_an_applicants_token_names_its_siren():
    actor = VERIFIER.verify("Bearer " + token(Role.applicant, siren="217500016"))
    assert actor == Actor(Role.applicant, "agent@example.fr", siren="217500016")


def test_a_prefectures_token_names_its_departement():
    actor = VERIFIER.verify("Bearer " + token(Role.prefecture, departement="2A"))
    assert actor.departement == "2A" and actor.siren is None


def test_a_request_without_a_token_is_unauthenticated():
    with pytest.raises(Unauthenticated, match="bearer token is required"):
        VERIFIER.verify(None)


def test_a_token_signed_by_another_key_is_refused():
    other_private, _ = generate_keypair()
    with pytest.raises(Unauthenticated, match="not valid"):
        VERIFIER.verify("Bearer " + token(Role.instructor, private=other_private))


def test_an_expired_token_is_refused():
    old = mint(
        PRIVATE,
        role=Role.auditor,
        subject="a",
        issuer="aap-dev",
        audience="aap",
        now=datetime.now(UTC) - timedelta(days=2),
        ttl=timedelta(hours=1),
    )
    with pytest.raises(Unauthenticated, match="expired"):
        VERIFIER.verify("Bearer " + old)


def test_a_token_for_another_audience_is_refused():
    foreign = mint(PRIVATE, role=Role.auditor, subject="a", issuer="aap-dev", audience="elsewhere")
    with pytest.raises(Unauthenticated, match="Audience"):
        VERIFIER.verify("Bearer " + foreign)


def test_an_applicant_token_without_a_valid_siren_is_never_minted():
    with pytest.raises(Unauthenticated, match="SIREN"):
        token(Role.applicant, siren="123456789")


def test_an_actor_is_labelled_with_its_role_binding_and_subject():
    assert Actor(Role.prefecture, "pref@59", departement="59").label() == "prefecture:59:pref@59"
    assert Actor(Role.president, "pdt").label() == "president:pdt"


def test_an_auditor_may_not_write():
    with pytest.raises(Forbidden, match="the auditor may not decide"):
        require_role(Actor(Role.auditor, "a"), Role.president, to="decide")


def test_a_prefecture_acts_on_its_own_departement_only():
    with pytest.raises(Forbidden, match="own département only"):
        require_own_departement(
            Actor(Role.prefecture, "p", departement="62"), "59", "give the opinion"
        )


def test_an_applicant_acts_on_its_own_dossiers_only():
    with pytest.raises(Forbidden, match="SIREN 217500016"):
        require_own_dossier(Actor(Role.applicant, "a", siren="200000172"), "217500016", "withdraw")


def test_instructors_the_president_and_auditors_read_every_dossier():
    for role in (Role.instructor, Role.president, Role.auditor):
        assert within_binding(Actor(role, "x"), siren="217500016", departement="59")


def test_an_applicant_reads_the_dossiers_of_its_own_siren_only():
    applicant = Actor(Role.applicant, "a", siren="217500016")
    assert within_binding(applicant, siren="217500016", departement="59")
    assert not within_binding(applicant, siren="200000172", departement="59")
    assert not within_binding(applicant, departement="59")  # a dossier whose SIREN is not known


def test_a_prefecture_reads_the_dossiers_of_its_own_departement_only():
    prefecture = Actor(Role.prefecture, "p", departement="59")
    assert within_binding(prefecture, siren="217500016", departement="59")
    assert not within_binding(prefecture, siren="217500016", departement="62")
    assert not within_binding(prefecture, siren="217500016")  # a dossier of no known département
