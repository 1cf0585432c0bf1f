"""Regional dotations: the régions' referential, the shares on objective criteria, the rounding to
the cent by the largest remainders, the refusals, and the figures read from a CSV."""

from collections import Counter
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.selection.api_dotations import COLUMNS, export_rows, on_lines, read_figures_csv
from services.selection.dotation_decider import DOTATION, ComputeDotation
from services.selection.dotations import compute, largest_remainders
from services.selection.errors import DotationAlreadyComputed
from shared.contracts.dotations import (
    CriteriaWeights,
    Criterion,
    DotationComputed,
    Figure,
    RegionalPart,
    dotation_key,
)
from shared.kernel import exports as tables
from shared.language.actors import Actor, Role
from shared.language.errors import Forbidden, Invalid
from shared.language.referentials import DEPARTEMENTS
from shared.language.regions import BY_CODE, REGION_OF, REGIONS

PARIS = ZoneInfo("Europe/Paris")
MEASURED = [c for c in Criterion if c is not Criterion.departements]
INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.gouv.fr")
AUDITOR = Actor(Role.auditor, "audit@ccomptes.example.fr")


def by_region(criterion: Criterion, values: dict[str, int] | None = None) -> list[Figure]:
    """A figure for every région: the given ones, 100 for the others."""
    return [
        Figure(
            criterion=criterion,
            region=r.code,
            value=(values or {}).get(r.code, 100),
            source="INSEE, RP 2010",
        )
        for r in REGIONS
    ]


def amounts(parts: list[RegionalPart]) -> dict[str, Decimal]:
    return {p.region: p.amount_eur for p in parts}


def refusals(error: pytest.ExceptionInfo[Invalid]) -> list[tuple[str, str]]:
    return [(str(e["field"]), str(e["type"])) for e in error.value.errors]


# --- the régions --------------------------------------------------------------------------------


def test_every_departement_belongs_to_exactly_one_region():
    listed = Counter(d for r in REGIONS for d in r.departements)
    assert set(listed) == DEPARTEMENTS
    assert set(listed.values()) == {1}
    assert set(REGION_OF) == DEPARTEMENTS


def test_there_are_13_metropolitan_and_5_overseas_regions_of_one_departement_each():
    assert len(REGIONS) == 18
    overseas = [r for r in REGIONS if r.overseas]
    assert sorted(r.name for r in overseas) == [
        "Guadeloupe",
        "Guyane",
        "La Réunion",
        "Martinique",
        "Mayotte",
    ]
    assert all(len(r.departements) == 1 for r in overseas)
    assert sum(len(r.departements) for r in REGIONS if not r.overseas) == 96


@pytest.mark.parametrize(
    ("code", "name", "count"),
    [
        ("84", "Auvergne-Rhône-Alpes", 12),
        ("11", "Île-de-France", 8),
        ("76", "Occitanie", 13),
        ("75", "Nouvelle-Aquitaine", 12),
        ("44", "Grand Est", 10),
        ("94", "Corse", 2),
        ("53", "Bretagne", 4),
        ("06", "Mayotte", 1),
    ],
)
def test_each_region_counts_its_departements(code, name, count):
    assert (BY_CODE[code].name, len(BY_CODE[code].departements)) == (name, count)


def test_corsica_and_the_overseas_departements_are_in_their_regions():
    assert REGION_OF["2A"].code == REGION_OF["2B"].code == "94"
    assert [REGION_OF[d].code for d in ("971", "972", "973", "974", "976")] == [
        "01",
        "02",
        "03",
        "04",
        "06",
    ]


# --- the shares and the rounding ----------------------------------------------------------------


def test_a_region_s_share_is_the_weighted_average_of_its_criteria_s_shares():
    weights = CriteriaWeights(departements=1, youth_population=3)
    parts = compute(Decimal("1000000.00"), weights, by_region(Criterion.youth_population))
    corse = next(p for p in parts if p.region == "94")
    # départements 2/101, young people 100/1800: (2/101 + 3 × 1/18) / 4
    exact = (Fraction(2, 101) + 3 * Fraction(1, 18)) / 4
    assert corse.share == Decimal(round(exact * 10**6)).scaleb(-6)
    assert [(c.criterion, c.value, c.share) for c in corse.criteria] == [
        (Criterion.departements, Decimal(2), Decimal("0.019802")),
        (Criterion.youth_population, Decimal(100), Decimal("0.055556")),
    ]
    assert abs(Fraction(corse.amount_eur) - exact * 1_000_000) < Fraction(1, 100)


