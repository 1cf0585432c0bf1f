"""Re-ranking a campaign with other weights: the stored scores weighted again, beside the
decided ranking; nothing recorded."""

from decimal import Decimal

from services.selection.reranking import completed, reranked

USUAL = {
    "adequacy": Decimal(1),
    "innovation": Decimal(1),
    "team_competence": Decimal(1),
    "methodology": Decimal(1),
    "partnership": Decimal(1),
    "prefecture_opinion": Decimal(2),
}


def row(reference: str, **scores: int) -> dict[str, object]:
    given = dict.fromkeys(USUAL, 3) | scores
    return {"reference": reference, "scores": given}


def test_with_the_decided_weights_the_ranking_is_the_decided_one():
    rows = [row("A", prefecture_opinion=5), row("B"), row("C", innovation=0)]
    assert [r.rank for r in reranked(rows, USUAL)] == [1, 2, 3]
    assert all(r.moved == 0 for r in reranked(rows, USUAL))


def test_weighing_innovation_more_lifts_the_innovative_dossier_and_says_by_how_much():
    # decided: the préfecture's favourite first; with innovation weighing 10, B comes first
    rows = [row("A", prefecture_opinion=5, innovation=1), row("B", innovation=5)]
    weights = completed({"innovation": Decimal(10)}, USUAL)
    [b, a] = reranked(rows, weights)  # in the new order
    assert (a.dossier["reference"], a.rank, a.moved) == ("A", 2, -1)
    assert (b.dossier["reference"], b.rank, b.moved) == ("B", 1, 1)
    assert b.score == Decimal("4.25")  # (3·4 + 5·10 + 3·2) / 16, to the hundredth


def test_ties_keep_the_decided_order():
    rows = [row("A"), row("B")]
    weights = completed({"prefecture_opinion": Decimal(0)}, USUAL)
    assert [
        r.dossier["reference"] for r in sorted(reranked(rows, weights), key=lambda r: r.rank)
    ] == [
        "A",
        "B",
    ]


def test_a_criterion_not_asked_keeps_the_campaigns_weight():
    weights = completed({"adequacy": Decimal("2.5"), "innovation": None}, USUAL)
    assert weights["adequacy"] == Decimal("2.5") and weights["innovation"] == Decimal(1)
    assert weights["prefecture_opinion"] == Decimal(2)
