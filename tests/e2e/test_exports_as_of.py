"""Exports as a campaign stood at an instant, on the running platform: folded from selection's
own events recorded by then, in the three formats, the same columns as the live export, and
equal to it as of now."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.conftest import Platform
from tests.e2e.steps import Journey
from tests.e2e.tables import get
from tests.helpers import wait_for
from tests.spreadsheets import read

pytestmark = pytest.mark.e2e

FORMATS = ("csv", "xlsx", "ods")


async def exported(
    platform: Platform, path: str, format: str = "csv", **params: str
) -> list[dict[str, str]]:
    answer = await get(platform, path.format(format=format), **params)
    assert answer.status_code == 200, answer.text
    return read(format, answer.content)[1]


def mine(rows: list[dict[str, str]], journey: Journey) -> dict[str, str] | None:
    return next((r for r in rows if r["dossier_id"] == journey.dossier_id), None)


async def settled(journey: Journey, state: str) -> datetime:
    """The instant just after selection's read model shows the dossier in `state`."""
    await journey.seen("selection", lambda d: d["state"] == state, state)
    return datetime.now(UTC)


async def test_an_export_as_of_before_a_decision_shows_none_and_after_it_shows_it(
    platform: Platform,
):
    journey = await Journey(platform).file()
    await journey.checked()
    await journey.opinion()
    await journey.assess("20000.00")
    before = await settled(journey, "assessed")
    await journey.decide("selected", "20000.00")
    after = await settled(journey, "selected")
    path = "/campaigns/demo/dossiers/export.{format}"
    for format in FORMATS:
        then = mine(await exported(platform, path, format, as_of=before.isoformat()), journey)
        assert then is not None, format
        assert (then["state"], then["outcome"], then["granted_eur"]) == ("assessed", "", "")
        assert Decimal(then["weighted_score"]) > 0
        now = mine(await exported(platform, path, format, as_of=after.isoformat()), journey)
        assert now is not None, format
        assert (now["state"], now["outcome"]) == ("selected", "selected")
        assert Decimal(now["granted_eur"]) == Decimal("20000.00")
        assert now["decided_at"] != ""


async def test_a_dossier_filed_after_the_instant_is_not_in_its_export(platform: Platform):
    before = datetime.now(UTC)
    journey = await Journey(platform).file()
    await journey.checked()
    path = "/campaigns/demo/dossiers/export.{format}"
    assert mine(await exported(platform, path, as_of=before.isoformat()), journey) is None
    assert mine(await exported(platform, path), journey) is not None


async def assessed_after_an_instant(platform: Platform) -> tuple[Journey, datetime, datetime]:
    """A dossier given its opinion, then assessed: instants before and after the assessment."""
    journey = await Journey(platform).file()
    await journey.checked()
    await journey.opinion()
    before = await settled(journey, "opinion_given")
    await journey.assess("90000.00")
    return journey, before, await settled(journey, "assessed")


async def test_an_export_as_of_filters_on_the_state_it_stood_in(platform: Platform):
    journey, before, _ = await assessed_after_an_instant(platform)
    path = "/campaigns/demo/dossiers/export.{format}"
    then = await exported(platform, path, as_of=before.isoformat(), state="opinion_given")
    assert mine(then, journey) is not None
    assert {r["state"] for r in then} == {"opinion_given"}
    assert (
        mine(await exported(platform, path, as_of=before.isoformat(), min_score="0"), journey)
        is None
    )


async def test_the_ranking_as_of_before_an_assessment_leaves_the_dossier_out(platform: Platform):
    journey, before, after = await assessed_after_an_instant(platform)
    path = "/campaigns/demo/ranking/export.{format}"
    assert mine(await exported(platform, path, "xlsx", as_of=before.isoformat()), journey) is None
    ranked = await exported(platform, path, "ods", as_of=after.isoformat())
    assert mine(ranked, journey) is not None
    assert [int(Decimal(r["rank"])) for r in ranked] == list(range(1, len(ranked) + 1))
    scores = [Decimal(r["weighted_score"]) for r in ranked]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    "path",
    ["/campaigns/demo/dossiers/export.{format}", "/campaigns/demo/ranking/export.{format}"],
)
async def test_an_export_as_of_now_equals_the_live_export(platform: Platform, path: str):
    journey = await Journey(platform).file()
    await journey.checked()
    await journey.opinion()
    await journey.assess("100000.00")
    await settled(journey, "assessed")

    async def both() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        at = datetime.now(UTC)
        return await exported(platform, path), await exported(platform, path, as_of=at.isoformat())

    async def equal() -> Any:
        live, then = await both()
        return live == then and (live, then)

    live, then = await wait_for(equal, timeout=30, what="the export as of now equal to the live")
    assert mine(live, journey) is not None
    assert then == live


@pytest.mark.parametrize(
    ("as_of", "kind"),
    [
        ("yesterday", "value_error"),
        ("2024-06-20T10:00:00", "timezone_aware"),
        ((datetime.now(UTC) + timedelta(days=1)).isoformat(), "instant_in_the_future"),
    ],
)
async def test_an_as_of_that_is_not_a_past_instant_with_its_offset_is_refused(
    platform: Platform, as_of: str, kind: str
):
    for path in ("/campaigns/demo/dossiers/export.csv", "/campaigns/demo/ranking/export.ods"):
        answer = await get(platform, path, as_of=as_of)
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["errors"]
        assert (error["field"], error["type"]) == ("as_of", kind)
