"""Regional dotations over selection's routes on the real PostgreSQL: computed once per id, read
back as JSON and as CSV, a refusal (a bad CSV line, a missing figure, a role) stores nothing."""

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.selection import api_dotations, main
from shared.audit.stores import verify_store
from shared.contracts.dotations import dotation_key, dotation_stream
from shared.kernel import db
from shared.kernel.auth import TokenVerifier
from shared.kernel.eventstore import read_stream
from shared.kernel.http import install_error_handlers
from shared.kernel.idempotency import IdempotentCommands
from shared.kernel.runtime import Runtime
from shared.kernel.settings import Settings
from shared.language.actors import Role
from shared.language.regions import REGIONS
from tests.helpers import bearer
from tests.spreadsheets import READERS

MARCH_2013 = datetime(2013, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
DATABASE = "selection_dotations"  # its own: no running service relays its outbox


@pytest.fixture(scope="module")
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    await db.provision(settings, DATABASE, main.spec().schema_sql)
    pool = await db.open_pool(settings, DATABASE, size=4)
    yield pool
    await pool.close()
    await db.drop_database(settings, DATABASE)


@pytest.fixture
async def client(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The dotations' routes over the test database, without Kafka."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(api_dotations.router)
    app.add_middleware(IdempotentCommands)
    app.state.verifier = TokenVerifier.from_settings(settings)
    app.state.runtime = Runtime(main.spec(), settings, clock=lambda: MARCH_2013, pool=pool)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://selection"
    ) as c:
        yield c


def figures() -> list[dict[str, str]]:
    """Young people per région; drug-law offences per région, Corsica's per département."""
    young = [
        {
            "criterion": "youth_population",
            "region": r.code,
            "value": str(10_000 * (i + 1)),
            "source": "INSEE, RP 2010, 15-24 ans",
        }
        for i, r in enumerate(REGIONS)
    ]
    offences = [
        {
            "criterion": "drug_offences",
            "region": r.code,
            "value": str(500 + 7 * i),
            "source": "SSMSI 2012, ILS",
        }
        for i, r in enumerate(REGIONS)
        if r.code != "94"
    ]
    corsica = [
        {"criterion": "drug_offences", "departement": d, "value": v, "source": "SSMSI 2012, ILS"}
        for d, v in (("2A", "130"), ("2B", "95"))
    ]
    return [*young, *offences, *corsica]


def dotation(**changes: Any) -> dict[str, Any]:
    body = {
        "id": f"prevention-2013-{uuid4().hex[:8]}",
        "title": "Dotations régionales de prévention 2013",
        "year": 2013,
        "envelope_eur": "3500000.00",
        "weights": {"departements": "1", "youth_population": "2", "drug_offences": "1"},
        "figures": figures(),
    }
    return {**body, **changes}


async def events_of(pool: asyncpg.Pool, dotation_id: str) -> list[str]:
    async with pool.acquire() as conn:
        return [s.event_type for s in await read_stream(conn, dotation_stream(dotation_id))]


async def test_a_dotation_is_recorded_in_its_stream_and_reads_back_with_its_parts(
    client, pool, settings
):
    body = dotation()
    answer = await client.post("/dotations", json=body, headers=bearer(settings, Role.president))
    assert answer.status_code == 201, answer.text
    [recorded] = answer.json()["recorded"]
    assert recorded["type"] == "DotationComputed"
    assert await events_of(pool, body["id"]) == ["fr.gouv.mildeca.aap.DotationComputed.v1"]
    async with pool.acquire() as conn:  # keyed on the topic by the dotation's own UUID
        keys = await conn.fetch(
            "SELECT key FROM outbox WHERE key = $1", str(dotation_key(body["id"]))
        )
    assert len(keys) == 1

    read = await client.get(f"/dotations/{body['id']}", headers=bearer(settings, Role.auditor))
    assert read.status_code == 200, read.text
    result = read.json()
    assert sum(Decimal(p["amount_eur"]) for p in result["parts"]) == Decimal("3500000.00")
    assert [p["region"] for p in result["parts"]] == [r.code for r in REGIONS]
    corsica = next(p for p in result["parts"] if p["region"] == "94")
    assert {c["criterion"]: c["value"] for c in corsica["criteria"]} == {
        "departements": "2",
        "youth_population": "180000",
        "drug_offences": "225",
    }
    assert result["figures"][-1]["source"] == "SSMSI 2012, ILS"
    assert result["computed_by"].startswith("president:")
    assert await verify_store(pool, "selection") == []  # its chain checks as a dossier's does


async def test_the_csv_export_parsed_back_equals_the_parts(client, settings):
    body = dotation(weights={"departements": "1", "youth_population": "3"})
    headers = bearer(settings, Role.instructor)
    assert (await client.post("/dotations", json=body, headers=headers)).status_code == 201

    result = (await client.get(f"/dotations/{body['id']}", headers=headers)).json()
    export = await client.get(f"/dotations/{body['id']}/export.csv", headers=headers)
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert list(rows[0]) == list(api_dotations.EXPORT_COLUMNS)
    expected = [
        {
            "code": p["region"],
            "name": p["name"],
            "amount_eur": p["amount_eur"],
            "share": p["share"],
            "share_departements": p["criteria"][0]["share"],
            "share_youth_population": p["criteria"][1]["share"],
            "share_youth_consumption": "",
            "share_drug_offences": "",
        }
        for p in result["parts"]
    ]
    assert rows == expected
    assert sum(Decimal(r["amount_eur"]) for r in rows) == Decimal("3500000.00")


@pytest.mark.parametrize("format", ["xlsx", "ods"])
async def test_the_spreadsheet_exports_read_back_equal_the_csv_export(client, settings, format):
    body = dotation(weights={"departements": "1", "youth_population": "3"})
    headers = bearer(settings, Role.auditor)
    instructor = bearer(settings, Role.instructor)
    assert (await client.post("/dotations", json=body, headers=instructor)).status_code == 201

    as_csv = await client.get(f"/dotations/{body['id']}/export.csv", headers=headers)
    sheet = await client.get(f"/dotations/{body['id']}/export.{format}", headers=headers)
    assert sheet.status_code == 200, sheet.text
    assert f'filename="dotation-{body["id"]}.{format}"' in sheet.headers["content-disposition"]
    header, *rows = READERS[format](sheet.content)
    assert header == list(api_dotations.EXPORT_COLUMNS)
    _, *csv_rows = READERS["csv"](as_csv.content)
    assert [r[:2] for r in rows] == [r[:2] for r in csv_rows]  # codes and names, in order
    for row, written in zip(rows, csv_rows, strict=True):
        assert [Decimal(c) if c else None for c in row[2:]] == [
            Decimal(c) if c else None for c in written[2:]
        ]


async def test_a_dotation_is_computed_once_per_id(client, pool, settings):
    body = dotation()
    headers = bearer(settings, Role.instructor)
    assert (await client.post("/dotations", json=body, headers=headers)).status_code == 201
    again = await client.post(
        "/dotations", json=dotation(id=body["id"], envelope_eur="1.00"), headers=headers
    )
    assert again.status_code == 409, again.text
    assert again.json()["reason"] == "DotationAlreadyComputed"
    assert len(await events_of(pool, body["id"])) == 1


async def test_a_retried_post_with_its_idempotency_key_records_nothing_twice(
    client, pool, settings
):
    body = dotation()
    headers = {**bearer(settings, Role.president), "Idempotency-Key": str(uuid4())}
    first = await client.post("/dotations", json=body, headers=headers)
    retried = await client.post("/dotations", json=body, headers=headers)
    assert (first.status_code, retried.status_code) == (201, 201)
    assert retried.json() == first.json()
    assert len(await events_of(pool, body["id"])) == 1


def figures_csv(lines: list[dict[str, str]]) -> str:
    out = ["criterion;code;value;source"]
    for f in lines:
        code = f"R{f['region']}" if "region" in f else f["departement"]
        out.append(f"{f['criterion']};{code};{f['value'].replace('.', ',')};{f['source']}")
    return "\n".join(out) + "\n"


def form(body: dict[str, Any]) -> dict[str, str]:
    fields = {k: str(body[k]) for k in ("id", "title", "year", "envelope_eur")}
    return fields | {f"weights.{k}": v for k, v in body["weights"].items()}


async def test_a_dotation_is_computed_from_an_uploaded_csv_of_figures(client, pool, settings):
    body = dotation()
    from_json = dotation()
    headers = bearer(settings, Role.instructor)
    answer = await client.post(
        "/dotations/upload",
        data=form(body),
        files={"figures": ("chiffres.csv", figures_csv(body["figures"]).encode(), "text/csv")},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    assert (await client.post("/dotations", json=from_json, headers=headers)).status_code == 201
    by_csv = (await client.get(f"/dotations/{body['id']}", headers=headers)).json()
    by_json = (await client.get(f"/dotations/{from_json['id']}", headers=headers)).json()
    assert by_csv["parts"] == by_json["parts"]
    assert by_csv["figures"] == by_json["figures"]


async def test_a_bad_csv_line_is_refused_naming_its_line_and_column_and_stores_nothing(
    client, pool, settings
):
    body = dotation()
    lines = figures_csv(body["figures"]).splitlines()
    lines[4] = "youth_population;R24;douze;INSEE"
    answer = await client.post(
        "/dotations/upload",
        data=form(body),
        files={"figures": ("chiffres.csv", "\n".join(lines).encode(), "text/csv")},
        headers=bearer(settings, Role.president),
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["field"], error["context"]) == ("figures", {"line": 5, "column": "value"})
    assert error["reason"].startswith("line 5, column value: ")
    assert await events_of(pool, body["id"]) == []
    missing = await client.get(f"/dotations/{body['id']}", headers=bearer(settings, Role.auditor))
    assert missing.status_code == 404


async def test_a_figure_given_twice_in_a_csv_is_refused_on_its_line(client, pool, settings):
    body = dotation()
    text = figures_csv(body["figures"]) + "youth_population;R84;1;INSEE\n"
    answer = await client.post(
        "/dotations/upload",
        data=form(body),
        files={"figures": ("chiffres.csv", text.encode(), "text/csv")},
        headers=bearer(settings, Role.president),
    )
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["type"], error["context"]) == ("figure_duplicate", {"line": 39})
    assert await events_of(pool, body["id"]) == []


async def test_a_region_without_a_figure_is_refused_naming_the_criterion_and_the_region(
    client, pool, settings
):
    body = dotation()
    body["figures"] = [f for f in body["figures"] if f.get("region") != "53"]
    answer = await client.post("/dotations", json=body, headers=bearer(settings, Role.president))
    assert answer.status_code == 422, answer.text
    assert [(e["type"], e["context"]) for e in answer.json()["errors"]] == [
        ("figure_missing", {"criterion": "youth_population", "region": "53"}),
        ("figure_missing", {"criterion": "drug_offences", "region": "53"}),
    ]
    assert await events_of(pool, body["id"]) == []


async def test_a_bad_envelope_is_refused_naming_the_field(client, pool, settings):
    body = dotation(envelope_eur="12.345")
    answer = await client.post("/dotations", json=body, headers=bearer(settings, Role.president))
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["envelope_eur"]
    assert await events_of(pool, body["id"]) == []


async def test_only_mildeca_computes_and_only_mildeca_and_the_auditors_read(client, pool, settings):
    body = dotation()
    refused = await client.post("/dotations", json=body, headers=bearer(settings, Role.auditor))
    assert refused.status_code == 403
    assert await events_of(pool, body["id"]) == []
    headers = bearer(settings, Role.instructor)
    assert (await client.post("/dotations", json=body, headers=headers)).status_code == 201
    prefecture = bearer(settings, Role.prefecture, departement="59")
    for path in (f"/dotations/{body['id']}", f"/dotations/{body['id']}/export.csv"):
        assert (await client.get(path, headers=prefecture)).status_code == 403