def test_the_cents_left_over_go_to_the_largest_remainders_ties_by_region_code():
    # 10 cents by the number of départements: 10·n/101 cents each. Floors: a cent each for the
    # régions of 12 and 13 départements; the 7 left go to the largest remainders: Grand Est
    # (.990), Île-de-France and Bourgogne-Franche-Comté (.792), Centre-Val de Loire and PACA
    # (.594), then three régions tie at .495: Normandie (28) and Hauts-de-France (32) before
    # Pays de la Loire (52).
    parts = amounts(compute(Decimal("0.10"), CriteriaWeights(departements=1), []))
    given = {code for code, amount in parts.items() if amount == Decimal("0.01")}
    assert given == {"84", "75", "76", "44", "11", "27", "24", "93", "28", "32"}
    assert parts["52"] == Decimal("0.00")
    assert sum(parts.values()) == Decimal("0.10")


def test_thirds_are_rounded_so_that_the_parts_add_up_to_the_envelope():
    assert largest_remainders(
        100, {"b": Fraction(1, 3), "a": Fraction(1, 3), "c": Fraction(1, 3)}
    ) == {
        "a": 34,
        "b": 33,
        "c": 33,
    }
    assert largest_remainders(200, {"a": Fraction(1, 3), "b": Fraction(2, 3)}) == {
        "a": 67,
        "b": 133,
    }


def test_an_empty_envelope_gives_every_region_nothing():
    parts = compute(Decimal("0.00"), CriteriaWeights(departements=1), [])
    assert {p.amount_eur for p in parts} == {Decimal("0.00")}
    assert len(parts) == 18


def test_figures_per_departement_are_summed_to_their_region():
    corse = [
        Figure(criterion=Criterion.drug_offences, departement=d, value=v, source="SSMSI 2012")
        for d, v in (("2A", 120), ("2B", 80))
    ]
    others = [f for f in by_region(Criterion.drug_offences) if f.region != "94"]
    parts = compute(Decimal("1900.00"), CriteriaWeights(drug_offences=1), [*corse, *others])
    corsica = next(p for p in parts if p.region == "94")
    # 200 offences of 1,900 (the 17 other régions count 100 each)
    assert (corsica.criteria[0].value, corsica.amount_eur) == (Decimal(200), Decimal("200.00"))
    assert set(amounts(parts).values()) == {Decimal("100.00"), Decimal("200.00")}


def test_a_criterion_weighing_nothing_needs_no_figure():
    parts = compute(Decimal("101.00"), CriteriaWeights(departements=1, youth_consumption=0), [])
    assert amounts(parts)["76"] == Decimal("13.00")
    assert all(len(p.criteria) == 1 for p in parts)


# --- the refusals -------------------------------------------------------------------------------


def test_a_region_with_no_figure_for_a_weighed_criterion_is_refused_naming_both():
    figures = [f for f in by_region(Criterion.youth_population) if f.region != "53"]
    with pytest.raises(Invalid) as refused:
        compute(Decimal("1000.00"), CriteriaWeights(youth_population=1), figures)
    [error] = refused.value.errors
    assert (error["type"], error["context"]) == (
        "figure_missing",
        {"criterion": "youth_population", "region": "53"},
    )
    assert "youth_population" in str(error["reason"]) and "Bretagne" in str(error["reason"])


def test_a_region_with_only_some_of_its_departements_is_refused_naming_the_missing_ones():
    partial = [
        Figure(criterion=Criterion.youth_population, departement=d, value=10, source="INSEE")
        for d in ("22", "29")
    ]
    figures = [*partial, *(f for f in by_region(Criterion.youth_population) if f.region != "53")]
    with pytest.raises(Invalid) as refused:
        compute(Decimal("1000.00"), CriteriaWeights(youth_population=1), figures)
    [error] = refused.value.errors
    assert error["type"] == "figure_incomplete"
    assert "35, 56" in str(error["reason"])


def test_a_figure_given_twice_is_refused_naming_both():
    figures = by_region(Criterion.drug_offences)
    with pytest.raises(Invalid) as refused:
        compute(Decimal("1000.00"), CriteriaWeights(drug_offences=1), [*figures, figures[3]])
    assert refusals(refused) == [("figures.18", "figure_duplicate")]
    assert "figures.3" in str(refused.value.errors[0]["reason"])


