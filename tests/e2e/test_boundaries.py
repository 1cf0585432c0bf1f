"""The role × binding × route matrix, generated from the services' own OpenAPI documents: every
operation on a dossier, and every campaign-wide read, asked by the binding that owns a dossier
and by bindings that do not (another collectivité, another département's préfecture, a
committee member not named on it) — no cross-boundary success: never a 2xx on the dossier's
routes for those outside, never the dossier in a list they read."""

from typing import Any

import httpx
import pytest

from shared.language.actors import Role
from tests.e2e.conftest import SERVICES, Platform
from tests.e2e.steps import Journey
from tests.factories import random_siren
from tests.helpers import bearer

pytestmark = pytest.mark.e2e

OUTSIDERS: dict[str, tuple[Role, dict[str, str]]] = {
    "another collectivité": (Role.applicant, {"siren": random_siren()}),
    "another département's préfecture": (Role.prefecture, {"departement": "13"}),
    "a committee member not named": (Role.reviewer, {"subject": "nobody@mildeca.test"}),
}
PLACEHOLDERS = {  # the other path parameters: ids of nothing (the dossier's own are what counts)
    "attachment_id": "00000000-0000-4000-8000-000000000000",
    "event_id": "00000000-0000-4000-8000-000000000000",
    "message_id": "00000000-0000-4000-8000-000000000000",
    "format": "csv",
}


async def operations(platform: Platform, service: str) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(timeout=30) as client:
        document = (await client.get(platform.url(service, "/openapi.json"))).json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def concrete(path: str, j: Journey) -> str | None:
    """The operation's path for the journey's dossier and campaign, or None when it is about
    something else (a draft, a session, a dotation: no dossier of this journey's there)."""
    filled = path.replace("{dossier_id}", j.dossier_id).replace("{campaign_id}", j.campaign)
    for name, value in PLACEHOLDERS.items():
        filled = filled.replace("{" + name + "}", value)
    return None if "{" in filled else filled


async def asked(
    platform: Platform, service: str, method: str, path: str, role: Role, binding: dict[str, str]
) -> httpx.Response:
    headers = bearer(platform.settings, role, **binding)
    body: dict[str, Any] | None = {} if method != "GET" else None
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.request(method, platform.url(service, path), headers=headers, json=body)


async def test_no_route_of_any_service_lets_a_binding_outside_the_dossier_reach_it(
    platform: Platform,
) -> None:
    j = await Journey(platform).file()
    await j.checked()
    await j.opinion()
    await j.assess()
    await j.decide()
    crossed: list[str] = []
    asked_count, owner_reached = 0, 0
    for service in SERVICES:
        for method, template in await operations(platform, service):
            path = concrete(template, j)
            if path is None or (j.dossier_id not in path and method != "GET"):
                continue  # a campaign-wide command (a filing, a session, a dotation) is no reach
            if method == "GET" and j.dossier_id in path:  # the matrix's other side: the owner
                owner = await asked(
                    platform, service, method, path, Role.applicant, {"siren": j.siren}
                )
                owner_reached += owner.is_success
            for who, (role, binding) in OUTSIDERS.items():
                answer = await asked(platform, service, method, path, role, binding)
                asked_count += 1
                if answer.is_success and (
                    j.dossier_id in path
                    or j.reference in answer.text
                    or j.dossier_id in answer.text
                ):
                    crossed.append(f"{who}: {method} {service}{path} → {answer.status_code}")
    assert asked_count > 100 and owner_reached >= 5, (asked_count, owner_reached)
    assert not crossed, "\n".join(crossed)


async def test_the_binding_that_owns_the_dossier_reads_it_on_every_service(
    platform: Platform,
) -> None:
    j = await Journey(platform).file()
    await j.checked()
    for service in ("applications", "selection"):
        for role, binding in (
            (Role.applicant, {"siren": j.siren}),
            (Role.prefecture, {"departement": j.departement}),
        ):
            answer = await asked(
                platform, service, "GET", f"/dossiers/{j.dossier_id}", role, binding
            )
            assert answer.status_code == 200, f"{service} as {role.value}: {answer.text}"
