"""What the OpenAPI documents say of every route, exactly: the bodies of its refusals, the
statuses each kind of route answers, the Idempotency-Key of commands, the links between them.

Every service answers its errors in one of three shapes (shared/kernel/http.py maps them):
a refusal `{error, reason, detail}` (400, 401, 403, 404, 405, 409), invalid input `{error,
detail, errors: [{field, reason}]}` (422), and the database away (503, with Retry-After).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from shared.kernel.idempotency import HEADER, KEY_PATTERN


class Refusal(BaseModel):
    """A request the service refuses: what kind, which rule (its name), and why in words."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(examples=["refused"])
    reason: str = Field(examples=["CallClosed"])
    detail: str


class FieldError(BaseModel):
    """One field refused: where, of what kind (stable: pydantic's error types, and aap's own such
    as `amount_negative`, `text_empty`, `siren_invalid`), why in words, and what it depends on."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(examples=["budget.lines.0.amount_eur"])
    type: str = Field(examples=["amount_negative", "missing", "string_too_long"])
    reason: str
    context: dict[str, str | int | float | bool] = Field(
        default_factory=dict, examples=[{"max_length": 200}]
    )


class Invalid(BaseModel):
    """Input that is not what the route takes: each field named, with its reason."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(examples=["invalid"])
    detail: str
    errors: list[FieldError]


class RecordedEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(examples=["ApplicationSubmitted"])
    event_id: str = Field(json_schema_extra={"format": "uuid"})
    version: int = Field(ge=1, description="the event's place in the dossier's stream")
    data: dict[str, Any] = Field(description="the event's payload, as published")


class Recorded(BaseModel):
    """The answer of every command: the events it recorded."""

    model_config = ConfigDict(extra="forbid")

    recorded: list[RecordedEvent]


_WHY = {
    400: ("Refusal", "the body cannot be read (not UTF-8)"),
    401: ("Refusal", "no bearer token, or one the service does not accept"),
    403: ("Refusal", "the actor's role may not do this"),
    404: ("Refusal", "no such resource, or one outside the actor's binding (alike)"),
    409: ("Refusal", "a rule of the call refuses it in the dossier's present state"),
    422: ("Invalid", "the input is not what the route takes: each field with its reason"),
    503: ("Refusal", "the service's database does not answer: try again after Retry-After"),
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route for these error statuses, with their bodies."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        shape, why = _WHY[status]
        answer: dict[str, Any] = {"model": Invalid if shape == "Invalid" else Refusal,
                                  "description": why}  # fmt: skip
        if status == 503:
            answer["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                 "description": "seconds"}}  # fmt: skip
        if status == 401:
            answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        documented[status] = answer
    return documented


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            pattern=KEY_PATTERN,
            description="the same key and body answer the first answer and record nothing; "
            "the same key with another body is refused (422)",
        ),
    ] = None,
) -> str | None:
    return key


def link_to(operation: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation, "parameters": parameters}


def command(
    *, links: dict[str, dict[str, Any]] | None = None, answer: type[BaseModel] = Recorded
) -> dict[str, Any]:
    """The decorator arguments of a command route: 201 with the events recorded, its refusals,
    the Idempotency-Key header, and where its answer leads."""
    created: dict[str, Any] = {"description": "the events recorded"}
    if links:
        created["links"] = links
    return {
        "status_code": 201,
        "response_model": answer,
        "dependencies": [Depends(idempotency_key)],
        "responses": {201: created, **errors(400, 401, 403, 404, 409, 422, 503)},
    }


# A read of one resource, and of a list (whose filters may be invalid).
# 403: a role the route is not for (a committee member reads through the committee's routes only).
READ_ONE: dict[str, Any] = {"responses": errors(401, 403, 404, 422, 503)}
READ_MANY: dict[str, Any] = {"responses": errors(401, 403, 422, 503)}


def operation_name(route: APIRoute) -> str:
    """A route's operationId is its function's name: `read_dossier`, what links point to."""
    return route.name


def api_router() -> APIRouter:
    """The router of a service's routes, with operationIds a person (and a link) can name."""
    return APIRouter(generate_unique_id_function=operation_name)
