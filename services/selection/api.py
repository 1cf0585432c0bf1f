"""HTTP routes of the selection service (read side for now)."""

import json
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends

from shared.app import runtime_of
from shared.errors import NotFound
from shared.runtime import Runtime

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get("/dossiers/{dossier_id}")
async def read_dossier(dossier_id: UUID, rt: RuntimeDep) -> dict[str, Any]:
    async with rt.db().acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM selection_dossiers WHERE dossier_id = $1", dossier_id)
    if row is None:
        raise NotFound(f"selection knows no dossier {dossier_id} (yet)")
    out = dict(row)
    out["failed_rules"] = json.loads(out["failed_rules"]) if out["failed_rules"] else None
    return {k: (str(v) if v is not None and not isinstance(v, str | bool | list) else v)
            for k, v in out.items()}
