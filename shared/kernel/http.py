"""HTTP conventions of every service: errors mapped once, health and metrics routes."""

from collections.abc import Sequence
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from shared.kernel import outages
from shared.kernel.eventstore import StoredEvent
from shared.kernel.metrics import event_name, exposition
from shared.language.errors import DomainError, Invalid


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def _context(ctx: dict[str, Any] | None) -> dict[str, str | int | float | bool]:
    """What a refusal depends on (a maximum length, the values allowed), as JSON can say it."""
    return {
        k: v if isinstance(v, (int, float, bool)) else str(v)
        for k, v in (ctx or {}).items()
        if isinstance(v, (str, int, float, bool, Decimal))
    }


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field(tuple(e.get("loc", ()))),
            "type": str(e.get("type", "invalid")),
            "reason": str(e.get("msg", "")).removeprefix("Value error, "),
            "context": _context(e.get("ctx")),
        }
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return JSONResponse(
        status_code=422, content={"error": "invalid", "detail": detail, "errors": errors}
    )


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, Invalid):  # the shape of a body that does not read
        return JSONResponse(
            status_code=422,
            content={"error": "invalid", "detail": exc.detail, "errors": exc.errors},
        )
    return JSONResponse(
        status_code=exc.status,
        content={"error": exc.code, "reason": type(exc).__name__, "detail": exc.detail},
        headers=exc.headers or None,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own refusals (no such route, a method the route does not take, a body that
    cannot be read) in the services' shape."""
    assert isinstance(exc, HTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed(request))
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": "http", "reason": phrase.replace(" ", ""), "detail": detail},
        headers=headers or None,
    )


def _allowed(request: Request) -> list[str]:
    """Every method some route of this path takes (Starlette names only the first route's, and
    a path may have a GET and a POST in two routes)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=503, content=outages.unavailable_body(exc), headers=outages.headers()
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(DomainError, _refused)
    app.add_exception_handler(HTTPException, _http_error)
    for outage in outages.DATABASE_AWAY:
        app.add_exception_handler(outage, _unavailable)


def operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz")
    async def alive() -> dict[str, str]:
        """The process answers: restart it when it does not."""
        return {"status": "alive"}

    @router.get("/readyz")
    async def ready(request: Request) -> JSONResponse:
        """Its database and Kafka answer, its consumers are in their groups: send it traffic."""
        runtime = request.app.state.runtime
        checks = await runtime.readiness()
        status = 200 if all(checks.values()) else 503
        return JSONResponse(
            status_code=status,
            content={"ready": status == 200, "checks": checks, "partitions": runtime.partitions()},
        )

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        return exposition(request.app.state.metrics_registry)

    return router


def recorded(stored: Sequence[StoredEvent]) -> dict[str, Any]:
    """The answer of a command: the events it recorded, as an integrator will read them."""
    return {
        "recorded": [
            {
                "type": event_name(s.event_type),
                "event_id": str(s.event_id),
                "version": s.version,
                "data": s.data,
            }
            for s in stored
        ]
    }
