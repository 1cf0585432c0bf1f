"""Exports asked of the running services, as a given role."""

from typing import Any

import httpx

from shared.language.actors import Role
from tests.e2e.conftest import Platform
from tests.factories import random_siren
from tests.helpers import bearer


async def get(
    platform: Platform,
    path: str,
    role: Role = Role.auditor,
    service: str = "selection",
    bound_to: str = "59",  # a préfecture's département
    **params: str,
) -> Any:
    binding = {"siren": random_siren()} if role is Role.applicant else {}
    if role is Role.prefecture:
        binding = {"departement": bound_to}
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.get(
            platform.url(service, path),
            params=params,
            headers=bearer(platform.settings, role, **binding),
        )