def test_a_region_given_both_for_itself_and_for_its_departements_is_refused():
    figures = by_region(Criterion.drug_offences)
    extra = Figure(criterion=Criterion.drug_offences, departement="2A", value=1, source="x")
    with pytest.raises(Invalid) as refused:
        compute(Decimal("1000.00"), CriteriaWeights(drug_offences=1), [*figures, extra])
    assert refusals(refused) == [("figures.18", "figure_both_levels")]


def test_weights_that_all_weigh_nothing_are_refused():
    with pytest.raises(Invalid) as refused:
        compute(Decimal("1000.00"), CriteriaWeights(), [])
    assert refusals(refused) == [("weights", "weights_all_zero")]


def test_a_criterion_whose_national_total_is_zero_is_refused():
    zeros = by_region(Criterion.youth_consumption, {r.code: 0 for r in REGIONS})
    with pytest.raises(Invalid) as refused:
        compute(Decimal("1000.00"), CriteriaWeights(youth_consumption=1), zeros)
    assert refusals(refused) == [("figures", "criterion_total_zero")]


def test_the_number_of_departements_is_never_given_as_a_figure():
    with pytest.raises(ValidationError) as refused:
        Figure(criterion=Criterion.departements, region="84", value=12, source="me")
    assert [e["type"] for e in refused.value.errors()] == ["figure_counted"]


@pytest.mark.parametrize(
    ("place", "kind"),
    [
        ({"region": "84", "departement": "69"}, "figure_place"),
        ({}, "figure_place"),
        ({"region": "99"}, "region_unknown"),
        ({"departement": "20"}, "departement_unknown"),
    ],
)
def test_a_figure_names_one_known_place(place, kind):
    with pytest.raises(ValidationError) as refused:
        Figure(criterion=Criterion.drug_offences, value=1, source="SSMSI", **place)
    assert [e["type"] for e in refused.value.errors()] == [kind]


@pytest.mark.parametrize("value", [1.5, "-3", "1e3", "12.1234567", True])
def test_a_figure_is_an_exact_non_negative_number(value):
    with pytest.raises(ValidationError):
        Figure(criterion=Criterion.drug_offences, region="84", value=value, source="SSMSI")


# --- the decider: computed once, by MILDECA -----------------------------------------------------


def command(actor: Actor = INSTRUCTOR) -> ComputeDotation:
    return ComputeDotation(
        actor,
        "prevention-2013",
        "Dotations régionales de prévention 2013",
        2013,
        Decimal("3000000.00"),
        CriteriaWeights(departements=1, youth_population=1),
        tuple(by_region(Criterion.youth_population)),
        datetime(2013, 3, 1, 10, tzinfo=PARIS),
    )


def test_a_dotation_is_recorded_with_its_figures_and_its_parts_under_its_own_key():
    [event] = DOTATION.decide(None, command())
    assert isinstance(event, DotationComputed)
    assert event.dossier_id == dotation_key("prevention-2013")
    assert len(event.figures) == 18 and len(event.parts) == 18
    assert sum(p.amount_eur for p in event.parts) == Decimal("3000000.00")
    assert event.computed_by == INSTRUCTOR.label()


def test_a_dotation_is_computed_once_per_id():
    [event] = DOTATION.decide(None, command())
    with pytest.raises(DotationAlreadyComputed):
        DOTATION.decide(DOTATION.fold([event]), command())


def test_an_auditor_may_not_compute_a_dotation():
    with pytest.raises(Forbidden):
        DOTATION.decide(None, command(AUDITOR))


# --- the CSV of the figures and of the parts ----------------------------------------------------


def test_figures_are_read_from_a_csv_with_their_lines():
    content = (
        b"criterion,code,value,source\r\n"
        b"youth_population,R84,1200000,INSEE RP 2010\r\n"
        b'drug_offences,2a,"1 234",SSMSI 2012\r\n'
    )
    [(line_2, first), (line_3, second)] = read_figures_csv(content)
    assert (line_2, first.region, first.value) == (2, "84", Decimal(1200000))
    assert (line_3, second.departement, second.value) == (3, "2A", Decimal(1234))


