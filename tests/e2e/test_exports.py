"""Exports of a campaign, on the running platform: its dossiers and its ranking as CSV, XLSX and
ODS, read back by the libraries and equal to the read model; filtered as the table is; for
MILDECA's agents and the auditors only."""

from decimal import Decimal
from typing import Any

import pytest

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.e2e.steps import Journey
from tests.e2e.tables import get
from tests.spreadsheets import READERS, from_csv, from_xlsx

pytestmark = pytest.mark.e2e

COLUMNS = [
    "reference",
    "dossier_id",
    "link",
    "applicant",
    "siren",
    "departement",
    "state",
    "eligible",
    "requested_eur",
    "opinion",
    "weighted_score",
    "proposed_eur",
    "outcome",
    "granted_eur",
    "submitted_at",
    "decided_at",
]


async def listed(platform: Platform, **filters: str) -> dict[str, dict[str, Any]]:
    """The campaign's dossiers as selection's JSON listing gives them, by reference."""
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        answer = (
            await get(
                platform, "/campaigns/demo/dossiers", per_page="200", page=str(page), **filters
            )
        ).json()
        found |= {d["reference"]: d for d in answer["dossiers"]}
        if len(found) >= answer["total"]:
            return found
        page += 1


@pytest.mark.parametrize("format", ["csv", "xlsx", "ods"])
async def test_a_campaigns_dossiers_export_equals_the_read_model_in_each_format(
    platform: Platform, format: str
):
    journey = await Journey(platform).file()
    await journey.checked()
    answer = await get(platform, f"/campaigns/demo/dossiers/export.{format}")
    assert answer.status_code == 200, answer.text
    assert f'filename="demo-dossiers.{format}"' in answer.headers["content-disposition"]
    header, *rows = READERS[format](answer.content)
    assert header == COLUMNS
    exported = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    expected = await listed(platform)
    assert exported.keys() == expected.keys()
    mine = exported[journey.reference]
    assert mine["dossier_id"] == journey.dossier_id
    assert mine["link"].endswith(f"/dossiers/{journey.dossier_id}")
    for reference, row in exported.items():
        want = expected[reference]
        assert (row["state"], row["departement"]) == (want["state"], want["departement"])
        assert Decimal(row["requested_eur"]) == Decimal(want["requested_eur"])


async def test_an_export_is_filtered_as_the_table_is(platform: Platform):
    journey = await Journey(platform).file()
    await journey.checked()
    await journey.opinion()
    await journey.assess("100000.00")
    await journey.seen("selection", lambda d: d["state"] == "assessed", "the assessment")
    answer = await get(
        platform, "/campaigns/demo/dossiers/export.csv", state="assessed", min_score="1"
    )
    header, *rows = from_csv(answer.content)
    exported = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert journey.reference in exported
    assert {r["state"] for r in exported.values()} == {"assessed"}
    assert all(Decimal(r["weighted_score"]) >= 1 for r in exported.values())
    assert exported.keys() == (await listed(platform, state="assessed")).keys() & exported.keys()


async def test_the_ranking_exports_best_score_first_as_decided(platform: Platform):
    ranking = (await get(platform, "/campaigns/demo/ranking")).json()["dossiers"]
    answer = await get(platform, "/campaigns/demo/ranking/export.xlsx")
    header, *rows = from_xlsx(answer.content)
    assert header[:3] == ["rank", "reference", "dossier_id"]
    assert [(r[1], int(Decimal(r[0]))) for r in rows] == [
        (d["reference"], d["rank"]) for d in ranking
    ]


async def test_only_mildecas_agents_and_the_auditors_export(platform: Platform):
    for role in (Role.applicant, Role.prefecture):
        answer = await get(platform, "/campaigns/demo/dossiers/export.csv", role)
        assert answer.status_code == 403
    assert (await get(platform, "/campaigns/demo/dossiers/export.pdf")).status_code == 422
