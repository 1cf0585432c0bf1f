"""A client that retries a command with its Idempotency-Key gets the first answer and files nothing
twice: on the running services, over HTTP, with the real database."""

import asyncio
import json
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.factories import eligible_dossier
from tests.helpers import bearer

FILE = "/campaigns/demo/dossiers"


async def post(
    platform: Platform,
    path: str,
    body: dict[str, Any] | bytes,
    headers: dict[str, str],
    key: str | None,
    service: str = "applications",
) -> httpx.Response:
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            platform.url(service, path),
            content=content,
            headers={**headers, "content-type": "application/json"},
        )


async def filed(platform: Platform, siren: str) -> list[str]:
    """The dossiers the SIREN filed, in the applications' event store: a command's answer comes
    after its commit, so what is there is all there is."""
    conn = await asyncpg.connect(platform.settings.admin_dsn("applications"))
    try:
        rows = await conn.fetch(
            "SELECT stream_id FROM events WHERE event_type LIKE $1"
            " AND data->'dossier'->'applicant'->>'siren' = $2",
            "%.ApplicationSubmitted.%",
            siren,
        )
    finally:
        await conn.close()
    return [r["stream_id"] for r in rows]


async def test_a_filing_retried_with_its_key_answers_the_first_answer_and_files_once(
    platform: Platform,
):
    # given a commune that files its dossier with a key
    dossier, key = eligible_dossier(), str(uuid4())
    siren = dossier["applicant"]["siren"]
    applicant = bearer(platform.settings, Role.applicant, siren=siren)
    first = await post(platform, FILE, dossier, applicant, key)
    assert first.status_code == 201, first.text
    # when its client, having timed out, sends the same request again
    again = await post(platform, FILE, dossier, applicant, key)
    # then it gets the first answer, said to be a replay, and one dossier only is filed
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert await filed(platform, siren) == [first.json()["dossier_id"]]


async def test_the_same_key_with_another_body_is_refused_naming_the_header_and_records_nothing(
    platform: Platform,
):
    dossier, key = eligible_dossier(), str(uuid4())
    siren = dossier["applicant"]["siren"]
    applicant = bearer(platform.settings, Role.applicant, siren=siren)
    first = await post(platform, FILE, dossier, applicant, key)
    assert first.status_code == 201, first.text
    changed = {**dossier, "requested_eur": "150000.00"}
    refused = await post(platform, FILE, changed, applicant, key)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["Idempotency-Key"]
    assert len(await filed(platform, siren)) == 1


async def test_retries_at_the_same_instant_file_once_and_all_answer_the_same(platform: Platform):
    dossier, key = eligible_dossier(), str(uuid4())
    siren = dossier["applicant"]["siren"]
    applicant = bearer(platform.settings, Role.applicant, siren=siren)
    answers = await asyncio.gather(
        *(post(platform, FILE, dossier, applicant, key) for _ in range(6))
    )
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({a.json()["dossier_id"] for a in answers}) == 1
    assert len(await filed(platform, siren)) == 1


async def test_a_key_belongs_to_whoever_sent_it(platform: Platform):
    # two communes whose clients happen to use the same key each file their own dossier
    key = str(uuid4())
    answers = []
    for dossier in (eligible_dossier(), eligible_dossier()):
        siren = dossier["applicant"]["siren"]
        token = bearer(platform.settings, Role.applicant, siren=siren)
        answers.append(await post(platform, FILE, dossier, token, key))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["dossier_id"] != answers[1].json()["dossier_id"]
    assert "idempotent-replayed" not in answers[1].headers


async def test_a_withdrawal_retried_with_its_key_is_answered_as_the_first_not_refused(
    platform: Platform,
):
    dossier = eligible_dossier()
    siren = dossier["applicant"]["siren"]
    applicant = bearer(platform.settings, Role.applicant, siren=siren)
    filed = await post(platform, FILE, dossier, applicant, None)
    path, key = f"/dossiers/{filed.json()['dossier_id']}/withdrawal", str(uuid4())
    reason = {"reason": "Le conseil municipal a retiré le projet."}
    first = await post(platform, path, reason, applicant, key)
    again = await post(platform, path, reason, applicant, key)
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    # without the key, a second withdrawal is what it is: refused
    third = await post(platform, path, reason, applicant, None)
    assert (third.status_code, third.json()["reason"]) == (409, "AlreadyWithdrawn")


async def test_a_refused_command_is_not_kept_under_its_key(platform: Platform):
    # a filing refused (for another SIREN) records nothing; the same key may then be used for the
    # corrected request
    dossier, key = eligible_dossier(), str(uuid4())
    siren = dossier["applicant"]["siren"]
    stranger = bearer(
        platform.settings, Role.applicant, siren=eligible_dossier()["applicant"]["siren"]
    )
    refused = await post(platform, FILE, dossier, stranger, key)
    assert refused.status_code == 403
    applicant = bearer(platform.settings, Role.applicant, siren=siren)
    assert (await post(platform, FILE, dossier, applicant, key)).status_code == 201


async def test_a_malformed_key_is_refused_naming_the_header(platform: Platform):
    dossier = eligible_dossier()
    applicant = bearer(platform.settings, Role.applicant, siren=dossier["applicant"]["siren"])
    answer = await post(platform, FILE, dossier, applicant, "a key with spaces")
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["Idempotency-Key"]
    assert await filed(platform, dossier["applicant"]["siren"]) == []
