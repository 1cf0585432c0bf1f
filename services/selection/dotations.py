"""A national envelope shared among the 18 régions on objective criteria (seeds 000 and 001).

For each criterion weighing above 0, a région's share is its figure over the national total
(the number of départements is counted from the referential; the other figures are given per
région, or per département and summed to the région). Its weighted share is the average of
those shares weighted by the criteria's weights, and its exact amount the envelope times it.

Rounding, by the largest remainders (Hamilton): every exact amount is computed as a fraction,
without rounding, and floored to the cent; the cents the floors leave over (fewer than the
number of régions) go one each to the régions with the largest remainders, equal remainders by
ascending région code. So the parts add up to the envelope exactly, none is negative, and a
région whose exact amount is larger never gets less. The shares are said to the millionth
(half even), for reading: the amounts are computed from the exact ones.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction

from shared.contracts.dotations import (
    CriteriaWeights,
    Criterion,
    CriterionShare,
    Figure,
    RegionalPart,
)
from shared.language.errors import Invalid, invalid
from shared.language.regions import BY_CODE, REGION_OF, REGIONS

Values = dict[Criterion, dict[str, Decimal]]  # criterion → région code → its figure
_Errors = list[dict[str, object]]


def compute(
    envelope_eur: Decimal, weights: CriteriaWeights, figures: Sequence[Figure]
) -> list[RegionalPart]:
    """Each région's part, by région code; a 422 naming every figure missing or misgiven."""
    weighed = [c for c in Criterion if weights.of(c) > 0]
    if not weighed:
        raise invalid("weights", "weights_all_zero", "at least one criterion must weigh above 0")
    values = regional_values(figures, weighed)
    shares = {c: dict(_shares_of(c, values[c])) for c in weighed}
    total_weight = sum((Fraction(weights.of(c)) for c in weighed), Fraction(0))
    exact = {
        r.code: sum((Fraction(weights.of(c)) * shares[c][r.code] for c in weighed), Fraction(0))
        / total_weight
        for r in REGIONS
    }
    cents = largest_remainders(int(envelope_eur.scaleb(2)), exact)
    return [
        RegionalPart(
            region=r.code,
            name=r.name,
            amount_eur=Decimal(cents[r.code]).scaleb(-2),
            share=millionths(exact[r.code]),
            criteria=[
                CriterionShare(
                    criterion=c, value=values[c][r.code], share=millionths(shares[c][r.code])
                )
                for c in weighed
            ],
        )
        for r in REGIONS
    ]


def largest_remainders(total_cents: int, shares: Mapping[str, Fraction]) -> dict[str, int]:
    """`total_cents` shared in proportion to `shares` (which add up to 1), in whole cents."""
    quotas = {code: total_cents * share for code, share in shares.items()}
    cents = {code: q.numerator // q.denominator for code, q in quotas.items()}
    left = total_cents - sum(cents.values())
    for code in sorted(quotas, key=lambda code: (cents[code] - quotas[code], code))[:left]:
        cents[code] += 1
    return cents


def millionths(share: Fraction) -> Decimal:
    return Decimal(round(share * 1_000_000)).scaleb(-6)


def regional_values(figures: Sequence[Figure], weighed: Sequence[Criterion]) -> Values:
    """Each weighed criterion's figure for each région; every figure given checked alike."""
    errors: _Errors = []
    first: dict[tuple[Criterion, str], int] = {}
    # criterion → région → département ("" for the région's own figure) → value
    given: dict[Criterion, dict[str, dict[str, Decimal]]] = {}
    for i, f in enumerate(figures):
        name, place = f.criterion.value, f.place()
        if (f.criterion, place) in first:
            first_one = f"figures.{first[f.criterion, place]}"
            reason = f"a second figure of {name} for {place} (the first is {first_one})"
            errors.append(_error(f"figures.{i}", "figure_duplicate", reason))
            continue
        first[f.criterion, place] = i
        region = BY_CODE[f.region] if f.region else REGION_OF[f.departement or ""]
        places = given.setdefault(f.criterion, {}).setdefault(region.code, {})
        places[f.departement or ""] = f.value
        if "" in places and len(places) > 1:
            reason = (
                f"{name} of région {region.code} {region.name} is given for the région and for "
                "départements of it: give one or the other"
            )
            errors.append(_error(f"figures.{i}", "figure_both_levels", reason))
    values: Values = {}
    for c in weighed:
        if c is Criterion.departements:
            values[c] = {r.code: Decimal(len(r.departements)) for r in REGIONS}
            continue
        values[c] = {}
        for r in REGIONS:
            places = given.get(c, {}).get(r.code, {})
            missing = [] if "" in places else [d for d in r.departements if d not in places]
            of = f"{c.value} of région {r.code} {r.name}"
            if places and not missing:
                values[c][r.code] = places.get("", sum(places.values(), Decimal(0)))
            elif not places:
                reason = (
                    f"no figure of {of}: give one for the région or one for each of its "
                    f"départements, or weigh {c.value} 0"
                )
                errors.append(_error("figures", "figure_missing", reason, c, r.code))
            else:
                reason = f"{of} is summed from its départements, and {', '.join(missing)} have none"
                errors.append(_error("figures", "figure_incomplete", reason, c, r.code))
    if errors:
        raise Invalid(errors)
    return values


def _shares_of(c: Criterion, values: Mapping[str, Decimal]) -> list[tuple[str, Fraction]]:
    total = sum(values.values(), Decimal(0))
    if total == 0:
        reason = (
            f"the national total of {c.value} is 0: no share of it can be computed; "
            f"weigh {c.value} 0, or give its figures"
        )
        raise Invalid([_error("figures", "criterion_total_zero", reason, c)])
    return [(code, Fraction(value) / Fraction(total)) for code, value in values.items()]


def _error(
    field: str, kind: str, reason: str, c: Criterion | None = None, region: str | None = None
) -> dict[str, object]:
    context = {"criterion": c.value} if c else {}
    if region:
        context["region"] = region
    return {"field": field, "type": kind, "reason": reason, "context": context}
