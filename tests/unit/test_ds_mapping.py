"""Mapping a Démarches Simplifiées dossier to aap's dossier: every answer read from its text,
every problem of a dossier said with its DS champ and row, the mapping file checked at load and
against the démarche's form."""

import base64
import copy
import hashlib
import json
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from services.applications.ds.mapping import Mapped, MappingProblem, Unmappable, map_dossier
from services.applications.ds.mapping_check import check_mapping
from services.applications.ds.mapping_file import (
    DsMapping,
    MappingFileError,
    load_mapping,
    mapping_digest,
)
from shared.contracts.applications import BudgetCategory, Objective, RepresentativeRole
from shared.language.attachments import AttachmentKind
from shared.language.referentials import siren_is_valid
from tests.factories import random_siren

ROOT = Path(__file__).resolve().parents[2]
MAPPING_FILE = ROOT / "shared" / "language" / "ds" / "mildeca-2024.json"


@cache
def the_2024_mapping() -> DsMapping:
    return load_mapping("mildeca-2024")


# --- a DS dossier node, shaped as DossierFields returns it (documents.graphql) ----------------


def champ_id(stable: int, row: str | None = None) -> str:
    """DS's ids: base64 of "Champ-<stable id>", and "|<row id>" for a champ of a row."""
    return base64.b64encode(f"Champ-{stable}{'|' + row if row else ''}".encode()).decode()


def champ(
    stable: int, typename: str, label: str, string: str | None, row: str | None = None, **typed: Any
) -> dict[str, Any]:
    return {
        "id": champ_id(stable, row),
        "champDescriptorId": champ_id(stable),
        "__typename": typename,
        "label": label,
        "stringValue": string,
        "updatedAt": "2024-03-13T18:30:00+01:00",
        **typed,
    }


def text(stable: int, label: str, value: str, row: str | None = None) -> dict[str, Any]:
    return champ(stable, "TextChamp", label, value, row)


def decimal(stable: int, label: str, value: str, row: str | None = None) -> dict[str, Any]:
    try:
        number: float | None = float(value.replace(",", "."))
    except ValueError:
        number = None
    return champ(stable, "DecimalNumberChamp", label, value, row, decimal=number)


def dropdown(stable: int, label: str, value: str, row: str | None = None) -> dict[str, Any]:
    return champ(stable, "DropDownListChamp", label, value, row, choice=value)


def checkbox(stable: int, label: str, ticked: bool, row: str | None = None) -> dict[str, Any]:
    return champ(stable, "CheckboxChamp", label, "true" if ticked else "false", row, checked=ticked)


def repetition(stable: int, label: str, rows: list[list[dict[str, Any]]]) -> dict[str, Any]:
    listed = [
        {"id": base64.b64encode(f"Row-{n}".encode()).decode(), "champs": champs}
        for n, champs in enumerate(rows, start=1)
    ]
    return champ(stable, "RepetitionChamp", label, "", rows=listed)


def a_file(filename: str = "deliberation.pdf", content: bytes = b"%PDF-1.7 deliberation") -> dict:
    return {
        "filename": filename,
        "contentType": "application/pdf",
        "byteSize": str(len(content)),  # a BigInt: sent as a string
        "checksum": base64.b64encode(hashlib.md5(content).digest()).decode(),
        "url": f"https://object-storage.example/{filename}?signature=abc",
        "virusScanResult": "safe",
    }


