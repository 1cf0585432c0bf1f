"""Re-ranking a campaign with other weights, on the running platform: the committee's stored
scores weighted again, beside the ranking as decided; nothing is recorded."""

from typing import Any

import httpx
import pytest

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.e2e.steps import Journey, scores
from tests.factories import random_siren
from tests.helpers import bearer

pytestmark = pytest.mark.e2e


async def assessed(platform: Platform, given: dict[str, int]) -> Journey:
    journey = await Journey(platform).file()
    await journey.checked()
    await journey.opinion()
    await journey.command(
        "selection",
        "/assessment",
        Role.instructor,
        {"scores": given, "proposed_eur": "100000.00", "comment": "Plan solide."},
    )
    await journey.seen("selection", lambda d: d.get("weighted_score"), "its assessment")
    return journey


async def reweighted(platform: Platform, role: Role, **weights: str) -> httpx.Response:
    binding = {"siren": random_siren()} if role is Role.applicant else {}
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(
            platform.url("selection", "/campaigns/demo/ranking/reweighted"),
            params=weights,
            headers=bearer(platform.settings, role, **binding),
        )


def place(ranking: dict[str, Any], journey: Journey) -> dict[str, Any]:
    [found] = [d for d in ranking["dossiers"] if d["dossier_id"] == journey.dossier_id]
    return found


async def test_a_campaign_re_ranked_with_other_weights_shows_each_move_and_records_nothing(
    platform: Platform,
):
    # decided with the campaign's weights (the préfecture's opinion weighs 2): favoured first
    favoured = await assessed(platform, scores(prefecture_opinion=5, innovation=2))
    innovative = await assessed(platform, scores(prefecture_opinion=3, innovation=5))
    before = {j.dossier_id: await j.events("selection") for j in (favoured, innovative)}
    answer = await reweighted(platform, Role.president, innovation="10")
    assert answer.status_code == 200, answer.text
    ranking = answer.json()
    assert ranking["weights"]["innovation"] == "10.00"
    assert ranking["decided_weights"]["prefecture_opinion"] == "2.00"
    f, i = place(ranking, favoured), place(ranking, innovative)
    assert f["decided_rank"] < i["decided_rank"] and i["rank"] < f["rank"]
    assert i["moved"] == i["decided_rank"] - i["rank"] > 0
    assert i["weighted_score"] != i["decided_weighted_score"]
    # the decided ranking and the stores are as they were
    assert {j.dossier_id: await j.events("selection") for j in (favoured, innovative)} == before
    async with httpx.AsyncClient() as client:
        decided = (
            await client.get(
                platform.url("selection", "/campaigns/demo/ranking"),
                headers=bearer(platform.settings, Role.auditor),
            )
        ).json()
    assert place(decided, favoured)["rank"] < place(decided, innovative)["rank"]


async def test_weights_out_of_bounds_or_unknown_are_refused_and_applicants_may_not_re_rank(
    platform: Platform,
):
    assert (await reweighted(platform, Role.instructor, innovation="-1")).status_code == 422
    assert (await reweighted(platform, Role.instructor, luck="3")).status_code == 422
    zero = dict.fromkeys(scores(), "0")
    refused = await reweighted(platform, Role.auditor, **zero)
    assert refused.status_code == 422 and "weights_all_zero" in refused.text
    assert (await reweighted(platform, Role.applicant)).status_code == 403
