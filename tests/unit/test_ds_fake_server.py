"""The local Démarches Simplifiées (tests/fakes/ds) answers as DS does (docs/ds-bridge.md §1, §4).

The app runs in-process (httpx.ASGITransport), under uvicorn in a thread for the dropped
connection, and as a process once, to check the line it prints when ready.
"""

import base64
import hashlib
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from shared.language.referentials import DEPARTEMENTS, siren_is_valid
from tests.fakes.ds import fixtures
from tests.fakes.ds.server import create_app, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (ROOT / "services/applications/ds/documents.graphql").read_text()
MAPPING = json.loads((ROOT / "shared/language/ds/mildeca-2024.json").read_text())
READ = "ds-read-token"
WRITE = "ds-write-token"
EPOCH = "1970-01-01T00:00:00Z"
DEMARCHE = fixtures.DEMARCHE_NUMBER


@lru_cache(maxsize=1)
def two_hundred_fifty() -> fixtures.Demarche:
    """Built once: the read-only tests share it (the app never changes what it is given
    unless a test mutates, and those build their own)."""
    return fixtures.build_demarche(count=250)


@pytest.fixture
def shared_app() -> Starlette:
    return create_app(two_hundred_fifty())


@pytest.fixture
def app() -> Starlette:
    """A small démarche of its own, for the tests that change it."""
    return create_app(fixtures.build_demarche(count=12, seed=7))


@asynccontextmanager
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ds.test") as c:
        yield c