def pieces(stable: int, label: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    names = ", ".join(f["filename"] for f in files)
    return champ(stable, "PieceJustificativeChamp", label, names, files=files)


def budget_row(
    n: int, year: str, category: str, label: str, amount: str, post: bool | None = None
) -> list[dict[str, Any]]:
    row = f"row{n}"
    champs = [
        dropdown(4100021, "Année", year, row),
        dropdown(4100022, "Nature de la dépense", category, row),
        text(4100023, "Libellé", label, row),
        decimal(4100024, "Montant (€)", amount, row),
    ]
    return champs + ([checkbox(4100025, "Poste pérenne", post, row)] if post is not None else [])


BUDGET = [
    budget_row(
        1, "Année 1", "Personnel dédié au projet", "Coordinateur (CDD 3 ans)", "45000", True
    ),
    budget_row(2, "Année 1", "Formation", "Formation des professionnels", "30000,00"),
    budget_row(3, "Année 2", "Actions", "Programme CPS en collèges", "60000"),
    budget_row(4, "Année 3", "Actions", "Réappropriation des halls", "65000.5"),
]
OBJECTIVES = [
    "Créer une dynamique partenariale et former les professionnels",
    "Permettre une réappropriation de l'espace public",
]


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def siret_of(siren: str) -> str:
    return next(s for d in range(10) if luhn_ok(s := f"{siren}0001{d}"))


def a_demandeur(siret: str | None = None, **entreprise: Any) -> dict[str, Any]:
    siret = siret or siret_of(random_siren())
    return {
        "__typename": "PersonneMorale",
        "siret": siret,
        "address": {"postalCode": "59100", "cityCode": "59512", "departmentCode": "59"},
        "entreprise": {
            "siren": siret[:9],
            "raisonSociale": "COMMUNE DE ROUBAIX",
            "formeJuridiqueCode": "7210",
            **entreprise,
        },
    }


def a_node(
    number: int = 20240012,
    demandeur: dict[str, Any] | None = None,
    budget: list[list[dict[str, Any]]] | None = None,
    **header: Any,
) -> dict[str, Any]:
    """A dossier as a commune fills the 2024 form, as DossierFields returns it."""
    return {
        "id": base64.b64encode(f"Dossier-{number}".encode()).decode(),
        "number": number,
        "state": "en_construction",
        "dateDepot": "2024-03-12T10:15:00+01:00",
        "dateDerniereModification": "2024-03-14T09:00:00+01:00",
        "dateDerniereModificationChamps": "2024-03-13T18:30:00+01:00",
        "datePassageEnInstruction": None,
        "dateTraitement": None,
        "motivation": None,
        "usager": {"email": "secretariat@roubaix.example.fr"},
        "demarche": {"revision": {"id": "UHJvY2VkdXJlUmV2aXNpb24tMQ=="}},
        "demandeur": demandeur or a_demandeur(),
        "champs": [
            text(4100001, "Nom de la collectivité", "Commune de Roubaix"),
            text(4100002, "Nom et prénom du signataire", "Guillaume Delbar"),
            dropdown(4100003, "Qualité du signataire", "Maire"),
            text(4100004, "Courriel du signataire", "maire@roubaix.example.fr"),
            text(4100010, "Intitulé du projet", "LIMIT'S Roubaix"),
            text(4100011, "Présentation du plan d'action", "Plan d'action partenarial."),
            text(4100012, "Territoire d'intervention", "Quartiers de l'Alma et du Pile"),
            text(4100013, "Publics bénéficiaires", "Jeunes de 10 à 18 ans"),
            champ(
                4100014,
                "MultipleDropDownListChamp",
                "Finalités du projet",
                ", ".join(OBJECTIVES),
                values=OBJECTIVES,
            ),
            repetition(
                4100015,
                "Partenaires",
                [
                    [
                        text(4100016, "Partenaire", "Parquet de Lille", "p1"),
                        text(4100017, "Type de partenaire", "justice", "p1"),
                    ],
                ],
            ),
            champ(4100018, "IntegerNumberChamp", "Durée (en mois)", "36", integer="36"),
            repetition(4100020, "Budget prévisionnel", BUDGET if budget is None else budget),
            decimal(4100026, "Coût total du projet (€)", "200000"),
            decimal(4100027, "Subvention sollicitée (€)", "160000"),
            pieces(4100030, "Délibération du conseil", [a_file()]),
            pieces(4100031, "Budget détaillé", [a_file("budget.ods", b"PK budget")]),
            pieces(4100032, "RIB", [a_file("rib.pdf", b"%PDF rib")]),
            pieces(4100033, "Autres pièces", []),
        ],
        **header,
    }


def with_champ(node: dict[str, Any], stable: int, replacement: dict[str, Any] | None) -> dict:
    """The node with one root champ replaced (None: the champ is not in the dossier)."""
    changed = copy.deepcopy(node)
    kept = [c for c in changed["champs"] if c["champDescriptorId"] != champ_id(stable)]
    changed["champs"] = kept + ([replacement] if replacement else [])
    return changed


def mapped(node: dict[str, Any]) -> Mapped:
    return map_dossier(node, the_2024_mapping())


def problems_of(node: dict[str, Any]) -> list[MappingProblem]:
    with pytest.raises(Unmappable) as refused:
        mapped(node)
    return refused.value.problems


def kinds_of(node: dict[str, Any]) -> dict[str, str]:
    return {p.field: p.kind for p in problems_of(node)}


def amount_node(amount: str) -> dict[str, Any]:
    return with_champ(a_node(), 4100027, decimal(4100027, "Subvention sollicitée (€)", amount))


# --- the mapping file ------------------------------------------------------------------------


def test_the_2024_mapping_file_loads():
    mapping = the_2024_mapping()
    assert mapping.campaign_id == "mildeca-2024"
    assert mapping.demarche.number is None  # unknown until `aap ds describe`
    assert mapping.import_states == ["en_construction", "en_instruction"]
    assert {a.kind for a in mapping.attachments if a.required} == {
        AttachmentKind.deliberation,
        AttachmentKind.budget,
        AttachmentKind.bank_details,
    }


def test_a_missing_mapping_file_is_refused_naming_the_file(tmp_path):
    with pytest.raises(MappingFileError, match=r"mildeca-2031\.json"):
        load_mapping("mildeca-2031", tmp_path)


def the_2024_file(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MAPPING_FILE.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def written(tmp_path: Path, data: dict[str, Any], campaign: str = "mildeca-2024") -> Path:
    (tmp_path / f"{campaign}.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp_path


def refusal_at_load(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(MappingFileError) as refused:
        load_mapping("mildeca-2024", written(tmp_path, data))
    return str(refused.value)


def test_a_mapping_file_from_another_directory_is_read(tmp_path):
    assert load_mapping("mildeca-2024", written(tmp_path, the_2024_file())) == the_2024_mapping()


def test_a_mapping_file_naming_another_campaign_is_refused(tmp_path):
    directory = written(tmp_path, the_2024_file(), "mildeca-2025")
    with pytest.raises(MappingFileError, match="maps 'mildeca-2024', not 'mildeca-2025'"):
        load_mapping("mildeca-2025", directory)


def test_an_unknown_converter_is_refused_at_load(tmp_path):
    data = the_2024_file()
    data["fields"]["requested_eur"]["as"] = "eur"
    said = refusal_at_load(tmp_path, data)
    assert "fields.requested_eur.as" in said and "'euros'" in said


def test_rows_without_a_champ_are_refused_at_load(tmp_path):
    data = the_2024_file()
    del data["fields"]["budget.lines"]["champ"]
    data["fields"]["budget.lines"]["demandeur"] = "siret"
    assert "`rows` reads a repetition: it needs the repetition's `champ`" in refusal_at_load(
        tmp_path, data
    )


def test_a_choice_without_its_values_is_refused_at_load(tmp_path):
    data = the_2024_file()
    del data["fields"]["representative.role"]["values"]
    assert "`choice` needs `values`" in refusal_at_load(tmp_path, data)


def test_a_source_reading_both_a_champ_and_the_demandeur_is_refused_at_load(tmp_path):
    data = the_2024_file()
    data["fields"]["project.title"]["demandeur"] = "siret"
    assert "exactly one of `champ`" in refusal_at_load(tmp_path, data)


def test_a_field_that_aap_s_dossier_does_not_have_is_refused_at_load(tmp_path):
    data = the_2024_file()
    data["fields"]["project.coordinator"] = data["fields"]["project.title"]
    assert "'project.coordinator' is not a field of aap's Dossier" in refusal_at_load(
        tmp_path, data
    )


def test_a_required_field_of_the_dossier_left_unmapped_is_refused_at_load(tmp_path):
    data = the_2024_file()
    del data["fields"]["project.duration_months"]
    del data["fields"]["budget.lines"]["rows"]["label"]
    said = refusal_at_load(tmp_path, data)
    assert "required fields project.duration_months" in said
    assert "budget.lines.rows: no source for the required fields label" in said


def test_the_mapping_digest_moves_with_what_the_mapping_says_not_with_its_layout(tmp_path):
    same = load_mapping("mildeca-2024", written(tmp_path, json.loads(MAPPING_FILE.read_text())))
    assert mapping_digest(same) == mapping_digest(the_2024_mapping())
    data = the_2024_file()
    data["fields"]["representative.role"]["values"]["Maire délégué"] = "adjoint"
    other = load_mapping("mildeca-2024", written(tmp_path, data))
    assert mapping_digest(other) != mapping_digest(the_2024_mapping())


# --- a dossier -------------------------------------------------------------------------------


def test_a_complete_dossier_maps_to_aap_s_dossier():
    node = a_node()
    result = mapped(node)
    dossier = result.dossier
    assert (result.ds_number, result.ds_id, result.state) == (
        20240012,
        node["id"],
        "en_construction",
    )
    assert dossier.applicant.siren == node["demandeur"]["siret"][:9]
    assert dossier.applicant.name == "COMMUNE DE ROUBAIX"  # the registry's name first
    assert (dossier.applicant.kind.value, dossier.applicant.departement) == ("commune", "59")
    assert dossier.representative.role is RepresentativeRole.maire
    assert dossier.project.objectives == [
        Objective.partnership_training,
        Objective.reclaim_public_space,
    ]
    assert dossier.project.duration_months == 36
    assert [p.name for p in dossier.project.partners] == ["Parquet de Lille"]
    assert dossier.requested_eur == Decimal("160000.00")


def test_ds_dates_are_aware_instants():
    result = mapped(a_node())
    assert result.deposited_at.isoformat() == "2024-03-12T10:15:00+01:00"
    assert result.modified_at.utcoffset() is not None
    assert result.champs_modified_at.isoformat() == "2024-03-13T18:30:00+01:00"


def test_a_date_without_its_offset_is_refused():
    kinds = kinds_of(a_node(dateDepot="2024-03-12T10:15:00"))
    assert kinds == {"dateDepot": "node_malformed"}


def test_an_amount_is_read_from_its_text_never_from_its_float():
    node = amount_node("0,30")
    subsidy = next(c for c in node["champs"] if c["label"] == "Subvention sollicitée (€)")
    subsidy["decimal"] = 0.30000000000000004  # what a float makes of it
    assert mapped(node).dossier.requested_eur == Decimal("0.30")


def test_an_amount_accepts_a_comma_and_spaces_around_it():
    assert mapped(amount_node(" 1200,5 ")).dossier.requested_eur == Decimal("1200.50")


def test_an_amount_with_three_decimals_is_refused_as_cents():
    (problem,) = problems_of(amount_node("1200,505"))
    assert (problem.field, problem.kind) == ("requested_eur", "amount_cents")
    assert '"1200,505"' in problem.reason


def test_a_negative_amount_is_refused():
    assert kinds_of(amount_node("-500")) == {"requested_eur": "amount_negative"}


def test_an_amount_that_is_no_number_is_refused():
    assert kinds_of(amount_node("1 200")) == {"requested_eur": "amount_invalid"}


def test_an_integer_arrives_as_a_string():
    node = with_champ(
        a_node(), 4100018, champ(4100018, "IntegerNumberChamp", "Durée", "24", integer="24")
    )
    assert mapped(node).dossier.project.duration_months == 24


def test_an_integer_that_is_no_number_is_refused():
    node = with_champ(a_node(), 4100018, text(4100018, "Durée (en mois)", "trois ans"))
    assert kinds_of(node) == {"project.duration_months": "integer_invalid"}


def test_a_boolean_is_read_from_a_checkbox_a_yes_no_or_its_text():
    rows = [
        budget_row(1, "Année 1", "Personnel dédié au projet", "Coordinateur", "45000"),
        budget_row(2, "Année 1", "Actions", "Ateliers", "1000"),
        budget_row(3, "Année 1", "Actions", "Sorties", "1000"),
    ]
    rows[0].append(checkbox(4100025, "Poste pérenne", True, "row1"))
    rows[1].append(champ(4100025, "YesNoChamp", "Poste pérenne", "Non", "row2", yes=False))
    rows[2].append(champ(4100025, "TextChamp", "Poste pérenne", "Oui", "row3"))
    lines = mapped(a_node(budget=rows)).dossier.budget.lines
    assert [line.permanent_post for line in lines] == [True, False, True]


def test_an_optional_champ_left_empty_takes_its_default():
    rows = [budget_row(1, "Année 1", "Actions", "Ateliers", "1000")]  # no "Poste pérenne"
    assert mapped(a_node(budget=rows)).dossier.budget.lines[0].permanent_post is False


def test_a_repeated_block_gives_one_budget_line_per_row():
    lines = mapped(a_node()).dossier.budget.lines
    assert [(line.year, line.category, line.amount_eur) for line in lines] == [
        (1, BudgetCategory.personnel, Decimal("45000.00")),
        (1, BudgetCategory.training, Decimal("30000.00")),
        (2, BudgetCategory.actions, Decimal("60000.00")),
        (3, BudgetCategory.actions, Decimal("65000.50")),
    ]
    assert lines[0].permanent_post is True


def test_an_optional_repetition_absent_from_the_dossier_gives_its_default():
    assert mapped(with_champ(a_node(), 4100015, None)).dossier.project.partners == []


def test_a_required_repetition_without_a_row_is_missing():
    assert kinds_of(a_node(budget=[])) == {"budget.lines": "champ_missing"}


def test_a_required_champ_absent_from_the_dossier_is_missing():
    (problem,) = problems_of(with_champ(a_node(), 4100010, None))
    assert (problem.field, problem.kind, problem.champ) == (
        "project.title",
        "champ_missing",
        "Intitulé du projet",
    )
    assert problem.champ_id == champ_id(4100010)


def test_a_required_champ_left_empty_is_missing():
    node = with_champ(a_node(), 4100013, text(4100013, "Publics bénéficiaires", "   "))
    assert kinds_of(node) == {"project.beneficiaries": "champ_missing"}


def test_a_label_is_found_after_unicode_normalisation_and_trimming():
    decomposed = "  Pre\u0301sident(e) "  # "é" as "e" and a combining accent, as macOS types it
    node = with_champ(a_node(), 4100003, dropdown(4100003, "Qualité du signataire", decomposed))
    assert mapped(node).dossier.representative.role is RepresentativeRole.president


def test_an_unknown_label_is_refused_naming_it_and_the_allowed_ones():
    node = with_champ(a_node(), 4100003, dropdown(4100003, "Qualité du signataire", "Conseiller"))
    (problem,) = problems_of(node)
    assert (problem.field, problem.kind) == ("representative.role", "choice_unknown")
    assert '"Conseiller"' in problem.reason and '"Vice-président(e)"' in problem.reason


def test_objectives_are_read_from_the_list_of_a_multiple_choice():
    chosen = ["Prévenir l'entrée dans les réseaux de trafics", "Autre chose"]
    node = with_champ(
        a_node(),
        4100014,
        champ(4100014, "MultipleDropDownListChamp", "Finalités", ", ".join(chosen), values=chosen),
    )
    (problem,) = problems_of(node)
    assert (problem.field, problem.kind) == ("project.objectives", "choice_unknown")
    assert '"Autre chose"' in problem.reason and "Prévenir" not in problem.reason.split(":")[0]


def test_a_siret_failing_its_check_is_refused():
    siret = siret_of(random_siren())
    wrong = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    assert kinds_of(a_node(demandeur=a_demandeur(wrong))) == {"applicant.siren": "siret_invalid"}


def test_a_siret_whose_siren_fails_its_check_is_refused():
    siren = next(s for n in range(200000000, 200000100) if not siren_is_valid(s := str(n)))
    problems = problems_of(a_node(demandeur=a_demandeur(siret_of(siren))))
    assert [(p.field, p.kind) for p in problems] == [("applicant.siren", "siren_invalid")]


def test_a_person_cannot_be_the_applicant():
    problems = problems_of(a_node(demandeur={"__typename": "PersonnePhysique"}))
    assert [(p.field, p.kind) for p in problems] == [("applicant", "demandeur_not_morale")]


def test_an_incomplete_demandeur_falls_back_on_the_champ_for_its_name():
    incomplete = {"__typename": "PersonneMoraleIncomplete", "siret": siret_of(random_siren())}
    assert kinds_of(a_node(demandeur=incomplete)) == {
        "applicant.kind": "demandeur_incomplete",
        "applicant.departement": "demandeur_incomplete",
    }
    demandeur = a_demandeur()
    del demandeur["entreprise"]["raisonSociale"]
    assert mapped(a_node(demandeur=demandeur)).dossier.applicant.name == "Commune de Roubaix"


def test_the_departement_comes_from_the_insee_code_when_ds_gives_none():
    for city, departement in (("2A004", "2A"), ("97411", "974"), ("59512", "59")):
        demandeur = a_demandeur()
        demandeur["address"] = {"postalCode": "", "cityCode": city, "departmentCode": None}
        assert mapped(a_node(demandeur=demandeur)).dossier.applicant.departement == departement


def test_a_place_outside_the_departements_is_refused():
    demandeur = a_demandeur()
    demandeur["address"] = {"postalCode": "98714", "cityCode": "98735", "departmentCode": None}
    (problem,) = problems_of(a_node(demandeur=demandeur))
    assert (problem.field, problem.kind) == ("applicant.departement", "departement_unknown")
    assert '"98"' in problem.reason and "98735" in problem.reason


def test_an_unknown_legal_form_is_refused_as_an_unknown_choice():
    node = a_node(demandeur=a_demandeur(formeJuridiqueCode="9220"))  # an association
    assert kinds_of(node) == {"applicant.kind": "choice_unknown"}


def test_eligibility_is_not_the_mapper_s_business():
    rows = [budget_row(1, "Année 1", "Fonctionnement de structure", "Loyer", "300000")]
    node = a_node(budget=rows)
    node = with_champ(node, 4100027, decimal(4100027, "Subvention sollicitée (€)", "300000"))
    node = with_champ(
        node, 4100018, champ(4100018, "IntegerNumberChamp", "Durée", "6", integer="6")
    )
    dossier = mapped(node).dossier
    assert dossier.budget.lines[0].category is BudgetCategory.structure_operation
    assert (dossier.requested_eur, dossier.project.duration_months) == (Decimal("300000.00"), 6)


def test_the_dossier_s_own_refusals_name_the_ds_champ_and_row():
    rows = [*BUDGET[:1], budget_row(2, "Année 1", "Actions", "x" * 201, "100")]
    node = with_champ(
        a_node(budget=rows), 4100004, text(4100004, "Courriel du signataire", "maire@")
    )
    found = {(p.field, p.champ, p.row, p.kind) for p in problems_of(node)}
    assert found == {
        ("representative.email", "Courriel du signataire", None, "value_error"),
        ("budget.lines.1.label", "Libellé", 2, "string_too_long"),
    }


def test_every_problem_of_a_dossier_is_reported_with_its_champ_and_row():
    siret = siret_of(random_siren())
    rows = [
        *BUDGET[:2],
        budget_row(3, "Année 2", "Actions", "Programme CPS", "1200,505"),
        budget_row(4, "Année 4", "Actions", "", "100"),
    ]
    node = a_node(demandeur=a_demandeur(siret[:13]), budget=rows)
    node = with_champ(node, 4100003, dropdown(4100003, "Qualité du signataire", "Maire adjoint"))
    node = with_champ(node, 4100010, None)
    node = with_champ(node, 4100030, pieces(4100030, "Délibération du conseil", []))
    found = {(p.field, p.champ, p.row, p.kind) for p in problems_of(node)}
    assert found == {
        ("applicant.siren", None, None, "siret_invalid"),
        ("representative.role", "Qualité du signataire", None, "choice_unknown"),
        ("project.title", "Intitulé du projet", None, "champ_missing"),
        ("budget.lines.2.amount_eur", "Montant (€)", 3, "amount_cents"),
        ("budget.lines.3.year", "Année", 4, "choice_unknown"),
        ("budget.lines.3.label", "Libellé", 4, "champ_missing"),
        ("attachments.deliberation", "Délibération du conseil", None, "attachment_missing"),
    }


def test_a_problem_reads_as_dossier_champ_row_kind_and_reason():
    rows = [*BUDGET[:2], budget_row(3, "Année 2", "Actions", "Programme CPS", "1200,505")]
    with pytest.raises(Unmappable) as refused:
        mapped(a_node(budget=rows))
    assert str(refused.value) == (
        '20240012 · "Montant (€)" row 3 · amount_cents · an amount has at most two decimals: '
        '"1200,505"'
    )


def test_the_files_of_each_attachment_champ_are_read_with_their_size_from_a_string():
    files = mapped(a_node()).files
    assert [(f.kind, f.filename) for f in files] == [
        (AttachmentKind.deliberation, "deliberation.pdf"),
        (AttachmentKind.budget, "budget.ods"),
        (AttachmentKind.bank_details, "rib.pdf"),
    ]
    deliberation = files[0]
    assert deliberation.byte_size == len(b"%PDF-1.7 deliberation")
    assert deliberation.checksum == a_file()["checksum"]
    assert (deliberation.champ_id, deliberation.virus_scan) == (champ_id(4100030), "safe")


def test_a_required_attachment_absent_from_the_dossier_is_missing():
    assert kinds_of(with_champ(a_node(), 4100032, None)) == {
        "attachments.bank_details": "attachment_missing"
    }


def test_a_file_without_its_size_is_refused():
    broken = a_file() | {"byteSize": None}
    node = with_champ(a_node(), 4100030, pieces(4100030, "Délibération du conseil", [broken]))
    assert kinds_of(node) == {"attachments.deliberation": "file_malformed"}


def test_the_digest_moves_with_the_answers_not_with_the_dates():
    demandeur = a_demandeur()
    first = mapped(a_node(demandeur=demandeur))
    later = a_node(
        demandeur=demandeur,
        dateDerniereModification="2024-04-02T08:00:00+02:00",  # an annotation, a message
        dateDerniereModificationChamps="2024-04-01T08:00:00+02:00",
        state="en_instruction",
    )
    assert mapped(later).digest == first.digest
    changed = with_champ(later, 4100010, text(4100010, "Intitulé du projet", "Un autre titre"))
    assert mapped(changed).digest != first.digest


def test_the_digest_moves_with_a_new_file():
    node = a_node(demandeur=a_demandeur(siret_of("213186091")))
    first = mapped(node).digest
    replaced = pieces(4100032, "RIB", [a_file("rib.pdf", b"%PDF another rib")])
    assert mapped(with_champ(node, 4100032, replaced)).digest != first


# --- the mapping against the démarche's form (DescribeDemarche's activeRevision) ------------


def descriptor(stable: int, typename: str, label: str, required: bool = True, **more: Any) -> dict:
    return {
        "id": champ_id(stable),
        "__typename": typename,
        "label": label,
        "required": required,
        **more,
    }


ROLES = ["Maire", "Président(e)", "Adjoint(e) au maire", "Vice-président(e)"]
YEARS = ["Année 1", "Année 2", "Année 3"]
CATEGORIES = [
    "Actions",
    "Personnel dédié au projet",
    "Formation",
    "Communication",
    "Équipement",
    "Évaluation",
    "Fonctionnement de structure",
]


def the_2024_form() -> list[dict[str, Any]]:
    """The 2024 form's descriptors as DescribeDemarche gives them (the ids the mapping names)."""
    objectives = list(the_2024_mapping().fields["project.objectives"].values or {})
    return [
        descriptor(4100001, "TextChampDescriptor", "Nom de la collectivité", False),
        descriptor(4100002, "TextChampDescriptor", "Nom et prénom du signataire"),
        descriptor(
            4100003,
            "DropDownListChampDescriptor",
            "Qualité du signataire",
            options=ROLES,
            otherOption=False,
        ),
        descriptor(4100004, "EmailChampDescriptor", "Courriel du signataire"),
        descriptor(4100010, "TextChampDescriptor", "Intitulé du projet"),
        descriptor(4100011, "TextareaChampDescriptor", "Présentation du plan d'action"),
        descriptor(4100012, "TextareaChampDescriptor", "Territoire d'intervention"),
        descriptor(4100013, "TextareaChampDescriptor", "Publics bénéficiaires"),
        descriptor(
            4100014,
            "MultipleDropDownListChampDescriptor",
            "Finalités du projet",
            options=objectives,
        ),
        descriptor(
            4100015,
            "RepetitionChampDescriptor",
            "Partenaires",
            False,
            champDescriptors=[
                descriptor(4100016, "TextChampDescriptor", "Partenaire"),
                descriptor(4100017, "TextChampDescriptor", "Type de partenaire"),
            ],
        ),
        descriptor(4100018, "IntegerNumberChampDescriptor", "Durée (en mois)"),
        descriptor(
            4100020,
            "RepetitionChampDescriptor",
            "Budget prévisionnel",
            champDescriptors=[
                descriptor(4100021, "DropDownListChampDescriptor", "Année", options=YEARS),
                descriptor(
                    4100022,
                    "DropDownListChampDescriptor",
                    "Nature de la dépense",
                    options=CATEGORIES,
                ),
                descriptor(4100023, "TextChampDescriptor", "Libellé"),
                descriptor(4100024, "DecimalNumberChampDescriptor", "Montant (€)"),
                descriptor(4100025, "CheckboxChampDescriptor", "Poste pérenne", False),
            ],
        ),
        descriptor(4100026, "DecimalNumberChampDescriptor", "Coût total du projet (€)"),
        descriptor(4100027, "DecimalNumberChampDescriptor", "Subvention sollicitée (€)"),
        descriptor(4100030, "PieceJustificativeChampDescriptor", "Délibération du conseil"),
        descriptor(4100031, "PieceJustificativeChampDescriptor", "Budget détaillé"),
        descriptor(4100032, "PieceJustificativeChampDescriptor", "RIB"),
        descriptor(4100033, "PieceJustificativeChampDescriptor", "Autres pièces", False),
    ]


ANNOTATIONS = [
    descriptor(4200001, "TextChampDescriptor", "Référence aap", False),
    descriptor(4200002, "TextChampDescriptor", "Montant accordé (€)", False),
]


def checked(form: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    return check_mapping(the_2024_mapping(), form, ANNOTATIONS)


def changed_form(stable: int, **changes: Any) -> list[dict[str, Any]]:
    form = the_2024_form()
    for item in [*form, *(c for d in form for c in d.get("champDescriptors", []))]:
        if item["id"] == champ_id(stable):
            item.update(changes)
    return form


def test_the_mapping_fits_the_form_it_was_written_for():
    assert checked(the_2024_form()) == ([], [])


def test_a_champ_not_in_the_form_is_an_error():
    form = [d for d in the_2024_form() if d["id"] != champ_id(4100027)]
    errors, _ = checked(form)
    assert errors == [
        f'requested_eur: the champ "Subvention sollicitée (€)" ({champ_id(4100027)}) is not in '
        "the démarche's active revision"
    ]


def test_a_champ_of_a_type_its_converter_cannot_read_is_an_error():
    errors, _ = checked(changed_form(4100024, __typename="TextChampDescriptor"))
    assert len(errors) == 1
    assert errors[0].startswith('budget.lines.amount_eur: the champ "Montant (€)"')
    assert "TextChampDescriptor; `euros` reads DecimalNumberChampDescriptor" in errors[0]


def test_a_row_champ_read_at_the_root_is_an_error_saying_where_it_is():
    form = the_2024_form()
    budget = next(d for d in form if d["id"] == champ_id(4100020))
    form.append(budget["champDescriptors"].pop(3))  # "Montant (€)" moved out of the repetition
    errors, _ = checked(form)
    assert errors == [
        f'budget.lines.amount_eur: the champ "Montant (€)" ({champ_id(4100024)}) is not inside '
        "this repetition: it is at the root of the form"
    ]


def test_a_label_of_values_not_among_the_options_is_an_error_and_the_new_option_a_warning():
    options = ["Maire", "Président", "Adjoint(e) au maire", "Vice-président(e)"]
    errors, warnings = checked(changed_form(4100003, options=options))
    assert errors == [
        'representative.role: "Président(e)" not among the options of "Qualité du signataire": '
        '"Maire", "Président", "Adjoint(e) au maire", "Vice-président(e)"'
    ]
    assert warnings == [
        'representative.role: the options "Président" of "Qualité du signataire" have no value '
        "in the mapping: a dossier choosing one is choice_unknown"
    ]


def test_a_changed_label_is_only_a_warning():
    errors, warnings = checked(changed_form(4100010, label="Titre du projet"))
    assert errors == []
    assert warnings == [
        f'project.title: the champ {champ_id(4100010)} is labelled "Titre du projet" on DS and '
        '"Intitulé du projet" in the mapping (the id counts)'
    ]


def test_a_champ_optional_on_ds_that_the_mapping_requires_is_a_warning():
    errors, warnings = checked(changed_form(4100011, required=False))
    assert errors == []
    assert warnings == [
        'project.summary: "Présentation du plan d\'action" is optional on DS and required by the '
        "mapping: a dossier leaving it empty is champ_missing"
    ]


def test_an_annotation_not_in_the_form_is_an_error():
    errors, _ = check_mapping(the_2024_mapping(), the_2024_form(), ANNOTATIONS[:1])
    assert errors == [
        f"annotations.granted_eur: {champ_id(4200002)} is not a private annotation of the démarche"
    ]
