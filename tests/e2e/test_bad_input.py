"""Input no service takes, sent to the running services: each answer is a 422 naming the field
and its reason, never a server error, and nothing is stored."""

from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.factories import eligible_dossier
from tests.helpers import bearer

HUGE = ["1e30", "9" * 27, "1" + "0" * 26 + ".00", "12345678901", "1E+3"]

SCORES = {
    "adequacy": 4,
    "innovation": 3,
    "team_competence": 4,
    "methodology": 4,
    "partnership": 5,
    "prefecture_opinion": 5,
}


def _with(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    *parents, last = path
    node: Any = body
    for key in parents:
        node = node[key]
    node[last] = value
    return body


def filing(
    path: tuple[Any, ...], value: Any
) -> tuple[str, str, dict[str, Any], Role, dict[str, str]]:
    dossier = eligible_dossier()
    siren = dossier["applicant"]["siren"]
    return (
        "applications",
        "/campaigns/demo/dossiers",
        _with(dossier, path, value),
        Role.applicant,
        {"siren": siren},
    )


# Every amount a client sends: (service, route, body, role, binding), and the field it names.
def amounts(value: str) -> list[tuple[tuple[str, str, dict[str, Any], Role, dict[str, str]], str]]:
    d = uuid4()
    return [
        (filing(("requested_eur",), value), "requested_eur"),
        (filing(("budget", "total_cost_eur"), value), "budget.total_cost_eur"),
        (filing(("budget", "lines", 0, "amount_eur"), value), "budget.lines.0.amount_eur"),
        (
            (
                "selection",
                f"/dossiers/{d}/assessment",
                {"scores": SCORES, "proposed_eur": value, "comment": "x"},
                Role.instructor,
                {},
            ),
            "proposed_eur",
        ),
        (
            (
                "selection",
                f"/dossiers/{d}/decision",
                {"outcome": "selected", "granted_eur": value, "motivation": "x"},
                Role.president,
                {},
            ),
            "granted_eur",
        ),
        (
            (
                "payments",
                f"/dossiers/{d}/final-report",
                {"justified_spending_eur": value, "summary": "x"},
                Role.applicant,
                {"siren": eligible_dossier()["applicant"]["siren"]},
            ),
            "justified_spending_eur",
        ),
    ]


async def send(
    platform: Platform, service: str, path: str, body: Any, role: Role, binding: dict[str, str]
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            platform.url(service, path),
            json=body,
            headers=bearer(platform.settings, role, **binding),
        )


@pytest.mark.parametrize("value", HUGE)
async def test_a_huge_amount_is_refused_naming_its_field_in_every_amount_of_every_route(
    platform: Platform, value: str
):
    for (service, path, body, role, binding), field in amounts(value):
        answer = await send(platform, service, path, body, role, binding)
        assert answer.status_code == 422, f"{service} {path} {field}={value}: {answer.text}"
        errors = answer.json()["errors"]
        assert field in [e["field"] for e in errors], (field, errors)
        assert all(e["reason"] for e in errors)


async def test_a_nul_character_in_a_query_parameter_is_refused_naming_it(platform: Platform):
    headers = bearer(platform.settings, Role.instructor)
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.get(
            platform.url("applications", "/dossiers?campaign_id=%00"), headers=headers
        )
        in_path = await client.get(
            platform.url("selection", "/campaigns/%00/ranking"), headers=headers
        )
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["campaign_id"]
    assert in_path.status_code == 422, in_path.text
    assert [e["field"] for e in in_path.json()["errors"]] == ["campaign_id"]


async def test_a_nul_character_in_a_text_is_refused_naming_its_field_and_nothing_is_filed(
    platform: Platform,
):
    service, path, body, role, binding = filing(("project", "title"), "Plan\u0000 jeunesse")
    answer = await send(platform, service, path, body, role, binding)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["project.title"]
    async with httpx.AsyncClient(timeout=30) as client:
        mine = await client.get(
            platform.url("applications", "/dossiers"),
            headers=bearer(platform.settings, role, **binding),
        )
    assert mine.json() == []


async def test_a_body_that_is_not_utf8_is_refused_with_the_services_error_shape(
    platform: Platform,
):
    dossier = eligible_dossier()
    headers = {
        **bearer(platform.settings, Role.applicant, siren=dossier["applicant"]["siren"]),
        "content-type": "application/json",
    }
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            platform.url("applications", "/campaigns/demo/dossiers"),
            content=b'{"x": "\xff\xfe"}',
            headers=headers,
        )
    assert answer.status_code in (400, 422), answer.text
    assert set(answer.json()) >= {"error", "detail"}
