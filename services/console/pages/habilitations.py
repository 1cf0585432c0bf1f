"""The habilitations, read-only: who aap lets act as what (they are managed with `aap
habilitations`)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.console import habilitations
from services.console.context import ConsoleDep, PersonDep, page, require
from shared.language.actors import Role

router = APIRouter(include_in_schema=False)


@router.get("/habilitations")
async def listed(request: Request, person: PersonDep, console: ConsoleDep) -> Response:
    require(person, Role.prefecture, Role.instructor, Role.president, Role.auditor)
    async with console.pool.acquire() as conn:
        rows = await habilitations.listed(conn)
    return page(request, "habilitations.html", person=person, habilitations=rows)