async def post(
    c: httpx.AsyncClient, operation: str, variables: dict[str, Any], token: str | None = READ
) -> httpx.Response:
    """One of aap's documents, by its operation name, as aap's client sends it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": DOCUMENTS, "operationName": operation, "variables": variables}
    return await c.post("/api/v2/graphql", json=body, headers=headers)


async def page(
    c: httpx.AsyncClient, after: str | None = None, since: str | None = EPOCH, first: int = 100
) -> dict[str, Any]:
    variables = {"demarche": DEMARCHE, "first": first, "after": after, "updatedSince": since}
    answer = (await post(c, "DemarcheDossiers", variables)).json()
    assert "errors" not in answer, answer
    return answer["data"]["demarche"]["dossiers"]


async def one(c: httpx.AsyncClient, number: int) -> dict[str, Any]:
    answer = (await post(c, "OneDossier", {"number": number})).json()
    assert "errors" not in answer, answer
    return answer["data"]["dossier"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def champ_of(dossier: dict[str, Any], champ_id: str) -> dict[str, Any]:
    return next(c for c in dossier["champs"] if c["id"] == champ_id)


def ids_the_mapping_names(source: Any = MAPPING) -> set[str]:
    """Every `champ` id anywhere in the mapping: fields, fallbacks, rows, attachments."""
    found: set[str] = set()
    if isinstance(source, dict):
        if isinstance(source.get("champ"), str):
            found.add(source["champ"])
        for value in source.values():
            found |= ids_the_mapping_names(value)
    elif isinstance(source, list):
        for value in source:
            found |= ids_the_mapping_names(value)
    return found


def first_number(app: Starlette) -> int:
    return min(app.state.ds.store.dossiers)


# --- reading: pages, order, cursors ---------------------------------------------------------------


async def test_the_importers_query_pages_through_every_dossier_with_cursors(shared_app):
    numbers: list[int] = []
    after = None
    async with client(shared_app) as c:
        while True:
            connection = await page(c, after)
            numbers += [node["number"] for node in connection["nodes"]]
            if not connection["pageInfo"]["hasNextPage"]:
                break
            after = connection["pageInfo"]["endCursor"]
    assert len(numbers) == len(set(numbers)) == 250
    assert set(numbers) == set(range(20240001, 20240251))


async def test_a_page_holds_at_most_one_hundred_dossiers(shared_app):
    async with client(shared_app) as c:
        connection = await page(c, first=500)
    assert len(connection["nodes"]) == 100
    assert connection["pageInfo"]["hasNextPage"] is True


async def test_with_updated_since_dossiers_come_by_modification_then_id(shared_app):
    async with client(shared_app) as c:
        first = await page(c)
        nodes = first["nodes"] + (await page(c, first["pageInfo"]["endCursor"]))["nodes"]
    keys = [(moment(n["dateDerniereModification"]), n["number"]) for n in nodes]
    assert keys == sorted(keys)


async def test_without_updated_since_dossiers_come_by_date_depot(shared_app):
    async with client(shared_app) as c:
        nodes = (await page(c, since=None))["nodes"]
    keys = [(moment(n["dateDepot"]), n["number"]) for n in nodes]
    assert keys == sorted(keys)
    assert [n["number"] for n in nodes] != sorted(n["number"] for n in nodes)


async def test_updated_since_filters_inclusively(shared_app):
    dossiers = two_hundred_fifty().dossiers
    pivot = sorted(d["dateDerniereModification"] for d in dossiers)[200]
    expected = {
        d["number"] for d in dossiers if moment(d["dateDerniereModification"]) >= moment(pivot)
    }
    async with client(shared_app) as c:
        nodes = (await page(c, since=pivot))["nodes"]
    assert {n["number"] for n in nodes} == expected
    assert pivot in {n["dateDerniereModification"] for n in nodes}


async def test_a_saved_end_cursor_survives_a_restart(shared_app):
    async with client(shared_app) as c:
        first = await page(c)
        second = await page(c, first["pageInfo"]["endCursor"])
    restarted = create_app(fixtures.build_demarche(count=250))
    async with client(restarted) as c:
        again = await page(c, first["pageInfo"]["endCursor"])
    assert [n["number"] for n in again["nodes"]] == [n["number"] for n in second["nodes"]]


async def test_a_cursor_is_base64_of_timestamp_and_id(shared_app):
    async with client(shared_app) as c:
        connection = await page(c, first=1)
    stamp, number = base64.b64decode(connection["pageInfo"]["endCursor"]).decode().split(";")
    assert int(number) == connection["nodes"][0]["number"]
    assert moment(stamp.replace("Z", "+00:00")) == moment(
        connection["nodes"][0]["dateDerniereModification"]
    )


async def test_big_ints_and_decimals_travel_as_ds_sends_them(shared_app):
    async with client(shared_app) as c:
        node = (await page(c, first=1))["nodes"][0]
    duration = champ_of(node, fixtures.DURATION)
    assert duration["integer"] == duration["stringValue"] and 24 <= int(duration["integer"]) <= 36
    total = champ_of(node, fixtures.TOTAL_COST)
    assert re.fullmatch(r"\d+(\.\d{2})?", total["stringValue"])
    assert total["decimal"] == float(total["stringValue"])
    files = champ_of(node, fixtures.ATTACHMENTS["deliberation"])["files"]
    assert isinstance(files[0]["byteSize"], str) and int(files[0]["byteSize"]) > 0


async def test_a_file_url_serves_bytes_whose_base64_md5_is_the_checksum(shared_app):
    async with client(shared_app) as c:
        node = (await page(c, first=1))["nodes"][0]
        file = champ_of(node, fixtures.ATTACHMENTS["budget"])["files"][0]
        assert file["url"].startswith("http://ds.test/files/")
        served = await c.get(file["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == file["contentType"] == "application/pdf"
    assert served.content.startswith(b"%PDF-1.4\n")
    assert base64.b64encode(hashlib.md5(served.content).digest()).decode() == file["checksum"]
    assert len(served.content) == int(file["byteSize"])
    assert file["virusScanResult"] == "safe"


async def test_an_expired_file_url_answers_403(app):
    async with client(app) as c:
        node = await one(c, first_number(app))
        file = champ_of(node, fixtures.ATTACHMENTS["bank_details"])["files"][0]
        key = file["url"].rsplit("/", 1)[1]
        await c.post(f"/_fake/files/{key}", json={"expired": True, "virusScanResult": "pending"})
        assert (await c.get(file["url"])).status_code == 403
        again = champ_of(await one(c, first_number(app)), fixtures.ATTACHMENTS["bank_details"])
    assert again["files"][0]["virusScanResult"] == "pending"


async def test_describe_gives_the_form_and_the_instructeur(shared_app):
    async with client(shared_app) as c:
        answer = (await post(c, "DescribeDemarche", {"demarche": DEMARCHE})).json()
    demarche = answer["data"]["demarche"]
    assert demarche["title"] == fixtures.DEMARCHE_TITLE and demarche["state"] == "publiee"
    descriptors = {d["id"]: d for d in demarche["activeRevision"]["champDescriptors"]}
    budget = descriptors[fixtures.BUDGET]
    assert budget["__typename"] == "RepetitionChampDescriptor"
    assert [d["label"] for d in budget["champDescriptors"]][:2] == ["Année", "Nature de la dépense"]
    instructeurs = demarche["groupeInstructeurs"][0]["instructeurs"]
    assert instructeurs == [{"id": fixtures.INSTRUCTEUR_ID, "email": MAPPING["instructeur_email"]}]


async def test_an_unknown_demarche_is_a_not_found_error(shared_app):
    async with client(shared_app) as c:
        answer = (await post(c, "DescribeDemarche", {"demarche": 1})).json()
    assert answer["errors"][0]["extensions"]["code"] == "not_found"


# --- refusals --------------------------------------------------------------------------------


async def test_an_invalid_document_is_refused_with_a_validation_error(shared_app):
    query = "query { demarche(number: 104857) { dossiers { nodes { nope } } } }"
    async with client(shared_app) as c:
        answer = await c.post(
            "/api/v2/graphql", json={"query": query}, headers={"Authorization": f"Bearer {READ}"}
        )
    assert answer.status_code == 200
    assert "data" not in answer.json() or answer.json()["data"] is None
    assert "Cannot query field 'nope' on type 'Dossier'" in answer.json()["errors"][0]["message"]


@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_an_unknown_or_missing_token_is_a_403_json(shared_app, token):
    async with client(shared_app) as c:
        answer = await post(c, "DemarcheDossiers", {"demarche": DEMARCHE, "first": 1}, token)
    assert answer.status_code == 403
    assert answer.json() == {
        "errors": [{"message": "Without a token, only persisted queries are allowed"}],
        "data": None,
    }


async def test_every_nth_request_is_a_429_in_plain_text_with_retry_after(app):
    async with client(app) as c:
        await c.post("/_fake/faults", json={"rate_limit_every": 3, "retry_after": 2})
        statuses = [(await post(c, "OneDossier", {"number": first_number(app)})) for _ in range(6)]
        stats = (await c.get("/_fake/stats")).json()
    assert [a.status_code for a in statuses] == [200, 200, 429, 200, 200, 429]
    refused = statuses[2]
    assert refused.text.startswith("Calme toi, cowboy !")
    assert refused.headers["content-type"].startswith("text/plain")
    assert refused.headers["Retry-After"] == "2" and refused.headers["RateLimit-Reset"] == "2"
    assert stats["rate_limited"] == 2


async def test_a_timeout_fault_answers_ds_timeout_error_to_queries_only(app):
    async with client(app) as c:
        await c.post("/_fake/faults", json={"timeout_next": 1})
        timed_out = (await post(c, "OneDossier", {"number": first_number(app)})).json()
        fine = (await post(c, "OneDossier", {"number": first_number(app)})).json()
    assert timed_out == {
        "errors": [{"message": "Timeout on validation of query", "extensions": {"code": "timeout"}}]
    }
    assert fine["data"]["dossier"]["number"] == first_number(app)


async def test_an_error_fault_answers_500(app):
    async with client(app) as c:
        await c.post("/_fake/faults", json={"error_next": 1})
        assert (await post(c, "OneDossier", {"number": first_number(app)})).status_code == 500
        assert (await post(c, "OneDossier", {"number": first_number(app)})).status_code == 200


def test_a_dropped_connection_is_a_transport_error_to_the_client(app):
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as c:
        c.post("/_fake/faults", json={"drop_next": 1})
        body = {"query": "{ demarche(number: 104857) { number } }"}
        headers = {"Authorization": f"Bearer {READ}"}
        with pytest.raises(httpx.TransportError):
            c.post("/api/v2/graphql", json=body, headers=headers)
        answer = c.post("/api/v2/graphql", json=body, headers=headers)
    assert answer.json() == {"data": {"demarche": {"number": DEMARCHE}}}


# --- mutations ----------------------------------------------------------------------------------


def decision(app: Starlette, number: int, **more: Any) -> dict[str, Any]:
    dossier = app.state.ds.store.dossiers[number]
    return {"input": {"dossierId": dossier["id"], "instructeurId": fixtures.INSTRUCTEUR_ID} | more}


def number_in(app: Starlette, state: str) -> int:
    store = app.state.ds.store
    return min(n for n, d in store.dossiers.items() if d["state"] == state)


async def recorded(c: httpx.AsyncClient) -> list[dict[str, Any]]:
    return (await c.get("/_fake/mutations")).json()["mutations"]


async def test_accepter_on_en_construction_is_refused_with_ds_text_and_recorded(app):
    number = number_in(app, "en_construction")
    async with client(app) as c:
        answer = await post(c, "Accepter", decision(app, number, motivation="Oui"), WRITE)
        log = await recorded(c)
    assert answer.status_code == 200
    payload = answer.json()["data"]["dossierAccepter"]
    assert payload == {
        "dossier": None,
        "errors": [{"message": "Le dossier est déjà en construction"}],
    }
    assert [(e["mutation"], e["dossier"], e["ok"]) for e in log] == [
        ("dossierAccepter", number, False)
    ]
    assert log[0]["errors"] == ["Le dossier est déjà en construction"]


async def test_a_mutation_with_the_read_only_token_is_refused_and_recorded(app):
    number = number_in(app, "en_construction")
    async with client(app) as c:
        answer = (await post(c, "PasserEnInstruction", decision(app, number), READ)).json()
        log = await recorded(c)
    assert answer["data"]["dossierPasserEnInstruction"] == {
        "dossier": None,
        "errors": [{"message": "Le jeton utilisé est configuré seulement en lecture"}],
    }
    assert log[0]["token"] == "read" and log[0]["ok"] is False
    assert app.state.ds.store.dossiers[number]["state"] == "en_construction"


async def test_an_instructeur_without_access_is_refused(app):
    variables = decision(app, number_in(app, "en_construction"))
    variables["input"]["instructeurId"] = fixtures.gid("Profile", 99)
    async with client(app) as c:
        answer = (await post(c, "PasserEnInstruction", variables, WRITE)).json()
    errors = answer["data"]["dossierPasserEnInstruction"]["errors"]
    assert errors == [{"message": "L’instructeur n’a pas les droits d’accès à ce dossier"}]


async def test_instruction_then_acceptance_moves_the_state_and_only_the_modification_date(app):
    number = number_in(app, "en_construction")
    before = dict(app.state.ds.store.dossiers[number])
    async with client(app) as c:
        passed = (await post(c, "PasserEnInstruction", decision(app, number), WRITE)).json()
        accepted = await post(c, "Accepter", decision(app, number, motivation="Retenu"), WRITE)
        again = await post(c, "Accepter", decision(app, number, motivation="Retenu"), WRITE)
        dossier = await one(c, number)
        log = await recorded(c)
    assert passed["data"]["dossierPasserEnInstruction"]["dossier"]["state"] == "en_instruction"
    assert accepted.json()["data"]["dossierAccepter"]["dossier"]["state"] == "accepte"
    assert again.json()["data"]["dossierAccepter"]["errors"] == [
        {"message": "Le dossier est déjà accepté"}
    ]
    assert dossier["state"] == "accepte" and dossier["motivation"] == "Retenu"
    assert dossier["dateTraitement"] is not None
    assert [t["state"] for t in dossier["traitements"]][-2:] == ["en_instruction", "accepte"]
    assert moment(dossier["dateDerniereModification"]) > moment(before["dateDerniereModification"])
    assert dossier["dateDerniereModificationChamps"] == before["dateDerniereModificationChamps"]
    assert [e["ok"] for e in log] == [True, True, False]


async def test_refuser_and_classer_sans_suite_need_en_instruction(app):
    number = number_in(app, "en_instruction")
    async with client(app) as c:
        refused = (await post(c, "Refuser", decision(app, number, motivation="Non"), WRITE)).json()
        closed = (
            await post(c, "ClasserSansSuite", decision(app, number, motivation="Clos"), WRITE)
        ).json()
    assert refused["data"]["dossierRefuser"]["dossier"]["state"] == "refuse"
    assert closed["data"]["dossierClasserSansSuite"]["errors"] == [
        {"message": "Le dossier est déjà refusé"}
    ]


async def test_a_correction_message_puts_the_dossier_back_en_construction(app):
    number = number_in(app, "en_instruction")
    variables = decision(app, number, body="Merci de corriger le budget.", correction="incorrect")
    async with client(app) as c:
        sent = (await post(c, "EnvoyerMessage", variables, WRITE)).json()
        dossier = await one(c, number)
        blocked = (await post(c, "PasserEnInstruction", decision(app, number), WRITE)).json()
    message = sent["data"]["dossierEnvoyerMessage"]["message"]
    assert message["body"] == "Merci de corriger le budget."
    assert dossier["state"] == "en_construction"
    assert dossier["messages"][-1]["email"] == fixtures.INSTRUCTEUR_EMAIL
    assert blocked["data"]["dossierPasserEnInstruction"]["errors"] == [
        {"message": "Le dossier est en attente de correction"}
    ]


async def test_annotations_are_stored(app):
    number = number_in(app, "en_construction")
    changes = [{"id": fixtures.ANNOTATION_REFERENCE, "value": {"text": "AAP-2024-0001"}}]
    async with client(app) as c:
        answer = (
            await post(c, "ModifierAnnotations", decision(app, number, annotations=changes), WRITE)
        ).json()
    assert answer["data"]["dossierModifierAnnotations"]["errors"] is None
    stored = app.state.ds.store.dossiers[number]["annotations"][0]
    assert (
        stored["id"] == fixtures.ANNOTATION_REFERENCE and stored["stringValue"] == "AAP-2024-0001"
    )


async def test_a_mutation_hit_by_a_fault_is_recorded_as_not_executed(app):
    number = number_in(app, "en_construction")
    async with client(app) as c:
        await c.post("/_fake/faults", json={"error_next": 1})
        await post(c, "PasserEnInstruction", decision(app, number), WRITE)
        log = await recorded(c)
        await c.delete("/_fake/mutations")
        assert await recorded(c) == []
    assert log[0] | {"at": None, "seq": None} == {
        "at": None,
        "seq": None,
        "mutation": "dossierPasserEnInstruction",
        "input": decision(app, number)["input"],
        "token": "write",
        "executed": False,
        "fault": "error_500",
        "dossier": number,
        "ok": False,
        "errors": [],
    }


# --- the commune's side: changes, deletions, new filings ------------------------------------------


async def test_a_champ_change_bumps_both_modification_dates(app):
    number = first_number(app)
    async with client(app) as c:
        before = await one(c, number)
        changed = await c.post(
            f"/_fake/dossiers/{number}/champs",
            json={fixtures.PROJECT_TITLE: "Un titre corrigé", fixtures.TOTAL_COST: "99000.50"},
        )
        after = await one(c, number)
        since = (await page(c, since=before["dateDerniereModification"]))["nodes"]
    assert changed.status_code == 200
    assert champ_of(after, fixtures.PROJECT_TITLE)["stringValue"] == "Un titre corrigé"
    assert champ_of(after, fixtures.TOTAL_COST)["decimal"] == 99000.5
    for key in ("dateDerniereModification", "dateDerniereModificationChamps"):
        assert moment(after[key]) > moment(before[key])
    assert after["dateDerniereModification"] == after["dateDerniereModificationChamps"]
    assert since[-1]["number"] == number


async def test_deleted_dossiers_leave_the_list_for_deleted_dossiers(app):
    gone, hidden = sorted(app.state.ds.store.dossiers)[:2]
    async with client(app) as c:
        await c.post(f"/_fake/dossiers/{gone}/delete", json={"reason": "user_request"})
        await c.post(f"/_fake/dossiers/{hidden}/delete", json={"reason": "expired", "pending": 1})
        listed = {n["number"] for n in (await page(c))["nodes"]}
        variables = {"demarche": DEMARCHE, "first": 10, "deletedSince": EPOCH}
        deleted = (await post(c, "DeletedDossiers", variables)).json()
    assert gone not in listed and hidden not in listed
    nodes = deleted["data"]["demarche"]["deletedDossiers"]["nodes"]
    assert [(n["number"], n["reason"]) for n in nodes] == [(gone, "user_request")]


async def test_a_brouillon_is_not_listed(app):
    number = first_number(app)
    async with client(app) as c:
        await c.post(f"/_fake/dossiers/{number}/state", json={"state": "brouillon"})
        listed = {n["number"] for n in (await page(c))["nodes"]}
    assert number not in listed and len(listed) == 11


async def test_new_filings_come_after_the_others_and_a_given_dossier_is_served_as_given(app):
    spoiled = fixtures.unmappable(fixtures.build_dossier(20249999).dossier, "amount_three_decimals")
    async with client(app) as c:
        added = (await c.post("/_fake/dossiers", json={"count": 2})).json()["numbers"]
        await c.post("/_fake/dossiers", json={"dossier": spoiled})
        numbers = [n["number"] for n in (await page(c))["nodes"]]
        served = await one(c, 20249999)
    assert added == [20240013, 20240014] and numbers[-2:] == added
    budget = champ_of(served, fixtures.BUDGET)
    assert budget["rows"][0]["champs"][3]["stringValue"] == "1200.505"


# --- the fixtures -------------------------------------------------------------------------------


def test_fixture_sirets_pass_luhn_and_their_sirens_are_valid():
    for dossier in two_hundred_fifty().dossiers:
        demandeur = dossier["demandeur"]
        assert re.fullmatch(r"\d{14}", demandeur["siret"])
        assert fixtures.luhn_is_valid(demandeur["siret"])
        assert siren_is_valid(demandeur["siret"][:9])
        assert demandeur["entreprise"]["siren"] == demandeur["siret"][:9]
        address = demandeur["address"]
        assert address["departmentCode"] in DEPARTEMENTS
        assert address["cityCode"].startswith(address["departmentCode"])


def test_every_fixture_champ_uses_an_id_the_mapping_names():
    named = ids_the_mapping_names()
    required = {
        source["champ"]
        for source in MAPPING["fields"].values()
        if "champ" in source and not source.get("optional")
    } | {a["champ"] for a in MAPPING["attachments"] if a["required"]}
    for dossier in two_hundred_fifty().dossiers:
        ids = {c["champDescriptorId"] for c in fixtures.all_champs(dossier)}
        assert ids <= named | fixtures.UNMAPPED_CHAMP_IDS
        assert required <= ids
        assert all(c["id"] == c["champDescriptorId"] for c in dossier["champs"])


_CONVERTERS = {
    "text": {"TextChampDescriptor", "TextareaChampDescriptor"},
    "email": {"EmailChampDescriptor"},
    "choice": {"DropDownListChampDescriptor"},
    "choices": {"MultipleDropDownListChampDescriptor"},
    "integer": {"IntegerNumberChampDescriptor"},
    "euros": {"DecimalNumberChampDescriptor"},
    "boolean": {"CheckboxChampDescriptor"},
}


def _sources(sources: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for source in sources.values():
        if "champ" in source:
            yield source
        if "else" in source:
            yield source["else"]
        yield from _sources(source.get("rows", {}))


def test_the_form_has_the_mappings_ids_labels_types_and_options():
    descriptors = fixtures.descriptors_by_id()
    for source in _sources(MAPPING["fields"]):
        descriptor = descriptors[source["champ"]]
        assert descriptor.label == source["label"]
        if "rows" in source:
            assert descriptor.typename == "RepetitionChampDescriptor"
        else:
            assert descriptor.typename in _CONVERTERS[source["as"]], source
        if "values" in source:
            assert list(descriptor.options or ()) == list(source["values"])
    for attachment in MAPPING["attachments"]:
        descriptor = descriptors[attachment["champ"]]
        assert descriptor.typename == "PieceJustificativeChampDescriptor"
        assert (descriptor.label, descriptor.required) == (
            attachment["label"],
            attachment["required"],
        )
    annotations = {d.id for d in fixtures.ANNOTATION_FORM}
    assert set(MAPPING["annotations"].values()) == annotations


def test_fixture_budgets_add_up_and_requests_stay_under_80_percent_and_the_cap():
    for dossier in two_hundred_fifty().dossiers:
        budget = champ_of(dossier, fixtures.BUDGET)
        amounts = [
            c["stringValue"] for r in budget["rows"] for c in r["champs"] if "€" in c["label"]
        ]
        assert 2 <= len(amounts) <= 6
        assert all(re.fullmatch(r"\d+(\.\d{2})?", amount) for amount in amounts)
        total = Decimal(champ_of(dossier, fixtures.TOTAL_COST)["stringValue"])
        assert sum(map(Decimal, amounts)) == total
        requested = Decimal(champ_of(dossier, fixtures.REQUESTED)["stringValue"])
        assert requested <= total * Decimal("0.8") and requested <= 240000


def test_fixture_dates_are_in_the_filing_window_and_move_forwards():
    for dossier in two_hundred_fifty().dossiers:
        depot = moment(dossier["dateDepot"])
        assert fixtures.FILED_FROM <= depot <= fixtures.FILED_UNTIL
        assert moment(dossier["dateDerniereModificationChamps"]) >= depot
        assert moment(dossier["dateDerniereModification"]) >= moment(
            dossier["dateDerniereModificationChamps"]
        )
    states = {d["state"] for d in two_hundred_fifty().dossiers}
    assert states == {"en_construction", "en_instruction"}


def test_fixtures_are_deterministic_per_number_and_seed():
    assert fixtures.build_dossier(20240005) == fixtures.build_dossier(20240005)
    assert fixtures.build_demarche(count=3).dossiers[2] == fixtures.build_dossier(20240003).dossier
    assert fixtures.build_dossier(20240005, seed=1) != fixtures.build_dossier(20240005)


def test_unmappable_variants_break_what_they_say():
    dossier = fixtures.build_dossier(20240001).dossier
    three = fixtures.unmappable(dossier, "amount_three_decimals")
    amounts = [c["stringValue"] for c in fixtures.all_champs(three) if c["label"] == "Montant (€)"]
    assert amounts[0] == "1200.505"
    missing = fixtures.unmappable(dossier, "champ_missing")
    assert fixtures.find_champ(missing, fixtures.PROJECT_TITLE) is None
    bad = fixtures.unmappable(dossier, "siret_luhn")["demandeur"]["siret"]
    assert not fixtures.luhn_is_valid(bad) and siren_is_valid(bad[:9])
    assert fixtures.find_champ(dossier, fixtures.PROJECT_TITLE) is not None  # copies


# --- as a process ---------------------------------------------------------------------------------


def test_the_process_prints_its_address_once_it_answers():
    command = [sys.executable, "-m", "tests.fakes.ds", "--port", "0", "--dossiers", "3"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        url = re.fullmatch(r"ds fake listening on (http://127\.0\.0\.1:\d+)", line)
        assert url, line
        health = httpx.get(f"{url.group(1)}/_fake/health", timeout=5)
        assert health.json() == {"ok": True, "demarche": DEMARCHE}
    finally:
        process.terminate()
        process.wait(timeout=10)
