"""A campaign's payments exported by the payments service, on the running platform: one row per
entry of each dossier's plan, in the three formats, equal to payments' read model; as of an
instant, folded from payments' own events; a préfecture its département's only."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.e2e.steps import Journey
from tests.e2e.tables import get
from tests.helpers import wait_for
from tests.spreadsheets import read

pytestmark = pytest.mark.e2e

PATH = "/campaigns/demo/payments/export.{format}"
COLUMNS = [
    "reference",
    "dossier_id",
    "link",
    "siren",
    "departement",
    "committed_eur",
    "committed_at",
    "paid_total_eur",
    "remaining_eur",
    "instalment",
    "label",
    "due_on",
    "amount_eur",
    "status",
    "paid_eur",
    "paid_at",
    "balance_status",
    "balance_eur",
    "balance_settled_at",
    "final_report_submitted_at",
    "justified_spending_eur",
    "departmental_opinion",
]
TEXTS = ("reference", "siren", "departement", "label", "due_on", "status", "balance_status")
AMOUNTS = (
    "committed_eur",
    "paid_total_eur",
    "remaining_eur",
    "amount_eur",
    "paid_eur",
    "balance_eur",
)


async def exported(
    platform: Platform,
    format: str = "csv",
    role: Role = Role.auditor,
    bound_to: str = "59",
    **params: str,
) -> list[dict[str, str]]:
    path = PATH.format(format=format)
    answer = await get(platform, path, role, "payments", bound_to, **params)
    assert answer.status_code == 200, answer.text
    header, rows = read(format, answer.content)
    assert header == COLUMNS
    return rows


def of(rows: list[dict[str, str]], journey: Journey) -> list[dict[str, str]]:
    return [r for r in rows if r["dossier_id"] == journey.dossier_id]


def amount(cell: str) -> Decimal | None:
    return None if cell == "" else Decimal(cell)


def as_read(view: dict[str, Any]) -> list[dict[str, Any]]:
    """What each of the dossier's rows should say, from payments' JSON read of it."""
    status = view["balance"]["status"]

    def entry_status(p: dict[str, Any]) -> str:
        if p["paid"]:
            return "paid"
        return "withheld" if p["due_on"] == "balance" and status == "withheld" else "due"

    return [
        {
            "reference": view["reference"],
            "siren": view["siren"],
            "departement": view["departement"],
            "committed_eur": Decimal(view["committed_eur"]),
            "paid_total_eur": Decimal(view["paid_total_eur"]),
            "remaining_eur": Decimal(view["remaining_eur"]),
            "instalment": p["number"],
            "label": p["label"],
            "due_on": p["due_on"],
            "amount_eur": Decimal(p["amount_eur"]),
            "status": entry_status(p),
            "paid_eur": amount(p["paid_eur"] or ""),
            "balance_status": status,
            "balance_eur": Decimal(view["balance"]["amount_eur"]),
        }
        for p in view["plan"]
    ]


def as_exported(row: dict[str, str]) -> dict[str, Any]:
    texts = {k: row[k] for k in TEXTS}
    return (
        texts
        | {"instalment": int(Decimal(row["instalment"]))}
        | {k: amount(row[k]) for k in AMOUNTS}
    )


async def paid_advance(journey: Journey) -> None:
    await journey.command("payments", "/instalments", Role.instructor)
    await journey.seen("payments", lambda d: d["plan"][0]["paid"], "the advance paid")


@pytest.mark.parametrize("format", ["csv", "xlsx", "ods"])
async def test_a_campaigns_payments_export_equals_the_payments_read_model_in_each_format(
    platform: Platform, format: str
):
    journey = await Journey(platform).selected_and_signed("20000.00")
    await paid_advance(journey)
    rows = await exported(platform, format)
    assert [r["instalment"] for r in of(rows, journey)] != []
    by_dossier: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_dossier.setdefault(row["dossier_id"], []).append(row)
    assert [r["reference"] for r in rows] == sorted(r["reference"] for r in rows)
    for dossier_id, exported_rows in by_dossier.items():
        view = (await get(platform, f"/dossiers/{dossier_id}", service="payments")).json()
        assert [as_exported(r) for r in exported_rows] == as_read(view), dossier_id
        assert all(r["link"].endswith(f"/dossiers/{dossier_id}") for r in exported_rows)
    [advance, *rest] = of(rows, journey)
    assert (advance["status"], amount(advance["paid_eur"])) == ("paid", Decimal("10000.00"))
    assert sum(amount(r["paid_eur"]) or 0 for r in rest) == 0


async def test_a_payments_export_as_of_before_an_instalment_shows_it_due(platform: Platform):
    before_commitment = datetime.now(UTC)
    journey = await Journey(platform).selected_and_signed("20000.00")
    before = datetime.now(UTC)
    await paid_advance(journey)
    after = datetime.now(UTC)
    assert of(await exported(platform, as_of=before_commitment.isoformat()), journey) == []
    [advance, *_] = of(await exported(platform, "xlsx", as_of=before.isoformat()), journey)
    assert (advance["status"], advance["paid_eur"], advance["paid_at"]) == ("due", "", "")
    assert Decimal(advance["paid_total_eur"]) == 0
    [advance, *_] = of(await exported(platform, "ods", as_of=after.isoformat()), journey)
    assert (advance["status"], Decimal(advance["paid_eur"])) == ("paid", Decimal("10000.00"))
    assert Decimal(advance["paid_total_eur"]) == Decimal("10000.00")


async def test_a_payments_export_as_of_now_equals_the_live_export(platform: Platform):
    journey = await Journey(platform).selected_and_signed("20000.00")
    await paid_advance(journey)

    async def equal() -> Any:
        at = datetime.now(UTC)
        live, then = await exported(platform), await exported(platform, as_of=at.isoformat())
        return live == then and live

    live = await wait_for(equal, timeout=30, what="the payments as of now equal to the live")
    assert of(live, journey) != []


async def test_a_prefecture_exports_its_departements_payments_only(platform: Platform):
    journey = await Journey(platform).selected_and_signed("20000.00")
    assert journey.departement == "59"
    elsewhere = await exported(platform, role=Role.prefecture, bound_to="62")
    assert of(elsewhere, journey) == []
    asked = await exported(platform, role=Role.prefecture, bound_to="59", departement="62")
    assert of(asked, journey) != []
    assert {r["departement"] for r in asked} == {"59"}
    answer = await get(platform, PATH.format(format="csv"), Role.applicant, "payments")
    assert answer.status_code == 403
