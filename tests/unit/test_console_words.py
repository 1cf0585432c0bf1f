"""The console's words and habilitation rules, without a browser: every state, mail and criterion
the services know has a French label; a SIRET makes an applicant only of a collectivité."""

import importlib
import re
from pathlib import Path

import pytest

from services.console import forms, present, reasons
from services.console.habilitations import BadHabilitation, checked, siren_of
from services.notifications.domain import PARTIES
from shared.language.actors import Role
from shared.language.errors import DomainError, Forbidden, NotFound, Refused


def test_every_mail_notifications_sends_has_a_french_label_on_the_dossier_page():
    assert set(PARTIES) <= set(present.MAILS)
    assert all(present.mail_label(kind) != kind for kind in PARTIES)


def test_every_state_has_a_label_a_badge_a_step_and_who_acts_next():
    assert set(present.STATES) == set(present.NEXT) == set(present.STEP_OF)
    assert present.state_label("assessed") == "Évalué par le comité"
    assert present.stepper("assessed")["title"] == "Décision de la présidence"


def test_a_communes_siret_makes_its_siren_the_applicant():
    assert siren_of("21590512600017") == "215905126"  # Roubaix


@pytest.mark.parametrize(
    "siret",
    [None, "", "2159051260001", "21590512600017x", "11000101300017", "21590512700017"],
    ids=["absent", "empty", "13 digits", "not digits", "a State service", "bad check digit"],
)
def test_no_siren_from_a_siret_that_is_not_a_collectivites(siret):
    assert siren_of(siret) is None


def test_a_prefecture_habilitation_names_a_real_departement():
    assert checked(" Agent@Nord.gouv.fr ", "prefecture", "59") == (
        "agent@nord.gouv.fr",
        Role.prefecture,
        "59",
    )
    with pytest.raises(BadHabilitation, match="département"):
        checked("agent@nord.gouv.fr", "prefecture", "99")


@pytest.mark.parametrize(
    ("email", "role", "departement", "reason"),
    [
        ("nobody", "instructor", None, "not an e-mail"),
        ("a@b.fr", "mayor", None, "not a role"),
        ("a@b.fr", "applicant", None, "SIRET"),
        ("a@b.fr", "instructor", "59", "only a préfecture"),
    ],
)
def test_a_habilitation_that_cannot_be_is_refused_in_words(email, role, departement, reason):
    with pytest.raises(BadHabilitation, match=reason):
        checked(email, role, departement)


def test_every_kind_of_field_refusal_aap_names_has_french_words():
    root = Path(__file__).resolve().parents[2]
    named = {
        kind
        for source in (*root.glob("shared/contracts/*.py"), *root.glob("services/*/api.py"))
        for kind in re.findall(r'refuse\(\s*"([a-z_]+)"', source.read_text())
    }
    assert named and named <= set(reasons.FIELDS), named - set(reasons.FIELDS)


def test_every_rule_that_refuses_a_command_has_french_words():
    for service in ("applications", "selection", "payments"):
        importlib.import_module(f"services.{service}.errors")
    importlib.import_module("shared.kernel.aggregate")
    importlib.import_module("shared.kernel.idempotency")

    def every(cls: type) -> set[type]:
        return {cls}.union(*(every(c) for c in cls.__subclasses__()))

    answered_elsewhere = {NotFound, Forbidden, Refused, DomainError}  # 404, 403: said by status
    rules = {
        c.__name__
        for c in every(DomainError) - answered_elsewhere
        if not issubclass(c, NotFound | Forbidden) and c.__name__ != "Unauthenticated"
    }
    assert rules - set(reasons.COMMANDS) == set()


def test_a_field_refusal_is_said_in_french_with_what_it_depends_on():
    too_long = {"type": "string_too_long", "reason": "...", "context": {"max_length": 200}}
    assert reasons.field(too_long) == "Ce texte est trop long : 200 caractères au plus."
    assert reasons.field({"type": "amount_negative", "reason": "x"}).startswith("Un montant")
    unknown = {"type": "something_new", "reason": "the service's own words"}
    assert reasons.field(unknown) == "the service's own words"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("1 200,50", "1200.50"),
        ("120\u202f000", "120000"),
        ("1200.5 €", "1200.5"),
        ("150000", "150000"),
        ("", ""),
        ("douze", "douze"),
        ("-5", "-5"),
    ],
)
def test_an_amount_typed_the_french_way_reaches_the_service_in_its_form(typed, sent):
    assert forms.amount(typed) == sent


def test_the_list_of_errors_names_each_field_by_its_label():
    assert forms.label("budget.lines.2.amount_eur") == "Montant 3 (€)"
    assert forms.label("project.partners.0.kind") == "Nature du partenaire 1"
    assert forms.label("requested_eur") == "Subvention demandée (€)"
    assert forms.label("budget.lines.1") == "Le budget prévisionnel, ligne 2"