def test_a_french_csv_with_semicolons_and_decimal_commas_is_read():
    content = "\ufeffcriterion;code;value;source\nyouth_consumption;59;12,5;OFDT ESCAPAD\n"
    [(_, figure)] = read_figures_csv(content.encode())
    assert figure.value == Decimal("12.5")


def test_a_bad_csv_line_is_refused_naming_its_line_and_column():
    content = (
        b"criterion,code,value,source\n"
        b"youth_population,R84,100,INSEE\n"
        b"youth_population,R11,-3,INSEE\n"
        b"bad_criterion,59,1,INSEE\n"
    )
    with pytest.raises(Invalid) as refused:
        read_figures_csv(content)
    assert [e["context"] for e in refused.value.errors] == [
        {"line": 3, "column": "value"},
        {"line": 4, "column": "criterion"},
    ]
    assert str(refused.value.errors[0]["reason"]).startswith("line 3, column value: ")


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"criterion,code,value\nyouth_population,R84,1\n", "csv_header"),
        (b"", "csv_header"),
        (b"criterion,code,value,source\nyouth_population,R84,1\n", "csv_cells"),
        ("criterion,code,value,source\ndrug_offences,59,1,é".encode("latin-1"), "csv_not_utf8"),
    ],
)
def test_a_csv_that_does_not_read_is_refused(content, kind):
    with pytest.raises(Invalid) as refused:
        read_figures_csv(content)
    assert [e["type"] for e in refused.value.errors] == [kind]


def test_a_refusal_of_a_figure_is_said_of_its_csv_line():
    duplicate = {"field": "figures.1", "type": "figure_duplicate", "reason": "a second figure"}
    said = on_lines(Invalid([{**duplicate, "context": {}}]), [2, 5])
    assert said.errors == [
        {
            "field": "figures",
            "type": "figure_duplicate",
            "reason": "line 5: a second figure",
            "context": {"line": 5},
        }
    ]


async def test_the_export_has_one_row_per_region_and_a_column_per_criterion():
    [event] = DOTATION.decide(None, command())
    assert isinstance(event, DotationComputed)
    answer = tables.response("csv", "dotation", COLUMNS, tables.listed(export_rows(event)))
    body = b"".join([bytes(chunk) async for chunk in answer.body_iterator])
    lines = body.decode().splitlines()
    assert lines[0] == (
        "code,name,amount_eur,share,share_departements,share_youth_population,"
        "share_youth_consumption,share_drug_offences"
    )
    assert len(lines) == 19
    corse = next(line for line in lines if line.startswith("94,"))
    assert corse.endswith(",0.019802,0.055556,,")


# --- properties, for any envelope and any figures -----------------------------------------------

ENVELOPES = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
WEIGHTS = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)
FIGURES = (
    st.integers(1, 5)
    | st.integers(1, 10**7)
    | st.decimals(min_value=Decimal("0.001"), max_value=10**6, places=3, allow_nan=False)
)


@st.composite
def dotations(draw: st.DrawFn) -> tuple[Decimal, CriteriaWeights, list[Figure]]:
    weights = CriteriaWeights(**{c.value: draw(WEIGHTS) for c in Criterion})
    assume(any(weights.of(c) > 0 for c in Criterion))
    figures = [
        Figure(criterion=c, region=r.code, value=draw(FIGURES), source="drawn")
        for c in MEASURED
        for r in REGIONS
    ]
    return draw(ENVELOPES), weights, figures


@settings(max_examples=150, deadline=None, database=None)
@given(dotations())
def test_the_parts_add_up_to_the_envelope_and_more_figures_never_get_less(dotation):
    envelope, weights, figures = dotation
    parts = compute(envelope, weights, figures)
    assert sum(p.amount_eur for p in parts) == envelope
    assert all(p.amount_eur >= 0 for p in parts)
    values = {p.region: {c.criterion: c.value for c in p.criteria} for p in parts}
    amount = amounts(parts)
    for a in REGIONS:
        for b in REGIONS:
            if a is b or not all(values[a.code][c] >= values[b.code][c] for c in values[a.code]):
                continue
            if values[a.code] != values[b.code]:
                assert amount[a.code] >= amount[b.code], (a.code, b.code)
            else:  # the same exact part: a cent at most between them, to the lower code
                assert abs(amount[a.code] - amount[b.code]) <= Decimal("0.01")
                if amount[a.code] != amount[b.code]:
                    assert (amount[a.code] > amount[b.code]) == (a.code < b.code)
