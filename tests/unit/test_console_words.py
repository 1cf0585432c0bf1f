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
from shared.language.errors import DomainError, Forbidden, Invalid, NotFound, Refused
from tests.factories import eligible_dossier


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
    sources = (
        *root.glob("shared/contracts/*.py"),
        *root.glob("shared/kernel/*.py"),
        *root.glob("services/*/*.py"),
    )
    patterns = (
        r'refuse\(\s*"([a-z_]+)"',  # the contracts' values
        r'(?:invalid|_error)\(\s*[^,()]+,\s*"([a-z_]+)"',  # a rule's: invalid(field, "kind", …)
        r'"type": "([a-z_]+)",\s*"reason"',  # one written out: {"field", "type", "reason", …}
    )
    named = {
        kind
        for source in sources
        if "console" not in source.parts
        for pattern in patterns
        for kind in re.findall(pattern, source.read_text())
    }
    for kind in ("file_too_large", "agents_only", "field_not_asked", "attachment_private"):
        assert kind in named  # the patterns find the new rules' kinds
    assert named <= set(reasons.FIELDS), named - set(reasons.FIELDS)


def test_every_rule_that_refuses_a_command_has_french_words():
    for service in ("applications", "selection", "payments"):
        importlib.import_module(f"services.{service}.errors")
    importlib.import_module("shared.kernel.aggregate")
    importlib.import_module("shared.kernel.idempotency")
    importlib.import_module("shared.kernel.uploads")

    def every(cls: type) -> set[type]:
        return {cls}.union(*(every(c) for c in cls.__subclasses__()))

    # 404, 403: said by status; 422 (Invalid): each of its errors is said by its kind (FIELDS)
    answered_elsewhere = {NotFound, Forbidden, Refused, DomainError, Invalid}
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
    too_big = {"type": "file_too_large", "reason": "...", "context": {"max_bytes": 20_000_000}}
    assert (
        reasons.field(too_big) == "Ce fichier est trop lourd : 20\u00a0Mo au plus pour cet appel."
    )


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


def test_a_dossier_goes_back_into_the_form_and_comes_out_the_same():
    dossier = eligible_dossier()
    shown = forms.values_of(dossier)
    assert shown.values["budget.lines.3.amount_eur"] == "65000.00"
    assert shown.values["project.partners.1.kind"] == "bailleur social"
    again = forms.filing_of(shown.values, shown.objectives, dossier["applicant"]["siren"])
    for line in dossier["budget"]["lines"]:
        line.setdefault("permanent_post", False)
    assert again.dossier == dossier


def test_a_correction_sends_the_parts_asked_and_a_draft_keeps_only_what_was_typed():
    typed = {"project.title": "Roubaix", "budget.lines.2.label": "Ateliers", "requested_eur": ""}
    filing = forms.filing_of(typed, [], "215905126")
    assert forms.draft_content(filing) == {
        "applicant": {"siren": "215905126"},
        "project": {"title": "Roubaix"},
        "budget": {"lines": [{"label": "Ateliers", "permanent_post": False}]},
    }
    assert forms.changes(filing, ["project.title", "budget"]) == {
        "project.title": "Roubaix",
        "budget": {"lines": [filing.dossier["budget"]["lines"][0]], "total_cost_eur": ""},
    }
    # the service names the budget's first line; the form holds it in its third row
    assert filing.form_field("budget.lines.0.label") == "budget.lines.2.label"
    assert filing.form_field("budget") == "budget.lines"


def test_a_form_shows_every_row_typed_and_one_more():
    assert forms.rows({}, "budget.lines", 8, 1) == 8
    typed = {"budget.lines.11.label": "x", "budget.lines.3.label": ""}
    assert forms.rows(typed, "budget.lines", 8, 1) == 13


def test_what_a_correction_changed_reads_line_by_line():
    before = eligible_dossier()["budget"]
    last = {**before["lines"][3], "amount_eur": "75000.00"}
    after = {"lines": [*before["lines"][:3], last], "total_cost_eur": "210000.00"}
    rows = present.changes_of("budget", before, after)
    assert [what for what, _, _ in rows] == ["Budget, ligne 4", "Coût total du projet"]
    assert rows[1][1:] == ("200\u00a0000,00\u00a0€", "210\u00a0000,00\u00a0€")
    assert present.changes_of("project.summary", "a", "b") == [("Le résumé du projet", "a", "b")]
    assert present.size(820) == "820 octets" and present.size(61_880) == "61,9\u00a0ko"
